// The ZVT serial transport state machine (PA00P016 §3.2-3.5), driven by events only.
#include "protocol/zvt/serial_transport.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace pb::zvt {
namespace {

using namespace serial;

using Actions = std::vector<SerialAction>;

Bytes hex(std::string_view s) {
    auto b = from_hex(s);
    EXPECT_TRUE(b.has_value()) << s;
    return b.value_or(Bytes{});
}

Actions feed(SerialTransport& t, const Bytes& bytes) { return t.step(BytesReceived{bytes}); }

template <class A>
std::vector<A> all(const Actions& actions) {
    std::vector<A> r;
    for (const auto& a : actions)
        if (auto* p = std::get_if<A>(&a)) r.push_back(*p);
    return r;
}
template <class A>
std::optional<A> only(const Actions& actions) {
    auto r = all<A>(actions);
    EXPECT_LE(r.size(), 1u);
    if (r.empty()) return std::nullopt;
    return r.front();
}
// The written bytes, concatenated.
Bytes written(const Actions& actions) {
    Bytes out;
    for (const auto& w : all<WriteBytes>(actions)) out.insert(out.end(), w.bytes.begin(), w.bytes.end());
    return out;
}
std::uint64_t t2_generation(const Actions& actions) {
    for (const auto& s : all<StartTimer>(actions))
        if (s.timer == SerialTimer::t2) return s.generation;
    ADD_FAILURE() << "no T2 started";
    return 0;
}
bool cancels(const Actions& actions, SerialTimer t) {
    for (const auto& c : all<CancelTimer>(actions))
        if (c.timer == t) return true;
    return false;
}

const Bytes kAck80 = {0x80, 0x00, 0x00};
// [ZVT-TP] §3 frame of 80 00 00 (calc, protocols/zvt.md).
const char* kAck80Frame = "10 02 80 00 00 10 03 F5 1F";
// Captured completion with SW version (ecrterm test_parsing.py test_version_completion).
const char* kCompletionFrame = "10 02 06 0F 0B F0 F0 F7 32 2E 31 34 2E 31 35 00 10 03 B1 11";
// Refund with a stuffed DLE in the amount (protocols/zvt.md).
const char* kRefundFrame = "10 02 06 31 0D 12 34 56 04 00 00 00 00 10 10 00 49 09 78 10 03 58 C1";

// ---- sending --------------------------------------------------------------------------------

TEST(SerialTransportSend, WritesFrameAndStartsT2) {
    SerialTransport t;
    Actions a = t.step(SendApdu{7, kAck80});
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(std::get<WriteBytes>(a[0]).bytes, hex(kAck80Frame));
    const auto& s = std::get<StartTimer>(a[1]);
    EXPECT_EQ(s.timer, SerialTimer::t2);
    EXPECT_EQ(s.ms, 5000u);
    EXPECT_TRUE(t.awaiting_ack());
}

TEST(SerialTransportSend, AckCompletesSend) {
    SerialTransport t;
    (void)t.step(SendApdu{7, kAck80});
    Actions a = feed(t, {ACK});
    EXPECT_TRUE(cancels(a, SerialTimer::t2));
    ASSERT_TRUE(only<SendDone>(a));
    EXPECT_EQ(only<SendDone>(a)->id, 7u);
    EXPECT_TRUE(written(a).empty());  // no ACK to an ACK (§3.2)
    EXPECT_FALSE(t.awaiting_ack());
    EXPECT_EQ(t.stats().acks_received, 1u);
}

TEST(SerialTransportSend, NakRepeatsTwiceThenTransmissionError) {
    SerialTransport t;
    const Bytes frame = written(t.step(SendApdu{1, kAck80}));
    for (int repeat = 1; repeat <= 2; ++repeat) {
        Actions a = feed(t, {NAK});
        EXPECT_EQ(written(a), frame) << "repeat " << repeat;
        EXPECT_NE(t2_generation(a), 0u);
        EXPECT_FALSE(only<SendFailed>(a));
    }
    Actions a = feed(t, {NAK});
    EXPECT_TRUE(written(a).empty());
    EXPECT_TRUE(cancels(a, SerialTimer::t2));
    auto f = only<SendFailed>(a);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->id, 1u);
    EXPECT_EQ(f->reason, SendFailure::transmission_error);
    EXPECT_EQ(f->detail, "3 attempts: NAK, NAK, NAK");
    EXPECT_EQ(t.stats().repeats, 2u);
    EXPECT_EQ(t.stats().naks_received, 3u);
    EXPECT_EQ(t.stats().transmission_errors, 1u);
    EXPECT_FALSE(t.awaiting_ack());
}

TEST(SerialTransportSend, T2RepeatsTwiceThenTransmissionError) {
    SerialTransport t;
    Actions a = t.step(SendApdu{1, kAck80});
    const Bytes frame = written(a);
    for (int repeat = 1; repeat <= 2; ++repeat) {
        a = t.step(TimerExpired{SerialTimer::t2, t2_generation(a)});
        EXPECT_EQ(written(a), frame) << "repeat " << repeat;
    }
    a = t.step(TimerExpired{SerialTimer::t2, t2_generation(a)});
    auto f = only<SendFailed>(a);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->detail, "3 attempts: T2, T2, T2");
    EXPECT_EQ(t.stats().t2_expiries, 3u);
    EXPECT_TRUE(written(a).empty());
}

TEST(SerialTransportSend, MixedNakAndT2ThenAckSucceeds) {
    SerialTransport t;
    Actions a = t.step(SendApdu{3, kAck80});
    a = feed(t, {NAK});
    a = t.step(TimerExpired{SerialTimer::t2, t2_generation(a)});
    EXPECT_FALSE(written(a).empty());
    a = feed(t, {ACK});
    ASSERT_TRUE(only<SendDone>(a));
    EXPECT_EQ(t.stats().repeats, 2u);
    EXPECT_EQ(t.stats().transmission_errors, 0u);
}

TEST(SerialTransportSend, ZeroRepeatsFailsOnFirstNak) {
    SerialTransport t({.max_repeats = 0});
    (void)t.step(SendApdu{1, kAck80});
    auto f = only<SendFailed>(feed(t, {NAK}));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->detail, "1 attempt: NAK");
}

TEST(SerialTransportSend, StaleT2ExpiryIsIgnored) {
    SerialTransport t;
    Actions a = t.step(SendApdu{1, kAck80});
    const auto first = t2_generation(a);
    a = feed(t, {NAK});  // restarts T2 with a new generation
    EXPECT_TRUE(t.step(TimerExpired{SerialTimer::t2, first}).empty());
    (void)feed(t, {ACK});
    // The expiry of the restarted T2 raced with the ACK: nothing to do.
    EXPECT_TRUE(t.step(TimerExpired{SerialTimer::t2, t2_generation(a)}).empty());
    EXPECT_EQ(t.stats().t2_expiries, 0u);
}

TEST(SerialTransportSend, SecondSendWaitsForAckOfFirst) {
    SerialTransport t;
    (void)t.step(SendApdu{1, kAck80});
    Actions a = t.step(SendApdu{2, hex("06 B0 00")});
    EXPECT_TRUE(a.empty());
    EXPECT_EQ(t.queued_sends(), 1u);
    a = feed(t, {ACK});
    EXPECT_EQ(only<SendDone>(a)->id, 1u);
    EXPECT_EQ(written(a), encode_serial_frame(hex("06 B0 00")));
    a = feed(t, {ACK});
    EXPECT_EQ(only<SendDone>(a)->id, 2u);
}

TEST(SerialTransportSend, QueuedSendStartsAfterTransmissionError) {
    SerialTransport t({.max_repeats = 0});
    (void)t.step(SendApdu{1, kAck80});
    (void)t.step(SendApdu{2, kAck80});
    Actions a = feed(t, {NAK});
    EXPECT_EQ(only<SendFailed>(a)->id, 1u);
    EXPECT_EQ(written(a), hex(kAck80Frame));
    EXPECT_TRUE(t.awaiting_ack());
}

TEST(SerialTransportSend, StrayAckAndNakAreCountedAndIgnored) {
    SerialTransport t;
    EXPECT_TRUE(feed(t, {ACK, NAK}).empty());
    EXPECT_EQ(t.stats().stray_acks, 2u);
}

TEST(SerialTransportSend, LinkResetFailsInflightAndQueued) {
    SerialTransport t;
    (void)t.step(SendApdu{1, kAck80});
    (void)t.step(SendApdu{2, kAck80});
    Actions a = t.step(LinkReset{});
    EXPECT_TRUE(cancels(a, SerialTimer::t2));
    auto f = all<SendFailed>(a);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].id, 1u);
    EXPECT_EQ(f[1].id, 2u);
    EXPECT_EQ(f[0].reason, SendFailure::link_reset);
    EXPECT_FALSE(t.awaiting_ack());
    EXPECT_EQ(t.queued_sends(), 0u);
}

// ---- receiving ------------------------------------------------------------------------------

TEST(SerialTransportReceive, GoodFrameIsAckedThenDelivered) {
    SerialTransport t;
    Actions a = feed(t, hex(kCompletionFrame));
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(std::get<WriteBytes>(a[0]).bytes, Bytes{ACK});
    EXPECT_EQ(std::get<DeliverApdu>(a[1]).apdu, hex("06 0F 0B F0 F0 F7 32 2E 31 34 2E 31 35 00"));
    EXPECT_EQ(t.stats().frames_received, 1u);
    EXPECT_EQ(t.partial_bytes(), 0u);
}

TEST(SerialTransportReceive, EverySplitDeliversOnceAndRunsT1WhileIncomplete) {
    for (const char* golden : {kCompletionFrame, kRefundFrame, kAck80Frame}) {
        const Bytes frame = hex(golden);
        for (std::size_t cut = 1; cut < frame.size(); ++cut) {
            SerialTransport t;
            Actions a = feed(t, Bytes(frame.begin(), frame.begin() + static_cast<long>(cut)));
            ASSERT_EQ(all<StartTimer>(a).size(), 1u) << golden << " cut " << cut;
            EXPECT_EQ(all<StartTimer>(a)[0].timer, SerialTimer::t1);
            EXPECT_EQ(all<StartTimer>(a)[0].ms, 200u);
            EXPECT_TRUE(all<DeliverApdu>(a).empty());
            a = feed(t, Bytes(frame.begin() + static_cast<long>(cut), frame.end()));
            EXPECT_TRUE(cancels(a, SerialTimer::t1)) << golden << " cut " << cut;
            EXPECT_EQ(all<DeliverApdu>(a).size(), 1u);
            EXPECT_EQ(written(a), Bytes{ACK});
        }
    }
}

TEST(SerialTransportReceive, ByteByByteRestartsT1OnEveryByte) {
    SerialTransport t;
    const Bytes frame = hex(kRefundFrame);
    std::size_t starts = 0;
    Actions last;
    for (std::uint8_t b : frame) {
        last = feed(t, {b});
        starts += all<StartTimer>(last).size();
    }
    EXPECT_EQ(starts, frame.size() - 1);
    ASSERT_EQ(all<DeliverApdu>(last).size(), 1u);
    EXPECT_EQ(all<DeliverApdu>(last)[0].apdu,
              hex("06 31 0D 12 34 56 04 00 00 00 00 10 00 49 09 78"));
}

TEST(SerialTransportReceive, CrcErrorIsNakedThenRepeatIsDelivered) {
    SerialTransport t;
    Bytes bad = hex(kCompletionFrame);
    bad.back() ^= 0x01;
    Actions a = feed(t, bad);
    EXPECT_EQ(written(a), Bytes{NAK});
    EXPECT_TRUE(all<DeliverApdu>(a).empty());
    EXPECT_EQ(t.stats().crc_errors, 1u);
    a = feed(t, hex(kCompletionFrame));
    EXPECT_EQ(written(a), Bytes{ACK});
    EXPECT_EQ(all<DeliverApdu>(a).size(), 1u);
}

TEST(SerialTransportReceive, T1ExpiryInsideFrameNaksAndDiscards) {
    SerialTransport t;
    const Bytes frame = hex(kCompletionFrame);
    Actions a = feed(t, Bytes(frame.begin(), frame.begin() + 6));
    const auto g = all<StartTimer>(a).at(0).generation;
    a = t.step(TimerExpired{SerialTimer::t1, g});
    EXPECT_EQ(written(a), Bytes{NAK});
    EXPECT_EQ(t.partial_bytes(), 0u);
    EXPECT_EQ(t.stats().t1_expiries, 1u);
    // The rest of the stalled frame arrives late: garbage, then the sender's repeat is taken.
    a = feed(t, Bytes(frame.begin() + 6, frame.end()));
    EXPECT_TRUE(all<DeliverApdu>(a).empty());
    a = feed(t, frame);
    EXPECT_EQ(all<DeliverApdu>(a).size(), 1u);
}

TEST(SerialTransportReceive, StaleT1ExpiryAfterCompletionIsIgnored) {
    SerialTransport t;
    const Bytes frame = hex(kAck80Frame);
    Actions a = feed(t, Bytes(frame.begin(), frame.begin() + 3));
    const auto g = all<StartTimer>(a).at(0).generation;
    (void)feed(t, Bytes(frame.begin() + 3, frame.end()));
    EXPECT_TRUE(t.step(TimerExpired{SerialTimer::t1, g}).empty());
}

TEST(SerialTransportReceive, LoneDleThatTimesOutIsGarbageNotNak) {
    SerialTransport t;
    Actions a = feed(t, {DLE});
    a = t.step(TimerExpired{SerialTimer::t1, all<StartTimer>(a).at(0).generation});
    EXPECT_TRUE(written(a).empty());
    EXPECT_EQ(t.stats().garbage_bytes, 1u);
}

TEST(SerialTransportReceive, GarbageIsCountedNotNaked) {
    SerialTransport t;
    Bytes in = hex("41 42 43");
    const Bytes frame = hex(kAck80Frame);
    in.insert(in.end(), frame.begin(), frame.end());
    Actions a = feed(t, in);
    EXPECT_EQ(written(a), Bytes{ACK});
    EXPECT_EQ(all<DeliverApdu>(a).size(), 1u);
    EXPECT_EQ(t.stats().garbage_bytes, 3u);
    EXPECT_EQ(t.stats().naks_sent, 0u);
}

TEST(SerialTransportReceive, BrokenEscapeIsNaked) {
    SerialTransport t;
    Actions a = feed(t, hex("10 02 06 0F 10 41 00 10 03 00 00"));
    EXPECT_EQ(written(a).front(), NAK);
    EXPECT_TRUE(all<DeliverApdu>(a).empty());
    EXPECT_EQ(t.stats().bad_frames, 1u);
}

TEST(SerialTransportReceive, OversizedFrameIsNaked) {
    SerialTransport t({.max_apdu = 4});
    Actions a = feed(t, encode_serial_frame(hex("06 0F 03 01 02 03")));
    EXPECT_EQ(written(a).front(), NAK);
    EXPECT_TRUE(all<DeliverApdu>(a).empty());
}

TEST(SerialTransportReceive, AckForOurFrameFollowedByPeerFrameInOneRead) {
    // The common PT reply: ACK for our command, then its 80 00 00 frame, in one read.
    SerialTransport t;
    (void)t.step(SendApdu{9, hex("06 01 07 04 00 00 00 00 10 00")});
    Bytes in{ACK};
    const Bytes frame = hex(kAck80Frame);
    in.insert(in.end(), frame.begin(), frame.end());
    Actions a = feed(t, in);
    EXPECT_EQ(only<SendDone>(a)->id, 9u);
    EXPECT_EQ(written(a), Bytes{ACK});
    ASSERT_EQ(all<DeliverApdu>(a).size(), 1u);
    EXPECT_EQ(all<DeliverApdu>(a)[0].apdu, kAck80);
}

TEST(SerialTransportReceive, AckAndNakBytesInsideFrameAreData) {
    SerialTransport t;
    (void)t.step(SendApdu{1, kAck80});
    const Bytes apdu = hex("04 FF 02 06 15");
    Actions a = feed(t, encode_serial_frame(apdu));
    EXPECT_FALSE(only<SendDone>(a));
    EXPECT_EQ(all<DeliverApdu>(a).at(0).apdu, apdu);
    EXPECT_TRUE(t.awaiting_ack());
}

TEST(SerialTransportReceive, LinkResetDropsPartialFrame) {
    SerialTransport t;
    const Bytes frame = hex(kAck80Frame);
    (void)feed(t, Bytes(frame.begin(), frame.begin() + 4));
    Actions a = t.step(LinkReset{});
    EXPECT_TRUE(cancels(a, SerialTimer::t1));
    EXPECT_EQ(t.partial_bytes(), 0u);
}

}  // namespace
}  // namespace pb::zvt
