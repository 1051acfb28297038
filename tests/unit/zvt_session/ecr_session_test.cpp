// The ECR session is driven by events only: no sockets, no clock. Terminal frames are
// written as raw bytes so that our encoder cannot agree with itself by accident.
#include "protocol/zvt/ecr_session.hpp"

#include <gtest/gtest.h>

#include "protocol/zvt/tlv.hpp"

namespace pb::zvt {
namespace {

Apdu pt(const char* hex) {
    auto bytes = from_hex(hex);
    EXPECT_TRUE(bytes) << hex;
    auto a = decode_apdu(*bytes);
    EXPECT_TRUE(a) << hex << ": " << (a ? "" : a.error().to_string());
    return a ? *a : Apdu{};
}

template <class A>
std::vector<A> all_of(const std::vector<EcrAction>& actions) {
    std::vector<A> r;
    for (const auto& a : actions)
        if (auto* p = std::get_if<A>(&a)) r.push_back(*p);
    return r;
}

template <class A>
A only(const std::vector<EcrAction>& actions) {
    auto v = all_of<A>(actions);
    EXPECT_EQ(v.size(), 1u);
    return v.empty() ? A{} : v.front();
}

std::string sent_hex(const std::vector<EcrAction>& actions) {
    std::string s;
    for (const auto& a : all_of<SendApdu>(actions)) {
        if (!s.empty()) s += " | ";
        s += to_hex(encode_apdu(a.apdu));
    }
    return s;
}

constexpr const char* kAck = "80 00 00";
// 04 0F approving 12.34 EUR: rc 00, amount, currency 978, trace 18, receipt 34, card type 10
// (Visa), masked PAN 4111 11EE EEEE 1111, TID 52523535.
constexpr const char* kApproved =
    "04 0F 2C 27 00 04 00 00 00 00 12 34 49 09 78 0B 00 00 18 87 00 34 8A 0A"
    " 22 F0 F8 41 11 11 EE EE EE 11 11 29 52 52 35 35 0C 12 30 45 0D 11 23";
constexpr const char* kDeclined = "04 0F 02 27 05";

EcrConfig config() {
    EcrConfig c;
    c.password = 123456;
    c.currency = 978;
    c.t3_ms = 5000;
    c.t4_ms = 180000;
    return c;
}

std::vector<EcrAction> start(EcrSession& s, Operation op, std::int64_t amount = 1234) {
    OperationRequest r;
    r.op = op;
    r.amount = amount;
    return s.step(StartRequested{r});
}

TEST(EcrSession, AuthorisationSendsTheExactAmountAndArmsT3) {
    EcrSession s(config());
    auto a = start(s, Operation::authorisation, 1234);
    // 06 01: BMP 04 amount 000000001234, BMP 49 currency 0978 (PA00P015 §2.2.1).
    EXPECT_EQ(sent_hex(a), "06 01 0a 04 00 00 00 00 12 34 49 09 78");
    auto t = only<ArmTimer>(a);
    EXPECT_EQ(t.timer, Timer::t3);
    EXPECT_EQ(t.ms, 5000u);
    EXPECT_FALSE(s.idle());
}

TEST(EcrSession, ApprovedPaymentIsAcknowledgedOnlyAfterTheResultIsDurable) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    auto a = s.step(ApduReceived{pt(kAck)});
    EXPECT_EQ(only<ArmTimer>(a).timer, Timer::t4);

    a = s.step(ApduReceived{pt("04 FF 01 0A")});
    EXPECT_EQ(sent_hex(a), "80 00 00");
    EXPECT_EQ(only<Progress>(a).code, 0x0A);

    a = s.step(ApduReceived{pt(kApproved)});
    EXPECT_EQ(sent_hex(a), "") << "the ack must wait for the ledger";
    auto persist = only<PersistResult>(a);
    EXPECT_EQ(persist.data.amount, 1234);
    EXPECT_EQ(persist.data.receipt_no, 34);
    EXPECT_EQ(persist.data.trace, 18u);
    EXPECT_EQ(persist.data.card_type, 10);
    ASSERT_TRUE(persist.data.masked_pan);
    EXPECT_EQ(persist.data.masked_pan->find("411111"), 0u);
    EXPECT_FALSE(s.committed());

    // Frames arriving while the ledger writes are not acknowledged either.
    a = s.step(ApduReceived{pt("04 FF 01 0A")});
    EXPECT_EQ(sent_hex(a), "");

    a = s.step(ResultPersisted{});
    EXPECT_EQ(sent_hex(a), "80 00 00");
    EXPECT_TRUE(s.committed());

    a = s.step(ApduReceived{pt("06 0F 00")});
    EXPECT_EQ(sent_hex(a), "80 00 00");
    auto f = only<Finished>(a);
    EXPECT_EQ(f.outcome, Outcome::approved);
    ASSERT_TRUE(f.data);
    EXPECT_EQ(f.data->amount, 1234);
    EXPECT_TRUE(s.idle());
}

TEST(EcrSession, DeclineIsAcknowledgedAtOnceAndFinishesDeclined) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    s.step(ApduReceived{pt(kAck)});
    auto a = s.step(ApduReceived{pt(kDeclined)});
    EXPECT_EQ(sent_hex(a), "80 00 00");
    EXPECT_TRUE(all_of<PersistResult>(a).empty());
    a = s.step(ApduReceived{pt("06 1E 01 05")});
    auto f = only<Finished>(a);
    EXPECT_EQ(f.outcome, Outcome::declined);
    EXPECT_EQ(f.result_code, 0x05);
}

TEST(EcrSession, TerminalAbortWithoutResultIsAborted) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    s.step(ApduReceived{pt(kAck)});
    auto a = s.step(ApduReceived{pt("06 1E 01 6C")});
    auto f = only<Finished>(a);
    EXPECT_EQ(f.outcome, Outcome::aborted);
    EXPECT_EQ(f.result_code, 0x6C);
}

TEST(EcrSession, NegativeAnswerToTheCommandRejectsIt) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    auto a = s.step(ApduReceived{pt("84 83 00")});
    auto f = only<Finished>(a);
    EXPECT_EQ(f.outcome, Outcome::rejected);
    EXPECT_EQ(f.result_code, 0x83);
    EXPECT_EQ(only<CancelTimer>(a).timer, Timer::t3);
    EXPECT_TRUE(s.idle());
}

TEST(EcrSession, EightyFourZeroZeroCountsAsPositive) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    auto a = s.step(ApduReceived{pt("84 00 00")});
    EXPECT_TRUE(all_of<Finished>(a).empty());
    EXPECT_EQ(only<ArmTimer>(a).timer, Timer::t4);
}

TEST(EcrSession, LinkLostBeforeTheResultIsUnknown) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    s.step(ApduReceived{pt(kAck)});
    s.step(ApduReceived{pt("04 FF 01 0A")});
    auto f = only<Finished>(s.step(LinkLost{}));
    EXPECT_EQ(f.outcome, Outcome::unknown);
}

TEST(EcrSession, LinkLostWhileTheLedgerWritesIsUnknownAndNeverAcknowledged) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    s.step(ApduReceived{pt(kAck)});
    s.step(ApduReceived{pt(kApproved)});
    auto a = s.step(LinkLost{});
    auto f = only<Finished>(a);
    EXPECT_EQ(f.outcome, Outcome::unknown);
    ASSERT_TRUE(f.data);  // the evidence goes to the interim account
    EXPECT_EQ(f.data->receipt_no, 34);
    // A late persist completion must not produce an ack on a dead link.
    EXPECT_EQ(sent_hex(s.step(ResultPersisted{})), "");
}

TEST(EcrSession, LinkLostAfterTheAcknowledgementIsLeftToTheTerminalToSay) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    s.step(ApduReceived{pt(kAck)});
    s.step(ApduReceived{pt(kApproved)});
    s.step(ResultPersisted{});
    // Whether our 80 00 reached the PT before the link broke decides between §2.2.9 (stands)
    // and §2.2.8 (auto-reversal): unknown, with the evidence, for recovery to ask.
    auto f = only<Finished>(s.step(LinkLost{}));
    EXPECT_EQ(f.outcome, Outcome::unknown);
    ASSERT_TRUE(f.data);
    EXPECT_EQ(f.data->receipt_no, 34);
}

TEST(EcrSession, RegistrationWhenTheEcrPrintsPermitsTextBlocks) {
    EcrConfig c = config();
    c.ecr_prints = true;
    EcrSession s(c);
    // TLV 26 { 0A 06 D3 } after <pw><config><currency> (PA00P015 §2.1, §9.4); the same shape
    // as the working string in [BEZAHL] doc/memos/memo21021901.txt.
    EXPECT_EQ(sent_hex(start(s, Operation::registration)), "06 00 0e 12 34 56 be 09 78 06 06 26 04 0a 02 06 d3");
}

TEST(EcrSession, T3ExpiryClosesTheLinkAndLeavesThePaymentUnknown) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    auto a = s.step(TimerExpired{Timer::t3});
    EXPECT_EQ(all_of<CloseLink>(a).size(), 1u);
    EXPECT_EQ(only<Finished>(a).outcome, Outcome::unknown);
}

TEST(EcrSession, T4ExpiryAfterAcceptanceIsUnknown) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    s.step(ApduReceived{pt(kAck)});
    auto a = s.step(TimerExpired{Timer::t4});
    EXPECT_EQ(all_of<CloseLink>(a).size(), 1u);
    EXPECT_EQ(only<Finished>(a).outcome, Outcome::unknown);
}

TEST(EcrSession, StaleTimersAreIgnored) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    s.step(ApduReceived{pt(kAck)});
    EXPECT_TRUE(s.step(TimerExpired{Timer::t3}).empty());  // T3 belonged to the command phase
}

TEST(EcrSession, IntermediateStatusTimeoutSetsT4) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    s.step(ApduReceived{pt(kAck)});
    auto a = s.step(ApduReceived{pt("04 FF 02 0A 02")});  // 2 minutes (PA00P015 §3.7)
    EXPECT_EQ(only<ArmTimer>(a).ms, 120000u);
}

TEST(EcrSession, AbortFromTheErpIsSentWhileTheTerminalWaits) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    s.step(ApduReceived{pt(kAck)});
    auto a = s.step(AbortRequested{});
    EXPECT_EQ(sent_hex(a), "06 b0 00");
    EXPECT_TRUE(s.step(AbortRequested{}).empty()) << "sent once";
    EXPECT_TRUE(all_of<SendApdu>(s.step(ApduReceived{pt(kAck)})).empty());
    auto f = only<Finished>(s.step(ApduReceived{pt("06 1E 01 6C")}));
    EXPECT_EQ(f.outcome, Outcome::aborted);
}

TEST(EcrSession, AbortBeforeAcceptanceWaitsForTheAcknowledgement) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    EXPECT_EQ(sent_hex(s.step(AbortRequested{})), "");
    EXPECT_EQ(sent_hex(s.step(ApduReceived{pt(kAck)})), "06 b0 00");
}

TEST(EcrSession, NoAbortAfterTheCommitPoint) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    s.step(ApduReceived{pt(kAck)});
    s.step(ApduReceived{pt(kApproved)});
    s.step(ResultPersisted{});
    EXPECT_TRUE(s.step(AbortRequested{}).empty());
    // Even an abort frame from the PT after our ack leaves the payment approved.
    EXPECT_EQ(only<Finished>(s.step(ApduReceived{pt("06 1E 01 6C")})).outcome, Outcome::approved);
}

TEST(EcrSession, UnreadableStatusInformationIsAnsweredNegatively) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    s.step(ApduReceived{pt(kAck)});
    // BMP 04 cut short: 3 of 6 bytes.
    auto a = s.step(ApduReceived{pt("04 0F 06 27 00 04 00 00 12")});
    EXPECT_EQ(sent_hex(a), "84 9a 00");
    EXPECT_TRUE(all_of<PersistResult>(a).empty());
}

TEST(EcrSession, SecondRequestWhileBusyIsRejectedWithoutSending) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    auto a = start(s, Operation::authorisation, 999);
    EXPECT_EQ(sent_hex(a), "");
    EXPECT_EQ(only<Finished>(a).outcome, Outcome::rejected);
}

TEST(EcrSession, ReceiptSyncMirrorsTheLastReceiptNumber) {
    EcrConfig c = config();
    c.receipt_sync = true;
    EcrSession s(c);
    OperationRequest r;
    r.op = Operation::authorisation;
    r.amount = 1234;
    auto a = s.step(StartRequested{r});
    // PA00P015 ch. 4: no receipt yet -> 1F1F with length 0.
    EXPECT_EQ(sent_hex(a), "06 01 0f 04 00 00 00 00 12 34 49 09 78 06 03 1f 1f 00");

    EcrSession s2(c);
    r.last_receipt = 231;
    a = s2.step(StartRequested{r});
    EXPECT_NE(sent_hex(a).find("06 05 1f 1f 02 02 31"), std::string::npos) << sent_hex(a);
}

TEST(EcrSession, RegistrationSendsPasswordConfigAndCurrency) {
    EcrSession s(config());
    auto a = start(s, Operation::registration);
    // PA00P015 §2.1: <password><config byte><currency>.
    EXPECT_EQ(sent_hex(a), "06 00 06 12 34 56 38 09 78");
    s.step(ApduReceived{pt(kAck)});
    a = s.step(ApduReceived{pt("06 0F 0A 19 10 29 52 52 35 35 49 09 78")});
    auto f = only<Finished>(a);
    EXPECT_EQ(f.outcome, Outcome::done);
    EXPECT_EQ(f.tid, 52523535u);
}

TEST(EcrSession, EcrPrintingSetsThePrintBits) {
    EcrConfig c = config();
    c.ecr_prints = true;
    EXPECT_EQ(registration_config_byte(c), 0xBE);  // the working value in [BEZAHL] memo21021902
}

TEST(EcrSession, PrintLinesBecomeReceiptText) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    s.step(ApduReceived{pt(kAck)});
    auto a = s.step(ApduReceived{pt("06 D1 06 00 48 65 6A 21 21")});
    EXPECT_EQ(sent_hex(a), "80 00 00");
    auto rt = only<ReceiptText>(a);
    ASSERT_EQ(rt.lines.size(), 1u);
    EXPECT_EQ(rt.lines[0], "Hej!!");
    EXPECT_FALSE(rt.last);
    rt = only<ReceiptText>(s.step(ApduReceived{pt("06 D1 02 81 41")}));
    EXPECT_TRUE(rt.last);
}

TEST(EcrSession, RepeatReceiptDeliversTheLastResultWithoutCommittingAnything) {
    EcrSession s(config());
    auto a = start(s, Operation::repeat_receipt);
    EXPECT_EQ(sent_hex(a), "06 20 05 12 34 56 03 03");
    s.step(ApduReceived{pt(kAck)});
    a = s.step(ApduReceived{pt(kApproved)});
    EXPECT_EQ(sent_hex(a), "80 00 00");
    EXPECT_TRUE(all_of<PersistResult>(a).empty());
    auto f = only<Finished>(s.step(ApduReceived{pt("06 0F 00")}));
    EXPECT_EQ(f.outcome, Outcome::done);
    ASSERT_TRUE(f.data);
    EXPECT_EQ(f.data->receipt_no, 34);
}

TEST(EcrSession, ReadCardDeliversTrack2WithoutPersistingAnything) {
    EcrSession s(config());
    OperationRequest r;
    r.op = Operation::read_card;
    r.card_timeout_s = 20;
    EXPECT_EQ(sent_hex(s.step(StartRequested{r})), "06 c0 01 14");  // §2.21: timeout 20 s
    s.step(ApduReceived{pt(kAck)});
    auto p = only<Progress>(s.step(ApduReceived{pt("04 FF 01 0A")}));  // insert card
    EXPECT_EQ(p.code, 0x0A);
    auto a = s.step(ApduReceived{pt("04 0F 0D 27 00 23 F0 F8 77 00 11 22 33 D2 61 2F")});
    EXPECT_EQ(sent_hex(a), "80 00 00");
    EXPECT_TRUE(all_of<PersistResult>(a).empty());
    auto f = only<Finished>(s.step(ApduReceived{pt("06 0F 00")}));
    EXPECT_EQ(f.op, Operation::read_card);
    EXPECT_EQ(f.outcome, Outcome::done);
    ASSERT_TRUE(f.data);
    EXPECT_EQ(f.data->track2, "7700112233=2612");
}

TEST(EcrSession, ReadCardMayBeAbortedWhileThePtWaitsForTheCard) {
    // §2.23: 06 B0 is allowed during Read Card; the PT answers with 06 1E.
    EcrSession s(config());
    start(s, Operation::read_card);
    s.step(ApduReceived{pt(kAck)});
    EXPECT_EQ(sent_hex(s.step(AbortRequested{})), "06 b0 00");
    s.step(ApduReceived{pt(kAck)});
    auto f = only<Finished>(s.step(ApduReceived{pt("06 1E 01 6C")}));
    EXPECT_EQ(f.outcome, Outcome::rejected);
    EXPECT_EQ(f.result_code, 0x6C);
    EXPECT_FALSE(f.data);
}

TEST(EcrSession, OtherOperationsNeverKeepTrack2) {
    EcrSession s(config());
    start(s, Operation::repeat_receipt);
    s.step(ApduReceived{pt(kAck)});
    s.step(ApduReceived{pt("04 0F 0D 27 00 23 F0 F8 77 00 11 22 33 D2 61 2F")});
    auto f = only<Finished>(s.step(ApduReceived{pt("06 0F 00")}));
    ASSERT_TRUE(f.data);
    EXPECT_FALSE(f.data->track2);
}

TEST(EcrSession, EndOfDayTotalsAreDurableBeforeTheAck) {
    EcrSession s(config());
    auto a = start(s, Operation::end_of_day);
    EXPECT_EQ(sent_hex(a), "06 50 03 12 34 56");
    s.step(ApduReceived{pt(kAck)});
    a = s.step(ApduReceived{pt("04 0F 09 27 00 04 00 00 00 00 09 58")});
    EXPECT_EQ(sent_hex(a), "");
    EXPECT_EQ(only<PersistResult>(a).data.amount, 958);
    EXPECT_EQ(sent_hex(s.step(ResultPersisted{})), "80 00 00");
    EXPECT_EQ(only<Finished>(s.step(ApduReceived{pt("06 0F 00")})).outcome, Outcome::approved);
}

TEST(EcrSession, LogOffEndsOnTheAcknowledgement) {
    EcrSession s(config());
    EXPECT_EQ(sent_hex(start(s, Operation::log_off)), "06 02 00");
    EXPECT_EQ(only<Finished>(s.step(ApduReceived{pt(kAck)})).outcome, Outcome::done);
}

TEST(EcrSession, ReversalNamesTheReceipt) {
    EcrSession s(config());
    OperationRequest r;
    r.op = Operation::reversal;
    r.receipt_no = 231;
    EXPECT_EQ(sent_hex(s.step(StartRequested{r})), "06 30 06 12 34 56 87 02 31");
}

TEST(EcrSession, UnknownTerminalCommandIsRefusedWith8483) {
    EcrSession s(config());
    start(s, Operation::authorisation);
    s.step(ApduReceived{pt(kAck)});
    EXPECT_EQ(sent_hex(s.step(ApduReceived{pt("0F 99 00")})), "84 83 00");
}

}  // namespace
}  // namespace pb::zvt
