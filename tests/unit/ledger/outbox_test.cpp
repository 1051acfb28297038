// The outbox (ledger/outbox.hpp): written with its payment in one transaction, same key once,
// retried with backoff until acknowledged, dead after its age or a refusal, retried by hand,
// and still there after the ledger is reopened.
#include "ledger/outbox.hpp"

#include "ledger_test_support.hpp"

namespace pb::ledger {
namespace {
using namespace testing;

OutboxNew message(const std::string& key, const std::string& body = R"({"n":1})") {
    OutboxNew m;
    m.idempotency_key = key;
    m.service = "commitment";
    m.path = "/v1/commitments/receipts";
    m.body = body;
    m.subject = "payment/1";
    return m;
}

struct OutboxTest : ::testing::Test {
    TempDir dir;
    ManualClock clock;
    std::unique_ptr<Ledger> ledger;
    RetryPolicy policy{1000, 8000, 60'000};

    void open() {
        auto o = file_options(dir.file("ledger.sqlite"));
        o.clock = clock.fn();
        auto l = Ledger::open(o);
        ASSERT_TRUE(l) << l.error().message;
        ledger = std::move(*l);
    }
    void SetUp() override { open(); }
    void advance(std::int64_t ms) { *clock.now += ms; }
    std::int64_t now() const { return clock.now->load(); }

    OutboxMessage enqueue(const OutboxNew& m) {
        auto r = ledger->run<OutboxMessage>([&](Tx& tx) { return outbox_enqueue(tx, m); });
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? *r : OutboxMessage{};
    }
    std::vector<OutboxMessage> due() {
        auto r = ledger->run<std::vector<OutboxMessage>>([&](Tx& tx) { return outbox_due(tx, now(), 100); });
        EXPECT_TRUE(r);
        return r ? *r : std::vector<OutboxMessage>{};
    }
    OutboxMessage fail(std::int64_t id, bool permanent = false) {
        auto r = ledger->run<OutboxMessage>(
            [&](Tx& tx) { return outbox_failed(tx, id, "HTTP 503", "", permanent, policy); });
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? *r : OutboxMessage{};
    }
};

TEST(OutboxBackoff, DoublesAndIsCapped) {
    RetryPolicy p{1000, 8000, 0};
    EXPECT_EQ(backoff_ms(1, p), 1000);
    EXPECT_EQ(backoff_ms(2, p), 2000);
    EXPECT_EQ(backoff_ms(3, p), 4000);
    EXPECT_EQ(backoff_ms(4, p), 8000);
    EXPECT_EQ(backoff_ms(40, p), 8000);
}

TEST_F(OutboxTest, EnqueuedMessageIsDueAtOnceAndTheSameKeyIsOneMessage) {
    auto a = enqueue(message("k-1"));
    EXPECT_EQ(a.state, OutboxState::pending);
    auto again = enqueue(message("k-1"));
    EXPECT_EQ(again.id, a.id);
    auto d = due();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].idempotency_key, "k-1");

    auto conflict = ledger->run<OutboxMessage>([&](Tx& tx) { return outbox_enqueue(tx, message("k-1", R"({"n":2})")); });
    ASSERT_FALSE(conflict);
    EXPECT_EQ(conflict.error().code, Errc::key_conflict);
}

TEST_F(OutboxTest, BadMessagesAreRefusedAndChangeNothing) {
    for (auto m : {message(""), message("has space"), message("k", "not json"), message("k", "[1]")}) {
        auto r = ledger->run<OutboxMessage>([&](Tx& tx) { return outbox_enqueue(tx, m); });
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, Errc::invalid_argument);
        EXPECT_FALSE(r.error().message.empty());
    }
    auto bad_path = message("k");
    bad_path.path = "v1/x";
    EXPECT_FALSE(ledger->run<OutboxMessage>([&](Tx& tx) { return outbox_enqueue(tx, bad_path); }));
    EXPECT_TRUE(due().empty());
}

TEST_F(OutboxTest, FailedAttemptsBackOffUntilAcknowledged) {
    auto m = enqueue(message("k-2"));
    auto f1 = fail(m.id);
    EXPECT_EQ(f1.attempts, 1);
    EXPECT_EQ(f1.next_attempt_utc_ms, now() + 1000);
    EXPECT_EQ(f1.last_error, "HTTP 503");
    EXPECT_TRUE(due().empty());
    advance(999);
    EXPECT_TRUE(due().empty());
    advance(1);
    ASSERT_EQ(due().size(), 1u);
    auto f2 = fail(m.id);
    EXPECT_EQ(f2.next_attempt_utc_ms, now() + 2000);
    auto next = ledger->run<std::optional<std::int64_t>>([](Tx& tx) { return outbox_next_due(tx); });
    ASSERT_TRUE(next && *next);
    EXPECT_EQ(**next, now() + 2000);

    advance(2000);
    auto ok = ledger->run<OutboxMessage>([&](Tx& tx) { return outbox_delivered(tx, m.id, R"({"receipt_id":"r-1"})"); });
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->state, OutboxState::delivered);
    EXPECT_EQ(ok->attempts, 3);
    EXPECT_EQ(ok->reply, R"({"receipt_id":"r-1"})");
    EXPECT_TRUE(due().empty());
    // A late failure report of a delivered message changes nothing.
    auto late = ledger->run<OutboxMessage>([&](Tx& tx) { return outbox_failed(tx, m.id, "late", "", false, policy); });
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, Errc::invalid_transition);
}

TEST_F(OutboxTest, TooOldOrRefusedGoesToDeadLettersAndRetryBringsItBack) {
    auto old = enqueue(message("k-old"));
    auto refused = enqueue(message("k-refused"));
    auto dead = fail(refused.id, true);
    EXPECT_EQ(dead.state, OutboxState::dead);
    advance(60'000);
    auto aged = fail(old.id);
    EXPECT_EQ(aged.state, OutboxState::dead);
    EXPECT_NE(aged.last_error.find("not acknowledged within 60 s"), std::string::npos) << aged.last_error;
    EXPECT_TRUE(due().empty());

    auto list = ledger->run<std::vector<OutboxMessage>>([](Tx& tx) {
        OutboxFilter f;
        f.state = OutboxState::dead;
        return outbox_list(tx, f);
    });
    ASSERT_TRUE(list);
    EXPECT_EQ(list->size(), 2u);

    auto not_dead = enqueue(message("k-live"));
    auto refuse = ledger->run<std::vector<OutboxMessage>>([&](Tx& tx) { return outbox_retry(tx, not_dead.id, "lena"); });
    ASSERT_FALSE(refuse);
    EXPECT_EQ(refuse.error().code, Errc::invalid_transition);

    auto back = ledger->run<std::vector<OutboxMessage>>([](Tx& tx) { return outbox_retry(tx, std::nullopt, "lena"); });
    ASSERT_TRUE(back);
    EXPECT_EQ(back->size(), 2u);
    EXPECT_EQ(due().size(), 3u);
    // The retried message's age starts again: one more failure does not kill it.
    EXPECT_EQ(fail(old.id).state, OutboxState::pending);
}

TEST_F(OutboxTest, PendingMessagesSurviveReopenWithTheirKeysAndAreOnTheAuditChain) {
    auto m = enqueue(message("k-durable"));
    fail(m.id);
    ledger.reset();
    open();
    advance(1000);
    auto d = due();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].idempotency_key, "k-durable");
    EXPECT_EQ(d[0].attempts, 1);
    auto report = ledger->reader()->verify();
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok) << report->problem;
}

TEST_F(OutboxTest, EnqueueRollsBackWithItsUnitOfWork) {
    // The payment and its message are one unit: if the unit fails, neither is stored.
    auto r = ledger->run<bool>([&](Tx& tx) -> Result<bool> {
        auto e = outbox_enqueue(tx, message("k-rolled-back"));
        if (!e) return pb::unexpected(e.error());
        return pb::unexpected(Error{Errc::invalid_argument, "the payment failed"});
    });
    ASSERT_FALSE(r);
    EXPECT_TRUE(due().empty());
}

}  // namespace
}  // namespace pb::ledger
