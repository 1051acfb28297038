// The ZVT APDU channel: TCP (arbitrary splits) and serial (ACK/NAK, T1/T2, repeats) against
// a raw peer that writes and reads bytes, over real loopback TCP and a real pty pair.
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <deque>
#include <optional>

#include "adapters/memory_link.hpp"
#include "adapters/serial_link.hpp"
#include "adapters/tcp_link.hpp"
#include "adapters/zvt_channel.hpp"
#include "protocol/zvt/serial_frame.hpp"
#include "tests/unit/adapters/io_test_util.hpp"

namespace pb::adapters {
namespace {

using namespace std::chrono_literals;
using test::run_until;

Bytes hex(std::string_view s) { return from_hex(s).value_or(Bytes{}); }

// The far end, speaking raw bytes: records everything it reads, writes what it is told.
class RawPeer {
public:
    explicit RawPeer(LinkPtr link) : link_(std::move(link)) { read(); }
    Bytes received;
    std::optional<error_code> read_error;

    void write(Bytes b) {
        auto data = std::make_shared<Bytes>(std::move(b));
        asio::async_write(*link_, asio::buffer(*data), [data](error_code ec, std::size_t) { EXPECT_FALSE(ec); });
    }
    // One write per byte, each after the previous completed: the reader sees every split.
    void write_byte_by_byte(Bytes b) {
        pending_.insert(pending_.end(), b.begin(), b.end());
        if (!dribbling_) dribble();
    }
    bool dribble_done() const { return pending_.empty() && !dribbling_; }
    Bytes take(std::size_t n) {
        Bytes r(received.begin(), received.begin() + static_cast<std::ptrdiff_t>(n));
        received.erase(received.begin(), received.begin() + static_cast<std::ptrdiff_t>(n));
        return r;
    }
    Link& link() { return *link_; }

private:
    void read() {
        link_->async_read_some(asio::buffer(buf_), [this](error_code ec, std::size_t n) {
            if (ec) {
                read_error = ec;
                return;
            }
            received.insert(received.end(), buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(n));
            read();
        });
    }
    void dribble() {
        if (pending_.empty()) {
            dribbling_ = false;
            return;
        }
        dribbling_ = true;
        byte_ = pending_.front();
        pending_.pop_front();
        link_->async_write_some(asio::buffer(&byte_, 1), [this](error_code ec, std::size_t) {
            ASSERT_FALSE(ec);
            dribble();
        });
    }
    LinkPtr link_;
    std::array<std::uint8_t, 512> buf_{};
    std::deque<std::uint8_t> pending_;
    std::uint8_t byte_ = 0;
    bool dribbling_ = false;
};

// Records what the channel reports.
struct Events {
    std::vector<zvt::Apdu> apdus;
    std::vector<std::pair<error_code, std::string>> errors;
    void attach(ApduChannel& ch) {
        ch.on_apdu([this](zvt::Apdu a) { apdus.push_back(std::move(a)); });
        ch.on_error([this](error_code ec, const std::string& d) { errors.emplace_back(ec, d); });
    }
};

// ---- TCP ------------------------------------------------------------------------------------

struct TcpSetup {
    asio::io_context io;
    std::unique_ptr<RawPeer> peer;
    std::unique_ptr<ApduChannel> channel;
    Events events;

    void open(TcpChannelOptions options = {}) {
        auto listener = TcpListener::open(io.get_executor(), "127.0.0.1", 0);
        ASSERT_TRUE(listener);
        LinkPtr server, client;
        (*listener)->async_accept([&](error_code ec, LinkPtr l) {
            ASSERT_FALSE(ec);
            server = std::move(l);
        });
        async_connect_tcp(io.get_executor(), "127.0.0.1", (*listener)->port(), 2000ms, [&](error_code ec, LinkPtr l) {
            ASSERT_FALSE(ec);
            client = std::move(l);
        });
        ASSERT_TRUE(run_until(io, [&] { return server && client; }));
        peer = std::make_unique<RawPeer>(std::move(server));
        channel = make_tcp_apdu_channel(std::move(client), options);
        events.attach(*channel);
        channel->start();
    }
};

TEST(TcpApduChannel, PeerWritingByteByByteYieldsWholeApdus) {
    TcpSetup t;
    ASSERT_NO_FATAL_FAILURE(t.open());
    Bytes stream = hex("80 00 00  04 FF 01 0A  06 0F 0B F0 F0 F7 32 2E 31 34 2E 31 35 00");
    zvt::Apdu big{0x06, 0xD3, Bytes(300, 0x41)};  // extended length FF 2C 01
    const Bytes big_bytes = zvt::encode_apdu(big);
    stream.insert(stream.end(), big_bytes.begin(), big_bytes.end());
    t.peer->write_byte_by_byte(stream);
    ASSERT_TRUE(run_until(t.io, [&] { return t.events.apdus.size() == 4; }));
    EXPECT_EQ(t.events.apdus[0], (zvt::Apdu{0x80, 0x00, {}}));
    EXPECT_EQ(t.events.apdus[1], (zvt::Apdu{0x04, 0xFF, {0x0A}}));
    EXPECT_EQ(t.events.apdus[2].control(), 0x060F);
    EXPECT_EQ(t.events.apdus[2].data.size(), 11u);
    EXPECT_EQ(t.events.apdus[3], big);
    EXPECT_TRUE(t.events.errors.empty());
    EXPECT_EQ(t.channel->stats().apdus_received, 4u);
    EXPECT_EQ(t.channel->stats().bytes_received, stream.size());
}

TEST(TcpApduChannel, SendWritesTheApduUnframedInOrder) {
    TcpSetup t;
    ASSERT_NO_FATAL_FAILURE(t.open());
    std::vector<error_code> done;
    t.channel->send(hex("06 01 07 04 00 00 00 00 10 00"), [&](error_code ec) { done.push_back(ec); });
    t.channel->send(hex("06 B0 00"), [&](error_code ec) { done.push_back(ec); });
    ASSERT_TRUE(run_until(t.io, [&] { return done.size() == 2 && t.peer->received.size() == 13; }));
    EXPECT_FALSE(done[0]);
    EXPECT_FALSE(done[1]);
    EXPECT_EQ(t.peer->received, hex("06 01 07 04 00 00 00 00 10 00 06 B0 00"));
    EXPECT_EQ(t.channel->stats().apdus_sent, 2u);
}

TEST(TcpApduChannel, OversizedHeaderLosesTheStream) {
    TcpSetup t;
    ASSERT_NO_FATAL_FAILURE(t.open({.max_apdu_data = 16}));
    t.peer->write(hex("06 D3 FF 00 10"));  // announces 4096 bytes
    ASSERT_TRUE(run_until(t.io, [&] { return !t.events.errors.empty(); }));
    EXPECT_EQ(t.events.errors[0].first, ChannelError::malformed_stream);
    EXPECT_NE(t.events.errors[0].second.find("apdu_too_long"), std::string::npos) << t.events.errors[0].second;
    EXPECT_FALSE(t.channel->is_open());
    // The peer sees the connection go.
    ASSERT_TRUE(run_until(t.io, [&] { return t.peer->read_error.has_value(); }));
}

TEST(TcpApduChannel, PeerCloseIsReportedAsEof) {
    TcpSetup t;
    ASSERT_NO_FATAL_FAILURE(t.open());
    t.peer->link().close();
    ASSERT_TRUE(run_until(t.io, [&] { return !t.events.errors.empty(); }));
    EXPECT_EQ(t.events.errors[0].first, asio::error::eof);
    std::optional<error_code> late;
    t.channel->send(hex("80 00 00"), [&](error_code ec) { late = ec; });
    ASSERT_TRUE(run_until(t.io, [&] { return late.has_value(); }));
    EXPECT_EQ(*late, asio::error::not_connected);
}

TEST(TcpApduChannel, FailedWriteFailsPendingSendsThenReportsOnce) {
    asio::io_context io;
    // Operation 1 is the channel's first read; operation 2 its first write.
    auto [a, b] = make_memory_link_pair(io.get_executor(), std::make_shared<FailCount>(2));
    auto ch = make_tcp_apdu_channel(std::move(a));
    Events ev;
    ev.attach(*ch);
    ch->start();
    std::vector<error_code> done;
    ch->send(hex("80 00 00"), [&](error_code ec) { done.push_back(ec); });
    ch->send(hex("80 00 00"), [&](error_code ec) { done.push_back(ec); });
    ASSERT_TRUE(run_until(io, [&] { return done.size() == 2 && !ev.errors.empty(); }));
    EXPECT_EQ(done[0], asio::error::connection_reset);
    EXPECT_EQ(done[1], asio::error::connection_reset);
    ASSERT_EQ(ev.errors.size(), 1u);
    EXPECT_EQ(ev.errors[0].first, asio::error::connection_reset);
}

TEST(TcpApduChannel, NoCallbacksAfterClose) {
    asio::io_context io;
    auto [a, b] = make_memory_link_pair(io.get_executor());
    auto ch = make_tcp_apdu_channel(std::move(a));
    Events ev;
    ev.attach(*ch);
    ch->start();
    bool sent = false;
    ch->send(hex("80 00 00"), [&](error_code) { sent = true; });
    ch->close();
    asio::async_write(*b, asio::buffer(hex("80 00 00")), [](error_code, std::size_t) {});
    test::drain(io);
    EXPECT_FALSE(sent);
    EXPECT_TRUE(ev.apdus.empty());
    EXPECT_TRUE(ev.errors.empty());
}

TEST(TcpApduChannel, CallbackMayDestroyTheChannel) {
    asio::io_context io;
    auto [a, b] = make_memory_link_pair(io.get_executor());
    auto ch = make_tcp_apdu_channel(std::move(a));
    int seen = 0;
    ch->on_apdu([&](zvt::Apdu) {
        ++seen;
        ch.reset();
    });
    ch->on_error([](error_code, const std::string&) {});
    ch->start();
    asio::async_write(*b, asio::buffer(hex("80 00 00 80 00 00")), [](error_code, std::size_t) {});
    test::drain(io);
    EXPECT_EQ(seen, 1);
}

// ---- serial over a pty pair -----------------------------------------------------------------

zvt::SerialTransportConfig fast_timers() {
    // Short timers keep the tests fast; the deadlines below still bound every wait.
    return {.t1_ms = 100, .t2_ms = 80, .max_repeats = 2};
}

struct SerialSetup {
    asio::io_context io;
    std::optional<Pty> pty;
    std::unique_ptr<RawPeer> peer;       // on the master: plays the other side byte by byte
    std::unique_ptr<ApduChannel> channel;  // on the slave, opened like a real port
    Events events;

    void open(SerialChannelOptions options = {.transport = fast_timers()}) {
        auto p = Pty::open();
        ASSERT_TRUE(p);
        pty.emplace(std::move(*p));
        peer = std::make_unique<RawPeer>(make_fd_link(io.get_executor(), pty->release_master(), "pty master"));
        auto l = open_serial_link(io.get_executor(), SerialSettings{.device = pty->slave_path()});
        ASSERT_TRUE(l);
        channel = make_serial_apdu_channel(std::move(*l), options);
        events.attach(*channel);
        channel->start();
    }
    bool peer_has(std::size_t n) { return run_until(io, [&] { return peer->received.size() >= n; }); }
};

TEST(SerialApduChannel, SendCompletesOnAck) {
    SerialSetup s;
    ASSERT_NO_FATAL_FAILURE(s.open());
    const Bytes apdu = hex("06 31 0D 12 34 56 04 00 00 00 00 10 00 49 09 78");
    const Bytes frame = hex("10 02 06 31 0D 12 34 56 04 00 00 00 00 10 10 00 49 09 78 10 03 58 C1");
    std::optional<error_code> done;
    s.channel->send(apdu, [&](error_code ec) { done = ec; });
    ASSERT_TRUE(s.peer_has(frame.size()));
    EXPECT_EQ(s.peer->take(frame.size()), frame);
    EXPECT_FALSE(done.has_value());  // not before the ACK
    s.peer->write({zvt::ACK});
    ASSERT_TRUE(run_until(s.io, [&] { return done.has_value(); }));
    EXPECT_FALSE(*done);
    EXPECT_EQ(s.channel->stats().serial.acks_received, 1u);
}

TEST(SerialApduChannel, ReceivedFrameIsAckedAndDelivered) {
    SerialSetup s;
    ASSERT_NO_FATAL_FAILURE(s.open());
    // ACK for nothing, then the frame split byte by byte.
    s.peer->write_byte_by_byte(hex("10 02 06 0F 0B F0 F0 F7 32 2E 31 34 2E 31 35 00 10 03 B1 11"));
    ASSERT_TRUE(run_until(s.io, [&] { return s.events.apdus.size() == 1; }));
    EXPECT_EQ(s.events.apdus[0].control(), 0x060F);
    ASSERT_TRUE(s.peer_has(1));
    EXPECT_EQ(s.peer->take(1), Bytes{zvt::ACK});
}

TEST(SerialApduChannel, CorruptedFrameIsNakedAndTheRepeatDelivered) {
    SerialSetup s;
    ASSERT_NO_FATAL_FAILURE(s.open());
    const Bytes good = zvt::encode_serial_frame(hex("04 0F 02 27 00"));
    Bytes bad = good;
    bad[4] ^= 0x40;  // flip a data bit: CRC no longer matches
    s.peer->write(bad);
    ASSERT_TRUE(s.peer_has(1));
    EXPECT_EQ(s.peer->take(1), Bytes{zvt::NAK});
    EXPECT_TRUE(s.events.apdus.empty());
    s.peer->write(good);  // the sender's repeat
    ASSERT_TRUE(s.peer_has(1));
    EXPECT_EQ(s.peer->take(1), Bytes{zvt::ACK});
    ASSERT_TRUE(run_until(s.io, [&] { return s.events.apdus.size() == 1; }));
    EXPECT_EQ(s.events.apdus[0], (zvt::Apdu{0x04, 0x0F, {0x27, 0x00}}));
    EXPECT_EQ(s.channel->stats().serial.crc_errors, 1u);
}

TEST(SerialApduChannel, NakedSendIsRepeatedThenAcked) {
    SerialSetup s;
    ASSERT_NO_FATAL_FAILURE(s.open());
    const Bytes frame = zvt::encode_serial_frame(hex("06 B0 00"));
    std::optional<error_code> done;
    s.channel->send(hex("06 B0 00"), [&](error_code ec) { done = ec; });
    ASSERT_TRUE(s.peer_has(frame.size()));
    EXPECT_EQ(s.peer->take(frame.size()), frame);
    s.peer->write({zvt::NAK});
    ASSERT_TRUE(s.peer_has(frame.size()));
    EXPECT_EQ(s.peer->take(frame.size()), frame);
    s.peer->write({zvt::ACK});
    ASSERT_TRUE(run_until(s.io, [&] { return done.has_value(); }));
    EXPECT_FALSE(*done);
    EXPECT_EQ(s.channel->stats().serial.repeats, 1u);
}

TEST(SerialApduChannel, PeerThatNeverAcksGivesTransmissionErrorAfterTwoRepeats) {
    SerialSetup s;
    ASSERT_NO_FATAL_FAILURE(s.open());
    const Bytes frame = zvt::encode_serial_frame(hex("06 01 07 04 00 00 00 00 10 00"));
    std::optional<error_code> done;
    const auto start = std::chrono::steady_clock::now();
    s.channel->send(hex("06 01 07 04 00 00 00 00 10 00"), [&](error_code ec) { done = ec; });
    ASSERT_TRUE(run_until(s.io, [&] { return done.has_value(); }, 3000ms));
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(*done, ChannelError::transmission_error);
    // The original and two repeats, T2 (80 ms) after each.
    ASSERT_TRUE(s.peer_has(3 * frame.size()));
    Bytes three;
    for (int i = 0; i < 3; ++i) three.insert(three.end(), frame.begin(), frame.end());
    EXPECT_EQ(s.peer->received, three);
    EXPECT_GE(took, 3 * 80ms);
    EXPECT_EQ(s.channel->stats().serial.t2_expiries, 3u);
    EXPECT_TRUE(s.channel->is_open());  // a failed send is not a lost link
    EXPECT_TRUE(s.events.errors.empty());
}

TEST(SerialApduChannel, StalledFrameIsNakedAfterT1) {
    SerialSetup s;
    ASSERT_NO_FATAL_FAILURE(s.open());
    s.peer->write(hex("10 02 04 0F 02"));  // and then nothing
    ASSERT_TRUE(s.peer_has(1));
    EXPECT_EQ(s.peer->take(1), Bytes{zvt::NAK});
    EXPECT_EQ(s.channel->stats().serial.t1_expiries, 1u);
}

TEST(SerialApduChannel, TwoChannelsTalkOverThePtyWithPacing) {
    // ECR channel on the slave, PT channel on the master, the PT pacing at 9600 8N2 like the
    // simulator does.
    asio::io_context io;
    auto p = Pty::open();
    ASSERT_TRUE(p);
    auto slave = open_serial_link(io.get_executor(), SerialSettings{.device = p->slave_path()});
    ASSERT_TRUE(slave);
    auto ecr = make_serial_apdu_channel(std::move(*slave), {.transport = fast_timers()});
    auto pt = make_serial_apdu_channel(make_fd_link(io.get_executor(), p->release_master(), "pty master"),
                                       {.transport = {.t1_ms = 100, .t2_ms = 500, .max_repeats = 2},
                                        .pace = true, .baud = 9600, .bits_per_byte = 11});
    Events ecr_ev, pt_ev;
    ecr_ev.attach(*ecr);
    pt_ev.attach(*pt);
    // The PT answers every command with 80 00 00 followed by a 300-byte print text block.
    pt->on_apdu([&](zvt::Apdu a) {
        pt_ev.apdus.push_back(a);
        pt->send(hex("80 00 00"), [](error_code ec) { EXPECT_FALSE(ec); });
        pt->send(zvt::encode_apdu({0x06, 0xD3, Bytes(300, 0x10)}), [](error_code ec) { EXPECT_FALSE(ec); });
    });
    ecr->start();
    pt->start();
    std::optional<error_code> sent;
    const auto start = std::chrono::steady_clock::now();
    ecr->send(hex("06 01 07 04 00 00 00 00 10 00"), [&](error_code ec) { sent = ec; });
    ASSERT_TRUE(run_until(io, [&] { return ecr_ev.apdus.size() == 2; }, 5000ms));
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(sent.value_or(asio::error::timed_out));
    ASSERT_EQ(pt_ev.apdus.size(), 1u);
    EXPECT_EQ(pt_ev.apdus[0].control(), 0x0601);
    EXPECT_EQ(ecr_ev.apdus[0], (zvt::Apdu{0x80, 0x00, {}}));
    EXPECT_EQ(ecr_ev.apdus[1].data, Bytes(300, 0x10));
    // The print block is 300 DLEs doubled: > 600 bytes on the wire, > 0.69 s at 9600 8N2.
    EXPECT_GE(took, 600 * 11 * 1000ms / 9600);
    EXPECT_EQ(ecr->stats().serial.naks_sent, 0u);
    EXPECT_EQ(pt->stats().serial.repeats, 0u);
}

}  // namespace
}  // namespace pb::adapters
