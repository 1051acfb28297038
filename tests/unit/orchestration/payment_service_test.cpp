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
    void stop() override {}
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
[[operator]]
id = "anna"
rights = ["take_card", "take_cash", "refund", "resolve_interim", "close_day", "administer"]
[[operator]]
id = "bob"
rights = ["take_card"]
)");
        ASSERT_TRUE(cfg) << (cfg ? "" : cfg.error().front().to_string());
        config_ = *cfg;
        ASSERT_TRUE(seed_ledger(*ledger_, config_));
        PaymentServiceDeps deps;
        deps.executor = io_.get_executor();
        deps.ledger = ledger_.get();
        deps.reply = [this](const std::string& client, std::string j) { replies_[client].push_back(json::parse(j).as_object()); };
        deps.publish = [this](std::string topic, std::string payload) {
            events_.push_back({topic, json::parse(payload).as_object()});
        };
        deps.make_terminal = [this](const TerminalConfig& tc, adapters::ZvtTerminalCallbacks cb) {
            auto t = std::make_unique<FakeTerminal>();
            t->id_ = tc.id;
            t->cb = std::move(cb);
            terminal_ = t.get();
            ++terminals_made_;
            made_currency_ = std::string(tc.currency.code());
            return t;
        };
        deps.clock_ms = [] { return std::int64_t{1700000000000}; };
        service_ = std::make_unique<PaymentService>(std::move(deps), config_);
        service_->start();
        run_until([&] { return !events_.empty(); });  // terminal.online
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
    int terminals_made_ = 0;
    std::string made_currency_;
    std::map<std::string, std::vector<json::object>> replies_;
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
    EXPECT_EQ(request("erp", pay("O-1", "k3", 100, "nobody")).at("error").at("code").as_int64(), 2004);
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

}  // namespace
}  // namespace pb::daemon
