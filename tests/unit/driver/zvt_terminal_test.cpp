// The ZVT driver against a scripted terminal over real loopback TCP (and one pty): connect,
// registration, payments, the persist-before-ack rule, link loss, T3, stop().
#include "adapters/zvt_terminal.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/unit/driver/fake_pt.hpp"

namespace pb::adapters {
namespace {

using namespace std::chrono_literals;
using test::FakePt;
using test::norm;
using test::run_for;
using test::run_until;

// 06 00: password 12 34 56, config byte 38 (intermediate status + payment and admin only
// from the ECR, PA00P015 §2.1 table 1), currency 0978.
constexpr const char* kRegistration = "06 00 06 12 34 56 38 09 78";
// 06 01 12.34 EUR (PA00P015 §2.2.1).
constexpr const char* kPay1234 = "06 01 0A 04 00 00 00 00 12 34 49 09 78";
// 04 0F approving 12.34 EUR: rc 00, amount, currency, trace 18, receipt 34, card type 10,
// masked PAN, TID 52523535, time, date (same frame as the ECR session tests).
constexpr const char* kApproved =
    "04 0F 2C 27 00 04 00 00 00 00 12 34 49 09 78 0B 00 00 18 87 00 34 8A 0A"
    " 22 F0 F8 41 11 11 EE EE EE 11 11 29 52 52 35 35 0C 12 30 45 0D 11 23";
constexpr const char* kDeclined = "04 0F 02 27 05";
constexpr const char* kAck = "80 00 00";

struct Recorder {
    std::vector<std::pair<TerminalState, std::string>> states;
    std::vector<zvt::Finished> finished;
    std::vector<zvt::Progress> progress;
    std::vector<zvt::PersistResult> persists;
    std::function<void(bool)> persist_done;  // held until the test decides

    ZvtTerminalCallbacks callbacks() {
        ZvtTerminalCallbacks cb;
        cb.on_state = [this](TerminalState s, const std::string& d) { states.emplace_back(s, d); };
        cb.on_progress = [this](const zvt::Progress& p) { progress.push_back(p); };
        cb.on_persist = [this](const zvt::PersistResult& r, std::function<void(bool)> done) {
            persists.push_back(r);
            persist_done = std::move(done);
        };
        cb.on_finished = [this](const zvt::Finished& f) { finished.push_back(f); };
        return cb;
    }
    int count(TerminalState s) const {
        int n = 0;
        for (const auto& e : states) n += e.first == s;
        return n;
    }
};

ZvtTerminalOptions tcp_options(std::uint16_t port) {
    ZvtTerminalOptions o;
    o.id = "pt1";
    o.tcp_host = "127.0.0.1";
    o.tcp_port = port;
    o.ecr.password = 123456;
    o.ecr.currency = 978;
    o.ecr.t3_ms = 1000;
    o.ecr.t4_ms = 3000;
    o.connect_timeout = 1000ms;
    o.backoff_min = 20ms;
    o.backoff_max = 200ms;
    return o;
}

zvt::OperationRequest pay(std::int64_t amount) {
    zvt::OperationRequest r;
    r.op = zvt::Operation::authorisation;
    r.amount = amount;
    return r;
}

class DriverTest : public ::testing::Test {
protected:
    void make(ZvtTerminalOptions o) { term = ZvtTerminal::create(io.get_executor(), std::move(o), rec.callbacks()); }
    void make() { make(tcp_options(pt.port())); }

    /// Starts the driver and plays the registration; ends with the terminal ready.
    void start_ready() {
        if (!term) make();
        term->start();
        ASSERT_TRUE(run_until(io, [&] { return pt.connections() == 1; }));
        pt.register_ecr(kRegistration);
        ASSERT_TRUE(run_until(io, [&] { return term->state() == TerminalState::ready; }));
    }

    /// Begins 12.34 EUR and lets the PT accept the command.
    void begin_payment() {
        ASSERT_TRUE(term->begin(pay(1234)));
        EXPECT_EQ(term->state(), TerminalState::busy);
        EXPECT_EQ(pt.next(), norm(kPay1234));
        pt.send(kAck);
        pt.send("04 FF 01 0A");  // insert card
        EXPECT_EQ(pt.next(), norm(kAck)) << "ECR acknowledges the intermediate status";
    }

    asio::io_context io;
    FakePt pt{io};
    Recorder rec;
    std::unique_ptr<ZvtTerminal> term;
};

TEST_F(DriverTest, ConnectsRegistersAndBecomesReady) {
    make();
    EXPECT_EQ(term->state(), TerminalState::offline);
    EXPECT_FALSE(term->begin(pay(100))) << "not ready before registration";
    start_ready();
    EXPECT_EQ(term->tid(), 52523535u);
    ASSERT_GE(rec.states.size(), 2u);
    EXPECT_EQ(rec.count(TerminalState::registering), 1);
    EXPECT_EQ(rec.states.back().first, TerminalState::ready);
    EXPECT_TRUE(rec.finished.empty()) << "registration is internal, not an operation outcome";
}

TEST_F(DriverTest, ApprovedPaymentIsAcknowledgedOnlyAfterPersistReportsDurable) {
    start_ready();
    begin_payment();
    ASSERT_EQ(rec.progress.size(), 1u);
    EXPECT_EQ(rec.progress[0].code, 0x0A);

    pt.send(kApproved);
    ASSERT_TRUE(run_until(io, [&] { return !rec.persists.empty(); }));
    EXPECT_EQ(rec.persists[0].data.amount, 1234);
    EXPECT_EQ(rec.persists[0].data.receipt_no, 34);

    // The ledger is slow: nothing may reach the PT meanwhile (PA00P015 §2.2.8).
    run_for(io, 150ms);
    EXPECT_EQ(pt.unread(), 0u) << "ack sent before the result was durable: " << pt.last();
    EXPECT_TRUE(rec.finished.empty());

    rec.persist_done(true);
    EXPECT_EQ(pt.next(), norm(kAck)) << "the ack to 04 0F follows done(true)";
    pt.send("06 0F 00");
    EXPECT_EQ(pt.next(), norm(kAck));
    ASSERT_TRUE(run_until(io, [&] { return !rec.finished.empty(); }));
    ASSERT_EQ(rec.finished.size(), 1u);
    EXPECT_EQ(rec.finished[0].outcome, zvt::Outcome::approved);
    ASSERT_TRUE(rec.finished[0].data);
    EXPECT_EQ(rec.finished[0].data->amount, 1234);
    EXPECT_EQ(term->state(), TerminalState::ready);
    EXPECT_EQ(rec.persists.size(), 1u);

    // Ready again: a second payment is accepted on the same connection.
    EXPECT_TRUE(term->begin(pay(1234)));
    EXPECT_EQ(pt.next(), norm(kPay1234));
    EXPECT_EQ(pt.connections(), 1);
}

TEST_F(DriverTest, DeclinedPaymentIsAcknowledgedAtOnceAndFinishesDeclined) {
    start_ready();
    begin_payment();
    pt.send(kDeclined);
    EXPECT_EQ(pt.next(), norm(kAck));
    pt.send("06 1E 01 05");
    EXPECT_EQ(pt.next(), norm(kAck));
    ASSERT_TRUE(run_until(io, [&] { return !rec.finished.empty(); }));
    EXPECT_EQ(rec.finished[0].outcome, zvt::Outcome::declined);
    EXPECT_EQ(rec.finished[0].result_code, 0x05);
    EXPECT_TRUE(rec.persists.empty()) << "a decline needs no commit";
    EXPECT_EQ(term->state(), TerminalState::ready);
}

TEST_F(DriverTest, LinkDroppedMidPaymentIsUnknownThenReconnectsAndRegisters) {
    start_ready();
    begin_payment();
    pt.drop();
    ASSERT_TRUE(run_until(io, [&] { return !rec.finished.empty(); }));
    ASSERT_EQ(rec.finished.size(), 1u);
    EXPECT_EQ(rec.finished[0].outcome, zvt::Outcome::unknown);
    EXPECT_NE(term->state(), TerminalState::ready);

    ASSERT_TRUE(run_until(io, [&] { return pt.connections() == 2; })) << "reconnects with backoff";
    pt.register_ecr(kRegistration);
    ASSERT_TRUE(run_until(io, [&] { return term->state() == TerminalState::ready; }));
    EXPECT_EQ(rec.finished.size(), 1u) << "exactly one outcome per operation";
    EXPECT_TRUE(term->begin(pay(1234)));
}

TEST_F(DriverTest, PersistFailureWithholdsTheAckAndDropsTheLink) {
    start_ready();
    begin_payment();
    pt.send(kApproved);
    ASSERT_TRUE(run_until(io, [&] { return !rec.persists.empty(); }));
    rec.persist_done(false);
    ASSERT_TRUE(run_until(io, [&] { return pt.peer_closed(); })) << "PT must see the link drop";
    EXPECT_EQ(pt.unread(), 0u) << "no ack may reach the PT: " << pt.last();
    ASSERT_EQ(rec.finished.size(), 1u);
    EXPECT_EQ(rec.finished[0].outcome, zvt::Outcome::unknown);
    ASSERT_TRUE(rec.finished[0].data) << "the evidence goes to the interim account";
    EXPECT_EQ(rec.finished[0].data->receipt_no, 34);
    // A second answer from the ledger changes nothing.
    rec.persist_done(true);
    ASSERT_TRUE(run_until(io, [&] { return pt.connections() == 2; }));
    EXPECT_EQ(rec.finished.size(), 1u);
}

TEST_F(DriverTest, LatePersistAfterLinkLossSendsNothing) {
    start_ready();
    begin_payment();
    pt.send(kApproved);
    ASSERT_TRUE(run_until(io, [&] { return !rec.persists.empty(); }));
    pt.drop();
    ASSERT_TRUE(run_until(io, [&] { return !rec.finished.empty(); }));
    EXPECT_EQ(rec.finished[0].outcome, zvt::Outcome::unknown);
    ASSERT_TRUE(run_until(io, [&] { return pt.connections() == 2; }));
    EXPECT_EQ(pt.next(), norm(kRegistration));
    rec.persist_done(true);  // the ledger finally answers, for an operation that is over
    run_for(io, 50ms);
    EXPECT_EQ(pt.unread(), 0u) << "a stale persist must not ack anything: " << pt.last();
    EXPECT_EQ(rec.finished.size(), 1u);
}

TEST_F(DriverTest, T3ExpiryWithSilentTerminalIsUnknownAndReconnects) {
    auto o = tcp_options(pt.port());
    o.ecr.t3_ms = 200;
    make(o);
    start_ready();
    ASSERT_TRUE(term->begin(pay(1234)));
    const auto sent = std::chrono::steady_clock::now();
    EXPECT_EQ(pt.next(), norm(kPay1234));
    // The PT never answers.
    ASSERT_TRUE(run_until(io, [&] { return !rec.finished.empty(); }));
    const auto waited = std::chrono::steady_clock::now() - sent;
    EXPECT_GE(waited, 200ms);
    EXPECT_LT(waited, 2000ms);
    EXPECT_EQ(rec.finished[0].outcome, zvt::Outcome::unknown);
    ASSERT_TRUE(run_until(io, [&] { return pt.connections() == 2; })) << "PA00P016 §5.2.5: close, then reopen";
    pt.register_ecr(kRegistration);
    ASSERT_TRUE(run_until(io, [&] { return term->state() == TerminalState::ready; }));
    EXPECT_EQ(rec.finished.size(), 1u);
}

TEST_F(DriverTest, BeginWhileBusyReturnsFalseAndChangesNothing) {
    start_ready();
    ASSERT_TRUE(term->begin(pay(1234)));
    EXPECT_FALSE(term->begin(pay(999)));
    EXPECT_EQ(pt.next(), norm(kPay1234));
    run_for(io, 50ms);
    EXPECT_EQ(pt.unread(), 0u) << "the refused begin must not reach the PT";
    EXPECT_TRUE(rec.finished.empty()) << "a refused begin gets no on_finished";
}

TEST_F(DriverTest, StopMidPaymentFinishesUnknownExactlyOnceAndStaysOffline) {
    start_ready();
    begin_payment();
    term->stop();
    ASSERT_EQ(rec.finished.size(), 1u) << "on_finished is called by stop()";
    EXPECT_EQ(rec.finished[0].outcome, zvt::Outcome::unknown);
    EXPECT_EQ(term->state(), TerminalState::offline);
    const auto states = rec.states.size();
    ASSERT_TRUE(run_until(io, [&] { return pt.peer_closed(); }));
    run_for(io, 150ms);  // several backoff periods
    EXPECT_EQ(pt.connections(), 1) << "no reconnect after stop()";
    EXPECT_EQ(rec.finished.size(), 1u);
    EXPECT_EQ(rec.states.size(), states) << "no callbacks after stop() returns";
    EXPECT_FALSE(term->begin(pay(1)));
}

TEST_F(DriverTest, StopWhileTheLedgerWritesIsUnknownAndLateDoneIsIgnored) {
    start_ready();
    begin_payment();
    pt.send(kApproved);
    ASSERT_TRUE(run_until(io, [&] { return !rec.persists.empty(); }));
    term->stop();
    ASSERT_EQ(rec.finished.size(), 1u);
    EXPECT_EQ(rec.finished[0].outcome, zvt::Outcome::unknown);
    rec.persist_done(true);
    ASSERT_TRUE(run_until(io, [&] { return pt.peer_closed(); }));
    EXPECT_EQ(pt.unread(), 0u) << "no ack after stop(): " << pt.last();
}

TEST_F(DriverTest, DestroyingTheDriverFromOnFinishedIsSafe) {
    make();
    rec.finished.clear();
    ZvtTerminalCallbacks cb = rec.callbacks();
    cb.on_finished = [&](const zvt::Finished& f) {
        rec.finished.push_back(f);
        term.reset();
    };
    term = ZvtTerminal::create(io.get_executor(), tcp_options(pt.port()), cb);
    start_ready();
    begin_payment();
    pt.drop();
    ASSERT_TRUE(run_until(io, [&] { return !term; }));
    run_for(io, 100ms);  // pending handlers of the dead driver run and must do nothing
    EXPECT_EQ(rec.finished.size(), 1u);
    EXPECT_EQ(pt.connections(), 1);
}

TEST_F(DriverTest, RejectedRegistrationBacksOffAndRetries) {
    make();
    term->start();
    EXPECT_EQ(pt.next(), norm(kRegistration));
    pt.send("84 1E 00");
    ASSERT_TRUE(run_until(io, [&] { return pt.peer_closed(); })) << "ECR gives up on this connection";
    EXPECT_EQ(term->state(), TerminalState::offline);
    ASSERT_TRUE(run_until(io, [&] { return pt.connections() == 2; }));
    pt.register_ecr(kRegistration);
    ASSERT_TRUE(run_until(io, [&] { return term->state() == TerminalState::ready; }));
}

TEST_F(DriverTest, ReconnectBackoffDoublesUpToTheMaximumAndResetsAfterRegistration) {
    auto o = tcp_options(pt.port());
    o.backoff_min = 20ms;
    o.backoff_max = 80ms;
    make(o);
    term->start();
    // Every registration is refused: the gaps between connects grow 20, 40, 80, 80 ms.
    std::vector<std::chrono::steady_clock::time_point> refused;
    for (int i = 1; i <= 5; ++i) {
        ASSERT_TRUE(run_until(io, [&] { return pt.connections() == i; })) << "attempt " << i;
        EXPECT_EQ(pt.next(), norm(kRegistration));
        pt.send("84 1E 00");
        refused.push_back(std::chrono::steady_clock::now());
    }
    // Timers never fire early, so each gap is at least its backoff.
    const std::chrono::milliseconds expected[] = {20ms, 40ms, 80ms, 80ms};
    for (std::size_t k = 0; k + 1 < refused.size(); ++k)
        EXPECT_GE(refused[k + 1] - refused[k], expected[k]) << "gap " << k;
    ASSERT_TRUE(run_until(io, [&] { return pt.connections() == 6; }));
    pt.register_ecr(kRegistration);
    ASSERT_TRUE(run_until(io, [&] { return term->state() == TerminalState::ready; }));
    // After a good registration the next loss waits only the minimum again.
    pt.drop();
    const auto dropped = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until(io, [&] { return pt.connections() == 7; }));
    EXPECT_LT(std::chrono::steady_clock::now() - dropped, 80ms + 500ms);
}

TEST_F(DriverTest, PeriodicStatusEnquiryUpdatesTerminalStatus) {
    auto o = tcp_options(pt.port());
    o.status_poll_interval = 50ms;
    make(o);
    start_ready();
    EXPECT_EQ(pt.next(), norm("05 01 03 12 34 56")) << "[ZVT-CMD] §2.56";
    EXPECT_EQ(term->state(), TerminalState::busy);
    pt.send(kAck);
    pt.send("06 0F 0B F0 F0 F7 32 2E 31 34 2E 31 35 00");  // SW 2.14.15, status 00
    EXPECT_EQ(pt.next(), norm(kAck));
    ASSERT_TRUE(run_until(io, [&] { return term->state() == TerminalState::ready; }));
    EXPECT_EQ(term->terminal_status(), 0x00);
    EXPECT_TRUE(rec.finished.empty()) << "the poll is internal";
}

}  // namespace
}  // namespace pb::adapters
