// PaymentService in process: a memory ledger, a scripted fake terminal, replies and events
// captured. No sockets, no sleeping: the io_context runs until a condition holds.
#include "daemon/payment_service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <map>

#include "protocol/zvt/tables.hpp"

namespace pb::daemon {
namespace {

namespace json = boost::json;
using adapters::TerminalState;

struct FakeTerminal : adapters::ZvtTerminal {
    adapters::ZvtTerminalCallbacks cb;
    std::string id_;
    TerminalState state_ = TerminalState::offline;
    std::vector<zvt::OperationRequest> begun;
    std::function<void(const zvt::OperationRequest&)> on_begin;  // test hook, runs inside begin()
    int aborts = 0;

    void start() override { set(TerminalState::ready); }
    // Like the driver: an operation in flight ends unknown before the commit point.
    void stop() override {
        if (state_ == TerminalState::busy && cb.on_finished && !begun.empty())
            cb.on_finished({begun.back().op, zvt::Outcome::unknown, 0, {}, {}, {}, "stopped"});
        state_ = TerminalState::offline;
    }
    bool begin(const zvt::OperationRequest& r) override {
        if (state_ != TerminalState::ready) return false;
        begun.push_back(r);
        if (on_begin) on_begin(r);
        set(TerminalState::busy);
        return true;
    }
    void abort() override { ++aborts; }
    TerminalState state() const override { return state_; }
    const std::string& id() const override { return id_; }
    std::optional<std::uint32_t> tid() const override { return 52523535u; }
    std::optional<std::uint8_t> terminal_status() const override { return 0; }

    void set(TerminalState s) {
        state_ = s;
        if (cb.on_state) cb.on_state(s, "test");
    }
    // The driver's order: ready first, then the outcome.
    void finish(zvt::Finished f) {
        set(TerminalState::ready);
        cb.on_finished(f);
    }
};

zvt::TransactionData approved_data(std::int64_t amount, std::uint16_t receipt) {
    zvt::TransactionData d;
    d.result_code = 0;
    d.amount = amount;
    d.receipt_no = receipt;
    d.trace = receipt;
    d.card_type = zvt::card_type_for_brand(CardBrand::visa);
    d.masked_pan = "476173******0119";
    d.approval_code = "112648";
    return d;
}

class PaymentServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        prepare();
        start_service();
    }

    void prepare() {
        ledger::Options o;
        o.storage = ledger::Storage::memory;
        o.clock = [] { return std::int64_t{1700000000000}; };
        ledger_ = std::move(*ledger::Ledger::open(o));
        auto cfg = parse_config(R"(
[ledger]
path = "/unused"
[[terminal]]
id = "T1"
transport = "tcp"
host = "127.0.0.1"
password = "123456"
currency = "SEK"
register = "K1"
[[terminal]]
id = "T2"
transport = "tcp"
host = "127.0.0.1"
password = "123456"
currency = "SEK"
register = "K2"
[[operator]]
id = "anna"
rights = ["take_card", "take_cash", "refund", "resolve_interim", "close_day", "administer"]
[[operator]]
id = "bob"
rights = ["take_card"]
[[operator]]
id = "carol"
rights = ["take_cash"]
)");
        ASSERT_TRUE(cfg) << (cfg ? "" : cfg.error().front().to_string());
        config_ = *cfg;
        ASSERT_TRUE(seed_ledger(*ledger_, config_));
    }

    void start_service() {
        PaymentServiceDeps deps;
        deps.executor = io_.get_executor();
        deps.ledger = ledger_.get();
        deps.reply = [this](const std::string& client, std::string j) { replies_[client].push_back(json::parse(j).as_object()); };
        deps.publish = [this](std::string topic, std::string payload) {
            auto body = json::parse(payload).as_object();
            // What the ledger says at the moment the ERP is told.
            if (body.at("type").as_string() == "payment.result") {
                std::string pid(body.at("payment_id").as_string());
                auto p = ledger_->reader()->payment({std::stoll(pid.substr(2))});
                published_.push_back({std::string(body.at("state").as_string()),
                                      p ? std::string(ledger::state_id(p->state)) : "missing"});
            }
            events_.push_back({topic, std::move(body)});
        };
        deps.make_terminal = [this](const TerminalConfig& tc, adapters::ZvtTerminalCallbacks cb) {
            auto t = std::make_unique<FakeTerminal>();
            t->id_ = tc.id;
            t->cb = std::move(cb);
            fakes_[tc.id] = t.get();
            if (tc.id != "T1") return t;
            terminal_ = t.get();
            if (script_) t->on_begin = script_;
            ++terminals_made_;
            made_currency_ = std::string(tc.currency.code());
            return t;
        };
        deps.clock_ms = [] { return std::int64_t{1700000000000}; };
        service_ = std::make_unique<PaymentService>(std::move(deps), config_);
        service_->start();
        run_until([&] { return count_events("terminal.online") == 2; });
    }

    template <class Pred>
    void run_until(Pred pred) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!pred() && std::chrono::steady_clock::now() < deadline) {
            io_.restart();
            io_.run_for(std::chrono::milliseconds(5));
        }
        ASSERT_TRUE(pred()) << "condition not reached within 5 s";
    }

    json::object request(const std::string& client, const std::string& raw) {
        const std::size_t before = replies_[client].size();
        service_->handle(client, raw);
        run_until([&] { return replies_[client].size() > before; });
        return replies_[client].back();
    }

    static std::string pay(const std::string& order, const std::string& key, std::int64_t total,
                           const std::string& op = "anna", const std::string& currency = "SEK",
                           const std::string& terminal = "T1") {
        return R"({"v":1,"id":"c","type":"payment.start","order_id":")" + order + R"(","request_key":")" + key +
               R"(","total":)" + std::to_string(total) + R"(,"currency":")" + currency +
               R"(","register":"K1","terminal":")" + terminal + R"(","operator":")" + op + R"("})";
    }

    std::size_t count_events(std::string_view type) const {
        std::size_t n = 0;
        for (auto& e : events_)
            if (e.second.at("type").as_string() == type) ++n;
        return n;
    }
    std::int64_t journal_events() { return ledger_->reader()->verify()->events_checked; }
    ledger::PaymentState state_of(std::int64_t id) { return ledger_->reader()->payment({id})->state; }
    std::size_t payments() {
        ledger::HistoryFilter f;
        return ledger_->reader()->history(f)->size();
    }

    boost::asio::io_context io_;
    std::unique_ptr<ledger::Ledger> ledger_;
    Config config_;
    std::unique_ptr<PaymentService> service_;
    FakeTerminal* terminal_ = nullptr;
    std::function<void(const zvt::OperationRequest&)> script_;  // given to every fake made
    int terminals_made_ = 0;
    std::string made_currency_;
    std::map<std::string, std::vector<json::object>> replies_;
    std::map<std::string, FakeTerminal*> fakes_;
    std::vector<std::pair<std::string, std::string>> published_;  // (event state, ledger state then)
    std::vector<std::pair<std::string, json::object>> events_;
};

TEST_F(PaymentServiceTest, SentIsDurableBeforeTheTerminalHearsTheAmount) {
    ledger::PaymentState seen = ledger::PaymentState::requested;
    terminal_->on_begin = [&](const zvt::OperationRequest&) { seen = state_of(1); };
    auto reply = request("erp", pay("O-1", "O-1#1", 12500));
    ASSERT_TRUE(reply.at("ok").as_bool()) << json::serialize(reply);
    EXPECT_EQ(reply.at("result").at("state").as_string(), "sent");
    ASSERT_EQ(terminal_->begun.size(), 1u);
    EXPECT_EQ(terminal_->begun[0].op, zvt::Operation::authorisation);
    EXPECT_EQ(terminal_->begun[0].amount, 12500);
    EXPECT_EQ(seen, ledger::PaymentState::sent);
}

TEST_F(PaymentServiceTest, ResultEvidenceIsDurableBeforeTheAcknowledgementAndTheEventAfterTheOutcome) {
    request("erp", pay("O-1", "O-1#1", 12500));
    const auto before = journal_events();
    bool acked = false;
    std::int64_t events_at_ack = 0;
    terminal_->cb.on_persist(zvt::PersistResult{zvt::Operation::authorisation, approved_data(12500, 7)},
                             [&](bool ok) {
                                 acked = ok;
                                 events_at_ack = journal_events();
                             });
    EXPECT_FALSE(acked) << "the acknowledgement may not be given before the ledger write";
    run_until([&] { return acked; });
    EXPECT_EQ(events_at_ack, before + 1);
    EXPECT_EQ(state_of(1), ledger::PaymentState::sent);
    EXPECT_EQ(count_events("payment.result"), 0u);

    zvt::Finished f{zvt::Operation::authorisation, zvt::Outcome::approved, 0, approved_data(12500, 7), {}, {}, "approved"};
    terminal_->finish(f);
    run_until([&] { return count_events("payment.result") == 1; });
    EXPECT_EQ(state_of(1), ledger::PaymentState::approved);
    auto p = ledger_->reader()->payment({1});
    EXPECT_EQ(p->terminal.brand, CardBrand::visa);
    EXPECT_EQ(p->terminal.pan.str(), "476173******0119");
    EXPECT_EQ(p->terminal.receipt_no, 7u);
    const auto& ev = events_.back();
    EXPECT_EQ(ev.first, "payment.result.O-1");
    EXPECT_EQ(ev.second.at("state").as_string(), "approved");
}

TEST_F(PaymentServiceTest, SameRequestKeyReturnsTheSamePaymentAndStartsNothing) {
    auto first = request("erp", pay("O-1", "O-1#1", 12500));
    auto second = request("erp", pay("O-1", "O-1#1", 12500));
    ASSERT_TRUE(second.at("ok").as_bool());
    EXPECT_EQ(second.at("result").at("payment_id"), first.at("result").at("payment_id"));
    EXPECT_EQ(terminal_->begun.size(), 1u);
    EXPECT_EQ(payments(), 1u);
    auto conflict = request("erp", pay("O-1", "O-1#1", 999));
    EXPECT_EQ(conflict.at("error").at("code").as_int64(), 2013);
}

TEST_F(PaymentServiceTest, BusyTerminalIsRefusedWithoutAnyLedgerWrite) {
    request("erp", pay("O-1", "O-1#1", 12500));
    const auto before = journal_events();
    auto busy = request("erp", pay("O-2", "O-2#1", 500));
    ASSERT_FALSE(busy.at("ok").as_bool());
    EXPECT_EQ(busy.at("error").at("code").as_int64(), 2001);
    EXPECT_EQ(journal_events(), before);
    EXPECT_EQ(terminal_->begun.size(), 1u);
}

TEST_F(PaymentServiceTest, TwoRequestsInOneLoopTickReserveTheTerminalOnce) {
    service_->handle("a", pay("O-1", "O-1#1", 100));
    service_->handle("b", pay("O-2", "O-2#1", 200));
    run_until([&] { return !replies_["a"].empty() && !replies_["b"].empty(); });
    EXPECT_TRUE(replies_["a"].back().at("ok").as_bool());
    EXPECT_EQ(replies_["b"].back().at("error").at("code").as_int64(), 2001);
    EXPECT_EQ(terminal_->begun.size(), 1u);
}

TEST_F(PaymentServiceTest, ChecksComeFirstAndChangeNothing) {
    const auto before = journal_events();
    EXPECT_EQ(request("erp", pay("O-1", "k1", 100, "anna", "SEK", "T9")).at("error").at("code").as_int64(), 2000);
    EXPECT_EQ(request("erp", pay("O-1", "k2", 100, "anna", "EUR")).at("error").at("code").as_int64(), 2008);
    EXPECT_EQ(request("erp", pay("O-1", "k3", 100, "nobody")).at("error").at("code").as_int64(), 2011);
    EXPECT_EQ(request("erp", pay("O-1", "k5", 100, "carol")).at("error").at("code").as_int64(), 2004);
    EXPECT_EQ(request("erp", pay("O-1", "k4", 0)).at("error").at("code").as_int64(), 2007);
    EXPECT_EQ(request("erp", R"({"v":1,"id":"x","type":"payment.start")").at("error").at("code").as_int64(), 1000);
    EXPECT_EQ(journal_events(), before);
    EXPECT_TRUE(terminal_->begun.empty());
}

TEST_F(PaymentServiceTest, CashNeedsTheTakeCashRight) {
    const std::string cash = R"({"v":1,"id":"c","type":"cash.record","order_id":"O-9","request_key":"O-9#c",
        "amount":5000,"currency":"SEK","register":"K1","operator":")";
    auto denied = request("erp", cash + R"(bob"})");
    EXPECT_EQ(denied.at("error").at("code").as_int64(), 2004);
    EXPECT_EQ(payments(), 0u);
    auto ok = request("erp", cash + R"(anna"})");
    ASSERT_TRUE(ok.at("ok").as_bool()) << json::serialize(ok);
    EXPECT_EQ(ok.at("result").at("state").as_string(), "approved");
    EXPECT_EQ(ok.at("result").at("kind").as_string(), "cash");
    EXPECT_TRUE(terminal_->begun.empty());
}

TEST_F(PaymentServiceTest, UnknownOutcomeIsRecoveredByRepeatReceiptBeforeNewWork) {
    request("erp", pay("O-1", "O-1#1", 12500));
    terminal_->finish({zvt::Operation::authorisation, zvt::Outcome::unknown, 0, {}, {}, {}, "link lost"});
    run_until([&] { return terminal_->begun.size() == 2; });
    EXPECT_EQ(terminal_->begun[1].op, zvt::Operation::repeat_receipt);
    EXPECT_EQ(state_of(1), ledger::PaymentState::unknown);
    // While recovering, no new payment starts on this terminal.
    EXPECT_EQ(request("erp", pay("O-2", "O-2#1", 1)).at("error").at("code").as_int64(), 2001);
    terminal_->finish({zvt::Operation::repeat_receipt, zvt::Outcome::done, 0, approved_data(12500, 8), {}, {}, "done"});
    run_until([&] { return state_of(1) == ledger::PaymentState::approved; });
    run_until([&] { return request("erp", pay("O-2", "O-2#2", 1)).at("ok").as_bool(); });
}

TEST_F(PaymentServiceTest, RecoveryFindingTheTerminalDidNotChargeRecordsAborted) {
    request("erp", pay("O-1", "O-1#1", 12500));
    terminal_->finish({zvt::Operation::authorisation, zvt::Outcome::unknown, 0, {}, {}, {}, "link lost"});
    run_until([&] { return terminal_->begun.size() == 2; });
    auto reversed = approved_data(12500, 8);
    reversed.result_code = zvt::rc::abort_timeout_or_key;  // auto-reversal
    terminal_->finish({zvt::Operation::repeat_receipt, zvt::Outcome::done, 0x6C, reversed, {}, {}, "done"});
    run_until([&] { return state_of(1) == ledger::PaymentState::aborted; });
    EXPECT_GE(count_events("interim.changed"), 1u);
}

TEST_F(PaymentServiceTest, UndecidableRecoveryStaysUnknownInTheInterimAccount) {
    request("erp", pay("O-1", "O-1#1", 12500));
    terminal_->finish({zvt::Operation::authorisation, zvt::Outcome::unknown, 0, {}, {}, {}, "link lost"});
    run_until([&] { return terminal_->begun.size() == 2; });
    terminal_->finish({zvt::Operation::repeat_receipt, zvt::Outcome::done, 0, approved_data(999, 8), {}, {}, "done"});
    run_until([&] {
        return !request("erp", R"({"v":1,"id":"t","type":"terminal.status","terminal":"T1"})")
                    .at("result").at("terminals").as_array()[0].at("busy").as_bool();
    });
    EXPECT_EQ(state_of(1), ledger::PaymentState::unknown);
    EXPECT_EQ(request("erp", R"({"v":1,"id":"i","type":"interim.list"})").at("result").at("entries").as_array().size(), 1u);
    // A second payment of the same order cannot start while this one is unknown.
    EXPECT_EQ(request("erp", pay("O-1", "O-1#2", 12500)).at("error").at("code").as_int64(), 2003);
}

TEST_F(PaymentServiceTest, DeclinedPaymentFreesTheTerminal) {
    request("erp", pay("O-1", "O-1#1", 12551));
    zvt::TransactionData d;
    d.result_code = 0x05;
    terminal_->finish({zvt::Operation::authorisation, zvt::Outcome::declined, 0x05, d, {}, {}, "declined"});
    run_until([&] { return state_of(1) == ledger::PaymentState::declined; });
    run_until([&] { return request("erp", pay("O-1", "O-1#2", 12550)).at("ok").as_bool(); });
}

TEST_F(PaymentServiceTest, ReloadWaitsForTheRunningPaymentBeforeReplacingTheTerminal) {
    request("erp", pay("O-1", "O-1#1", 100));
    Config next = config_;
    next.terminals[0].currency = *currency_from_code("EUR");
    service_->reload(next);
    run_until([&] { return true; });
    EXPECT_EQ(terminals_made_, 1) << "a payment in flight is never cut short by a reload";
    zvt::TransactionData d;
    d.result_code = 0x05;
    terminal_->finish({zvt::Operation::authorisation, zvt::Outcome::declined, 0x05, d, {}, {}, "declined"});
    run_until([&] { return terminals_made_ == 2; });
    EXPECT_EQ(made_currency_, "EUR");
    run_until([&] { return request("erp", pay("O-2", "O-2#1", 100)).at("error").at("code").as_int64() == 2008; });
}


// ---- more of issue 5 / design.md §4 --------------------------------------------------------

zvt::Finished finished(zvt::Operation op, zvt::Outcome o, std::uint8_t rc, std::optional<zvt::TransactionData> d,
                       std::string why) {
    return {op, o, rc, std::move(d), {}, {}, std::move(why)};
}

std::string status_state(const json::object& reply, std::size_t i = 0) {
    return std::string(reply.at("result").at("terminals").as_array()[i].at("state").as_string());
}

// The driver's commit rule: persist, wait for done(true), then the outcome.
void approve(FakeTerminal& t, std::int64_t amount, std::uint16_t receipt, std::function<void()> run) {
    bool acked = false;
    t.cb.on_persist(zvt::PersistResult{zvt::Operation::authorisation, approved_data(amount, receipt)},
                    [&](bool ok) { acked = ok; });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!acked && std::chrono::steady_clock::now() < deadline) run();
    ASSERT_TRUE(acked);
    t.finish(finished(zvt::Operation::authorisation, zvt::Outcome::approved, 0, approved_data(amount, receipt), "approved"));
}

TEST_F(PaymentServiceTest, EveryOutcomeIsDurableBeforeItsEvent) {
    request("erp", pay("O-1", "O-1#1", 12500));
    approve(*terminal_, 12500, 7, [&] { io_.restart(); io_.run_for(std::chrono::milliseconds(2)); });
    run_until([&] { return count_events("payment.result") == 1; });
    request("erp", pay("O-2", "O-2#1", 300));
    terminal_->finish(finished(zvt::Operation::authorisation, zvt::Outcome::aborted, 0x6C, {}, "abort via timeout or abort-key"));
    run_until([&] { return count_events("payment.result") == 2; });
    ASSERT_EQ(published_.size(), 2u);
    for (const auto& [said, stored] : published_) EXPECT_EQ(said, stored) << "the ERP heard of an outcome the ledger did not hold";
    EXPECT_EQ(published_[0].first, "approved");
    EXPECT_EQ(published_[1].first, "aborted");
}

TEST_F(PaymentServiceTest, AbortedPaymentGoesToTheInterimAccount) {
    request("erp", pay("O-1", "O-1#1", 12552));
    terminal_->finish(finished(zvt::Operation::authorisation, zvt::Outcome::aborted, 0x6C, {}, "abort via timeout or abort-key"));
    run_until([&] { return count_events("interim.changed") == 1; });
    EXPECT_EQ(state_of(1), ledger::PaymentState::aborted);
    auto list = request("erp", R"({"v":1,"id":"i","type":"interim.list","terminal":"T1"})");
    ASSERT_EQ(list.at("result").at("entries").as_array().size(), 1u);
    EXPECT_EQ(list.at("result").at("entries").as_array()[0].at("reason").as_string(), "aborted");
    // A person with the right resolves it; without it: 2004, unknown operator: 2011.
    const std::string resolve = R"({"v":1,"id":"r","type":"interim.resolve","entry_id":"i-1","resolution":"written_off","reason":"customer left","operator":")";
    EXPECT_EQ(request("erp", resolve + R"(bob"})").at("error").at("code").as_int64(), 2004);
    EXPECT_EQ(request("erp", resolve + R"(nobody"})").at("error").at("code").as_int64(), 2011);
    auto ok = request("erp", resolve + R"(anna"})");
    ASSERT_TRUE(ok.at("ok").as_bool()) << json::serialize(ok);
    EXPECT_EQ(ok.at("result").at("state").as_string(), "resolved");
    EXPECT_EQ(state_of(1), ledger::PaymentState::resolved);
    EXPECT_EQ(request("erp", resolve + R"(anna"})").at("error").at("code").as_int64(), 2006);
    // The state filter: open (default) no longer lists it, resolved and all do.
    auto entries = [&](const std::string& state) {
        return request("erp", R"({"v":1,"id":"i","type":"interim.list","state":")" + state + R"("})")
            .at("result").at("entries").as_array();
    };
    EXPECT_EQ(entries("open").size(), 0u);
    ASSERT_EQ(entries("resolved").size(), 1u);
    EXPECT_EQ(entries("resolved")[0].at("resolution").as_string(), "written_off");
    EXPECT_EQ(entries("all").size(), 1u);
}

TEST_F(PaymentServiceTest, TerminalRefusingTheCommandIsRecordedDeclinedWithItsResultCode) {
    request("erp", pay("O-1", "O-1#1", 100));
    terminal_->finish(finished(zvt::Operation::authorisation, zvt::Outcome::rejected, 0x83, {}, "function not possible"));
    run_until([&] { return count_events("payment.result") == 1; });
    auto p = ledger_->reader()->payment({1});
    EXPECT_EQ(p->state, ledger::PaymentState::declined);
    EXPECT_EQ(p->terminal.result_code, std::optional<std::uint8_t>(0x83));
    EXPECT_EQ(p->terminal.text, "function not possible");
}

TEST_F(PaymentServiceTest, SecondPaymentOfAnOrderWhileTheFirstIsSentIsRefused) {
    request("erp", pay("O-1", "O-1#1", 100));
    const auto before = journal_events();
    auto dup = request("erp", pay("O-1", "O-1#2", 100, "anna", "SEK", "T2"));
    EXPECT_EQ(dup.at("error").at("code").as_int64(), 2003) << json::serialize(dup);
    EXPECT_EQ(journal_events(), before);
    EXPECT_TRUE(fakes_["T2"]->begun.empty());
    // T2 is free again for another order.
    EXPECT_TRUE(request("erp", pay("O-2", "O-2#1", 100, "anna", "SEK", "T2")).at("ok").as_bool());
}

TEST_F(PaymentServiceTest, UnknownRegisterIsRefusedBeforeAnythingIsWritten) {
    const auto before = journal_events();
    auto r = request("erp", R"({"v":1,"id":"c","type":"payment.start","order_id":"O-1","request_key":"k","total":100,
        "currency":"SEK","register":"K9","terminal":"T1","operator":"anna"})");
    EXPECT_EQ(r.at("error").at("code").as_int64(), 2010);
    EXPECT_EQ(journal_events(), before);
}

TEST_F(PaymentServiceTest, ProgressAndReceiptsBecomeEventsOfThePayment) {
    request("erp", pay("O-1", "O-1#1", 100));
    terminal_->cb.on_progress({0x0A, "Insert card"});
    terminal_->cb.on_receipt({{"KUNDKVITTO", "VISA ****0119"}, 2, false});
    terminal_->cb.on_receipt({{"GODKAND"}, 2, true});
    ASSERT_EQ(count_events("payment.progress"), 1u);
    ASSERT_EQ(count_events("payment.receipt"), 1u);
    for (const auto& [topic, body] : events_) {
        if (body.at("type").as_string() == "payment.progress") {
            EXPECT_EQ(topic, "payment.progress.O-1");
            EXPECT_EQ(body.at("code").as_int64(), 10);
            EXPECT_EQ(body.at("payment_id").as_string(), "p-000001");
        }
        if (body.at("type").as_string() == "payment.receipt") {
            EXPECT_EQ(body.at("receipt_type").as_string(), "customer");
            EXPECT_EQ(body.at("lines").as_array().size(), 3u);
        }
    }
}

TEST_F(PaymentServiceTest, CancelAbortsOnlyAPaymentWaitingAtTheTerminal) {
    request("erp", pay("O-1", "O-1#1", 100));
    auto c = request("erp", R"({"v":1,"id":"x","type":"payment.cancel","request_key":"O-1#1"})");
    ASSERT_TRUE(c.at("ok").as_bool());
    EXPECT_EQ(terminal_->aborts, 1);
    terminal_->finish(finished(zvt::Operation::authorisation, zvt::Outcome::aborted, 0x6C, {}, "aborted"));
    run_until([&] { return count_events("payment.result") == 1; });
    EXPECT_EQ(state_of(1), ledger::PaymentState::aborted);
    auto late = request("erp", R"({"v":1,"id":"x","type":"payment.cancel","payment_id":"p-000001"})");
    ASSERT_FALSE(late.at("ok").as_bool()) << json::serialize(late);
    EXPECT_EQ(late.at("error").at("code").as_int64(), 2006);
    EXPECT_EQ(request("erp", R"({"v":1,"id":"x","type":"payment.cancel","payment_id":"p-000009"})").at("error").at("code").as_int64(), 2005);
    EXPECT_EQ(terminal_->aborts, 1);
}

TEST_F(PaymentServiceTest, ReversalRunsOnTheSameTerminalWithTheOriginalReceiptNumber) {
    request("erp", pay("O-1", "O-1#1", 12500));
    approve(*terminal_, 12500, 42, [&] { io_.restart(); io_.run_for(std::chrono::milliseconds(2)); });
    run_until([&] { return count_events("payment.result") == 1; });  // the terminal is free after it
    const std::string reverse = R"({"v":1,"id":"v","type":"payment.reverse","payment_id":"p-000001","operator":")";
    EXPECT_EQ(request("erp", reverse + R"(bob"})").at("error").at("code").as_int64(), 2004);
    EXPECT_EQ(terminal_->begun.size(), 1u);
    service_->handle("erp", reverse + R"(anna"})");
    run_until([&] { return terminal_->begun.size() == 2 || replies_["erp"].size() == 3; });
    ASSERT_EQ(terminal_->begun.size(), 2u) << json::serialize(replies_["erp"].back());
    EXPECT_EQ(terminal_->begun[1].op, zvt::Operation::reversal);
    EXPECT_EQ(terminal_->begun[1].receipt_no, std::optional<std::uint16_t>(42));
    auto rev = approved_data(12500, 43);
    terminal_->finish(finished(zvt::Operation::reversal, zvt::Outcome::approved, 0, rev, "approved"));
    run_until([&] { return state_of(1) == ledger::PaymentState::reversed; });
    // Reversing again: nothing more on the terminal.
    EXPECT_EQ(request("erp", reverse + R"(anna"})").at("error").at("code").as_int64(), 2006);
    EXPECT_EQ(terminal_->begun.size(), 2u);
}

TEST_F(PaymentServiceTest, RefundRunsTheRefundOperation) {
    request("erp", pay("O-1", "O-1#1", 12500));
    approve(*terminal_, 12500, 42, [&] { io_.restart(); io_.run_for(std::chrono::milliseconds(2)); });
    run_until([&] { return count_events("payment.result") == 1; });
    service_->handle("erp", R"({"v":1,"id":"f","type":"payment.refund","payment_id":"p-000001","request_key":"O-1#r1","operator":"anna"})");
    run_until([&] { return terminal_->begun.size() == 2; });
    EXPECT_EQ(terminal_->begun[1].op, zvt::Operation::refund);
    EXPECT_EQ(terminal_->begun[1].amount, 12500);
    terminal_->finish(finished(zvt::Operation::refund, zvt::Outcome::approved, 0, approved_data(12500, 44), "approved"));
    run_until([&] { return state_of(1) == ledger::PaymentState::refunded; });
}

TEST_F(PaymentServiceTest, RecoveryFindingThePreviousPaymentsReceiptRecordsAborted) {
    request("erp", pay("O-1", "O-1#1", 12500));
    approve(*terminal_, 12500, 7, [&] { io_.restart(); io_.run_for(std::chrono::milliseconds(2)); });
    run_until([&] { return count_events("payment.result") == 1; });
    request("erp", pay("O-2", "O-2#1", 777));
    terminal_->finish(finished(zvt::Operation::authorisation, zvt::Outcome::unknown, 0, {}, "T3 expired"));
    run_until([&] { return terminal_->begun.size() == 3; });
    // The terminal's last transaction is still O-1's receipt 7: O-2 never reached it.
    const auto before = journal_events();
    terminal_->finish(finished(zvt::Operation::repeat_receipt, zvt::Outcome::done, 0, approved_data(12500, 7), "done"));
    run_until([&] { return state_of(2) == ledger::PaymentState::aborted; });
    EXPECT_EQ(journal_events(), before + 2) << "the terminal's answer is kept as evidence, then the outcome";
    EXPECT_FALSE(ledger_->reader()->payment({2})->terminal.receipt_no) << "O-1's receipt is not O-2's";
    EXPECT_EQ(state_of(1), ledger::PaymentState::approved);
}

TEST_F(PaymentServiceTest, GracefulStopRefusesNewWorkAndWaitsForTheRunningPayment) {
    request("erp", pay("O-1", "O-1#1", 100));
    bool done = false;
    service_->stop(std::chrono::steady_clock::now() + std::chrono::seconds(30), [&] { done = true; });
    EXPECT_EQ(request("erp", pay("O-2", "O-2#1", 100, "anna", "SEK", "T2")).at("error").at("code").as_int64(), 2015);
    EXPECT_FALSE(done);
    terminal_->finish(finished(zvt::Operation::authorisation, zvt::Outcome::declined, 5, {}, "declined"));
    run_until([&] { return done; });
    EXPECT_EQ(state_of(1), ledger::PaymentState::declined);
}

TEST_F(PaymentServiceTest, StopDeadlineRecordsTheRunningPaymentUnknown) {
    request("erp", pay("O-1", "O-1#1", 100));
    bool done = false;
    service_->stop(std::chrono::steady_clock::now() + std::chrono::milliseconds(20), [&] { done = true; });
    run_until([&] { return done; });
    run_until([&] { return state_of(1) == ledger::PaymentState::unknown; });
}

TEST_F(PaymentServiceTest, DayCloseRunsEndOfDayAndPublishesTheTotals) {
    const std::string run = R"({"v":1,"id":"d","type":"day_close.run","terminal":"T1","operator":")";
    EXPECT_EQ(request("erp", run + R"(bob"})").at("error").at("code").as_int64(), 2004);
    auto ok = request("erp", run + R"(anna"})");
    ASSERT_TRUE(ok.at("ok").as_bool()) << json::serialize(ok);
    ASSERT_EQ(terminal_->begun.size(), 1u);
    EXPECT_EQ(terminal_->begun[0].op, zvt::Operation::end_of_day);
    zvt::TransactionData d;
    d.totals = zvt::EodTotals{};
    terminal_->finish(finished(zvt::Operation::end_of_day, zvt::Outcome::approved, 0, d, "end of day completed"));
    run_until([&] { return count_events("day_close.done") == 1; });
    for (const auto& [topic, body] : events_)
        if (body.at("type").as_string() == "day_close.done") {
            EXPECT_EQ(topic, "day_close.done.T1");
            EXPECT_TRUE(body.at("ok").as_bool());
            EXPECT_TRUE(body.at("matches").as_bool());  // nothing taken, nothing on the terminal
        }
}

TEST_F(PaymentServiceTest, CashReconciliationComparesTheCountWithTheLedger) {
    ASSERT_TRUE(request("erp", R"({"v":1,"id":"c","type":"cash.record","order_id":"O-9","request_key":"O-9#c",
        "amount":5000,"currency":"SEK","register":"K1","operator":"anna"})").at("ok").as_bool());
    const std::string count = R"({"v":1,"id":"r","type":"cash.reconcile","register":"K1","counted":4900,"currency":"SEK","operator":")";
    EXPECT_EQ(request("erp", count + R"(bob"})").at("error").at("code").as_int64(), 2004);
    EXPECT_EQ(request("erp", count + R"(nobody"})").at("error").at("code").as_int64(), 2011);
    auto ok = request("erp", count + R"(anna"})");
    ASSERT_TRUE(ok.at("ok").as_bool()) << json::serialize(ok);
    EXPECT_EQ(ok.at("result").at("cash_in").as_int64(), 5000);
    EXPECT_EQ(ok.at("result").at("expected").as_int64(), 5000);
    EXPECT_EQ(ok.at("result").at("difference").as_int64(), -100);
}

TEST_F(PaymentServiceTest, SeedingTheLedgerAgainAtRestartAppliesTheConfig) {
    // Seen by hand: the second start of a daemon whose config has an administrator failed.
    Config next = config_;
    for (auto& o : next.operators)
        if (o.id == "bob") o.rights.push_back("take_cash");
    auto again = seed_ledger(*ledger_, next);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(ledger_->reader()->may("bob", ledger::Right::take_cash));
}

TEST_F(PaymentServiceTest, UpstreamTypesAreNotSupportedYet) {
    auto r = request("erp", R"({"v":1,"id":"b","type":"benefit.verify","order_id":"O-1","voucher":"EP-5531"})");
    EXPECT_EQ(r.at("error").at("code").as_int64(), 2014);
    EXPECT_EQ(r.at("id").as_string(), "b");
}

// A daemon that restarts with work left in the ledger recovers it before the terminal takes new work.
class StartupRecoveryTest : public PaymentServiceTest {
protected:
    void SetUp() override {
        prepare();
        auto seeded = ledger_->run<bool>([](ledger::Tx& tx) -> ledger::Result<bool> {
            ledger::PaymentRequest r;
            r.amount = Money{500, *currency_from_code("SEK")};
            r.register_id = "K1";
            r.terminal_id = "T1";
            r.operator_id = "anna";
            r.business_date = "2023-11-14";
            r.order_id = "O-A";
            r.request_key = "O-A#1";
            if (!tx.begin_payment(r)) return false;  // requested: never sent
            r.order_id = "O-B";
            r.request_key = "O-B#1";
            r.amount.minor = 12500;
            auto b = tx.begin_payment(r);
            if (!b || !tx.mark_sent(b->payment.id)) return false;  // sent: outcome never seen
            return true;
        });
        ASSERT_TRUE(seeded && *seeded);
        start_service();
    }
};

TEST_F(StartupRecoveryTest, RequestedIsRejectedSentIsAskedAndDecidedBeforeNewWork) {
    run_until([&] { return terminal_->begun.size() == 1; });
    EXPECT_EQ(terminal_->begun[0].op, zvt::Operation::repeat_receipt);
    EXPECT_EQ(state_of(1), ledger::PaymentState::rejected);
    EXPECT_EQ(state_of(2), ledger::PaymentState::unknown);
    auto status = request("erp", R"({"v":1,"id":"s","type":"terminal.status","terminal":"T1"})");
    EXPECT_EQ(status_state(status), "recovering");
    EXPECT_EQ(request("erp", pay("O-C", "O-C#1", 100)).at("error").at("code").as_int64(), 2001);
    terminal_->finish(finished(zvt::Operation::repeat_receipt, zvt::Outcome::done, 0, approved_data(12500, 9), "done"));
    run_until([&] { return state_of(2) == ledger::PaymentState::approved; });
    run_until([&] { return status_state(request("erp", R"({"v":1,"id":"s","type":"terminal.status","terminal":"T1"})")) == "ready"; });
    // The ERP heard of every recovered payment, each only once the ledger held it.
    std::vector<std::string> states;
    for (const auto& [said, stored] : published_) {
        EXPECT_EQ(said, stored);
        states.push_back(said);
    }
    EXPECT_EQ(states, (std::vector<std::string>{"rejected", "unknown", "approved"}));
    EXPECT_TRUE(request("erp", pay("O-C", "O-C#2", 100)).at("ok").as_bool());
}

}  // namespace
}  // namespace pb::daemon
