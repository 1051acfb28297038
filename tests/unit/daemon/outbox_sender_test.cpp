// The outbox sender (daemon/outbox_sender.hpp) with a real ledger and a fake upstream client:
// retried until acknowledged with the same key, refusals go to the dead letters at once, an
// unconfigured service backs off, and a poke delivers a new message without waiting.
#include "daemon/outbox_sender.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <deque>
#include <filesystem>
#include <map>

namespace pb::daemon {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::int64_t utc_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// Answers from a script per idempotency key (the last answer repeats); records every call.
class FakeClient final : public adapters::UpstreamClient {
public:
    explicit FakeClient(asio::any_io_executor ex) : ex_(std::move(ex)) { ep_.name = "commitment"; }
    void call(adapters::HttpCall c, std::function<void(adapters::CallResult)> done) override {
        calls.push_back(c);
        auto& script = scripts[c.idempotency_key];
        adapters::CallResult r = adapters::HttpReply{201, R"({"receipt_id":"r-1"})"};
        if (!script.empty()) {
            r = script.front();
            if (script.size() > 1) script.pop_front();
        }
        asio::post(ex_, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
    }
    const adapters::UpstreamEndpoint& endpoint() const override { return ep_; }

    std::map<std::string, std::deque<adapters::CallResult>> scripts;
    std::vector<adapters::HttpCall> calls;

private:
    asio::any_io_executor ex_;
    adapters::UpstreamEndpoint ep_;
};

adapters::CallResult reset() { return pb::unexpected(adapters::CallError{adapters::CallErrc::reset, "reset by peer"}); }
adapters::CallResult status(unsigned s, std::string body = "") { return adapters::HttpReply{s, std::move(body)}; }

struct OutboxSenderTest : ::testing::Test {
    asio::io_context io;
    std::filesystem::path dir;
    std::unique_ptr<ledger::Ledger> ledger;
    FakeClient client{io.get_executor()};
    Metrics metrics;
    std::vector<ledger::OutboxMessage> settled;
    std::unique_ptr<OutboxSender> sender;

    void SetUp() override {
        std::string t = (std::filesystem::temp_directory_path() / "pb-outbox-XXXXXX").string();
        ASSERT_NE(::mkdtemp(t.data()), nullptr);
        dir = t;
        ledger::Options o;
        o.path = (dir / "ledger.sqlite").string();
        o.clock = utc_ms;
        auto l = ledger::Ledger::open(o);
        ASSERT_TRUE(l) << l.error().message;
        ledger = std::move(*l);
        OutboxSenderDeps d;
        d.executor = io.get_executor();
        d.ledger = ledger.get();
        d.policy = ledger::RetryPolicy{20, 80, 3600 * 1000};
        d.client_for = [this](const std::string& s) -> adapters::UpstreamClient* { return s == "commitment" ? &client : nullptr; };
        d.on_settled = [this](const ledger::OutboxMessage& m) { settled.push_back(m); };
        d.metrics = &metrics;
        sender = std::make_unique<OutboxSender>(std::move(d));
    }
    void TearDown() override {
        sender.reset();
        ledger.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }

    void enqueue(const std::string& key, const std::string& service = "commitment") {
        ledger::OutboxNew m;
        m.idempotency_key = key;
        m.service = service;
        m.path = "/v1/commitments/receipts";
        m.body = R"({"k":")" + key + R"("})";
        m.subject = "payment/1";
        ASSERT_TRUE(ledger->run<ledger::OutboxMessage>([&](ledger::Tx& tx) { return ledger::outbox_enqueue(tx, m); }));
    }

    /// Runs the loop until `done` holds; false after the deadline (bounded, no sleeping).
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds deadline = 10s) {
        auto until = std::chrono::steady_clock::now() + deadline;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= until) return false;
            io.restart();
            io.run_for(10ms);
        }
        return true;
    }
};

TEST_F(OutboxSenderTest, RetriedWithTheSameKeyUntilAcknowledged) {
    client.scripts["k-1"] = {reset(), status(503, R"({"error":{"code":"unavailable"}})"), status(201, R"({"receipt_id":"r-9"})")};
    enqueue("k-1");
    sender->start();
    ASSERT_TRUE(run_until([&] { return settled.size() == 1; }));
    EXPECT_EQ(settled[0].state, ledger::OutboxState::delivered);
    EXPECT_EQ(settled[0].attempts, 3);
    EXPECT_EQ(settled[0].reply, R"({"receipt_id":"r-9"})");
    ASSERT_EQ(client.calls.size(), 3u);
    for (const auto& c : client.calls) {
        EXPECT_EQ(c.idempotency_key, "k-1");
        EXPECT_EQ(c.body, R"({"k":"k-1"})");
        EXPECT_EQ(c.path, "/v1/commitments/receipts");
    }
    EXPECT_EQ(sender->counters().failed_attempts, 2u);
    const std::string exposed = metrics.expose();
    EXPECT_NE(exposed.find("paybridge_outbox_failed_attempts_total{service=\"commitment\"} 2"), std::string::npos) << exposed;
    EXPECT_NE(exposed.find("paybridge_outbox_delivered_total{service=\"commitment\"} 1"), std::string::npos) << exposed;
}

TEST_F(OutboxSenderTest, RefusalIsADeadLetterAtOnceButCredentialsProblemsAreRetried) {
    client.scripts["k-refused"] = {status(409, R"({"error":{"code":"idempotency_conflict","message":"x"}})")};
    client.scripts["k-401"] = {status(401, R"({"error":{"code":"unauthorized"}})"), status(201, "{}")};
    enqueue("k-refused");
    enqueue("k-401");
    sender->start();
    ASSERT_TRUE(run_until([&] { return settled.size() == 2; }));
    std::map<std::string, ledger::OutboxMessage> by_key;
    for (const auto& m : settled) by_key[m.idempotency_key] = m;
    EXPECT_EQ(by_key["k-refused"].state, ledger::OutboxState::dead);
    EXPECT_NE(by_key["k-refused"].last_error.find("idempotency_conflict"), std::string::npos) << by_key["k-refused"].last_error;
    EXPECT_EQ(by_key["k-refused"].attempts, 1);
    EXPECT_EQ(by_key["k-401"].state, ledger::OutboxState::delivered);
    EXPECT_EQ(by_key["k-401"].attempts, 2);
}

TEST_F(OutboxSenderTest, UnconfiguredServiceBacksOffAndNothingIsSent) {
    enqueue("k-benefit", "benefit");
    sender->start();
    ASSERT_TRUE(run_until([&] {
        auto m = ledger->run<ledger::OutboxMessage>([](ledger::Tx& tx) { return ledger::outbox_get(tx, 1); });
        return m && m->attempts >= 2;
    }));
    auto m = ledger->run<ledger::OutboxMessage>([](ledger::Tx& tx) { return ledger::outbox_get(tx, 1); });
    ASSERT_TRUE(m);
    EXPECT_EQ(m->state, ledger::OutboxState::pending);
    EXPECT_NE(m->last_error.find("service 'benefit' is not configured"), std::string::npos);
    EXPECT_TRUE(client.calls.empty());
}

TEST_F(OutboxSenderTest, PokeDeliversANewMessageWithoutWaitingForTheIdleTimer) {
    sender->start();
    run_until([] { return false; }, 50ms);  // the first round finds nothing and goes idle (30 s)
    enqueue("k-new");
    auto started = std::chrono::steady_clock::now();
    sender->poke();
    ASSERT_TRUE(run_until([&] { return settled.size() == 1; }));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);  // not the 30 s idle wake-up
    EXPECT_EQ(settled[0].idempotency_key, "k-new");
}

}  // namespace
}  // namespace pb::daemon
