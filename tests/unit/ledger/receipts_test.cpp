// E-receipts in the ledger (ledger/receipts.hpp, migration 5): one receipt per order, final
// once, copies counted, slips and remembered choices, and the retention: after 30 days the
// document, the destination, the slips and the outbox bodies are gone for good, with an
// injected clock.
#include "ledger/receipts.hpp"

#include <sqlite3.h>

#include "ledger/outbox.hpp"
#include "ledger_test_support.hpp"

namespace pb::ledger {
namespace {
using namespace testing;

constexpr std::int64_t kDay = 86'400'000;

struct ReceiptsTest : ::testing::Test {
    TempDir dir;
    ManualClock clock;
    std::unique_ptr<Ledger> ledger;

    void SetUp() override {
        auto o = file_options(dir.file("ledger.sqlite"));
        o.clock = clock.fn();
        auto l = Ledger::open(o);
        ASSERT_TRUE(l) << l.error().message;
        ledger = std::move(*l);
    }
    std::int64_t now() const { return clock.now->load(); }

    void expect_chain_ok() {
        auto v = ledger->reader()->verify();
        ASSERT_TRUE(v);
        EXPECT_TRUE(v->ok) << v->problem;
    }

    /// "kind subject body" of every receipt.* event on the chain, in order.
    std::vector<std::string> receipt_events() {
        sqlite3* db = nullptr;
        std::vector<std::string> out;
        EXPECT_EQ(sqlite3_open_v2(dir.file("ledger.sqlite").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, "SELECT kind || ' ' || subject || ' ' || body FROM events WHERE kind LIKE 'receipt.%' ORDER BY seq",
                           -1, &st, nullptr);
        while (sqlite3_step(st) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out;
    }

    PaymentId approved(const std::string& order) {
        auto p = ledger->run<Payment>([&](Tx& tx) -> Result<Payment> {
            auto b = tx.begin_and_mark_sent(request(order, order + "#1"));
            if (!b) return pb::unexpected(b.error());
            return tx.record_result(b->payment.id, PaymentState::approved, visa_data());
        });
        EXPECT_TRUE(p) << (p ? "" : p.error().message);
        return p ? p->id : PaymentId{};
    }

    ReceiptOpened open(const std::string& id, const std::string& order, bool qr = true) {
        ReceiptOpenNew n{id, order, "K1", "C-1", qr, now() + 60'000, now() + 30 * kDay};
        auto r = ledger->run<ReceiptOpened>([&](Tx& tx) { return receipt_open(tx, n); });
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? *r : ReceiptOpened{};
    }
};

TEST_F(ReceiptsTest, OneReceiptPerOrderFinalOnce) {
    PaymentId p = approved("O-1");
    auto a = open("AAAAAAAAAAAAAAAAAAAAAA", "O-1");
    EXPECT_TRUE(a.created);
    EXPECT_EQ(a.receipt.state, ReceiptState::open);
    EXPECT_EQ(a.receipt.display_until_utc_ms, now() + 60'000);
    auto again = open("BBBBBBBBBBBBBBBBBBBBBB", "O-1");
    EXPECT_FALSE(again.created);
    EXPECT_EQ(again.receipt.id, "AAAAAAAAAAAAAAAAAAAAAA") << "the same order keeps its URL";

    ReceiptFinal f{"sms", "+46701234567", p, {"line 1", "line 2"}};
    auto done = ledger->run<ReceiptRecord>([&](Tx& tx) { return receipt_finalise(tx, a.receipt.id, f); });
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_EQ(done->state, ReceiptState::final);
    EXPECT_EQ(done->lines, f.lines);
    EXPECT_EQ(done->payment, p);
    auto twice = ledger->run<ReceiptRecord>([&](Tx& tx) { return receipt_finalise(tx, a.receipt.id, f); });
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, Errc::invalid_transition);
    EXPECT_NE(twice.error().message.find("final (sms)"), std::string::npos) << twice.error().message;

    auto n1 = ledger->run<std::int64_t>([&](Tx& tx) { return receipt_add_copy(tx, a.receipt.id, "email", "anna"); });
    auto n2 = ledger->run<std::int64_t>([&](Tx& tx) { return receipt_add_copy(tx, a.receipt.id, "print", ""); });
    ASSERT_TRUE(n1 && n2);
    EXPECT_EQ(*n1, 1);
    EXPECT_EQ(*n2, 2);
    // The chain holds no phone number and no receipt id.
    auto events = receipt_events();
    ASSERT_EQ(events.size(), 4u);  // opened, delivered, copied x2
    for (const auto& e : events) {
        EXPECT_EQ(e.find("+4670"), std::string::npos) << e;
        EXPECT_EQ(e.find("AAAAAAAA"), std::string::npos) << e;
    }
    EXPECT_NE(events[1].find("receipt.delivered " + std::to_string(p.value)), std::string::npos) << events[1];
    expect_chain_ok();
}

TEST_F(ReceiptsTest, ACopyNeedsAFinalOriginal) {
    auto a = open("CCCCCCCCCCCCCCCCCCCCCC", "O-2");
    auto n = ledger->run<std::int64_t>([&](Tx& tx) { return receipt_add_copy(tx, a.receipt.id, "sms", ""); });
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, Errc::invalid_transition);
    EXPECT_NE(n.error().message.find("no original yet"), std::string::npos);
}

TEST_F(ReceiptsTest, SlipsAndChoices) {
    PaymentId p = approved("O-3");
    ASSERT_TRUE(run_status(*ledger, [&](Tx& tx) { return receipt_slip_put(tx, p, {"KUNDENBELEG", "VISA"}); }));
    auto slip = ledger->run<std::vector<std::string>>([&](Tx& tx) { return receipt_slip(tx, p); });
    ASSERT_TRUE(slip);
    EXPECT_EQ(*slip, (std::vector<std::string>{"KUNDENBELEG", "VISA"}));
    ASSERT_TRUE(run_status(*ledger, [&](Tx& tx) { return receipt_choice_put(tx, {"C-9", "sms", "+4670111"}); }));
    ASSERT_TRUE(run_status(*ledger, [&](Tx& tx) { return receipt_choice_put(tx, {"C-9", "email", "a@b.se"}); }));
    auto c = ledger->run<std::optional<ReceiptChoice>>([&](Tx& tx) { return receipt_choice(tx, "C-9"); });
    ASSERT_TRUE(c && *c);
    EXPECT_EQ((*c)->channel, "email");
    EXPECT_EQ((*c)->destination, "a@b.se");
    auto none = ledger->run<std::optional<ReceiptChoice>>([&](Tx& tx) { return receipt_choice(tx, "C-0"); });
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
}

TEST_F(ReceiptsTest, DeletedForGoodAfterThirtyDays) {
    PaymentId p = approved("O-4");
    ASSERT_TRUE(run_status(*ledger, [&](Tx& tx) { return receipt_slip_put(tx, p, {"SLIP"}); }));
    auto a = open("DDDDDDDDDDDDDDDDDDDDDD", "O-4");
    OutboxNew m{"ereceipt:DDDDDDDDDDDDDDDDDDDDDD", "ereceipt", "POST", "/v1/receipts",
                R"({"phone":"+46701234567","document":"JVBERi0="})", "receipt/DDDDDDDDDDDDDDDDDDDDDD"};
    auto queued = ledger->run<OutboxMessage>([&](Tx& tx) -> Result<OutboxMessage> {
        auto f = receipt_finalise(tx, a.receipt.id, ReceiptFinal{"sms", "+46701234567", p, {"Receipt O-4"}});
        if (!f) return pb::unexpected(f.error());
        return outbox_enqueue(tx, m);
    });
    ASSERT_TRUE(queued);
    ASSERT_TRUE(ledger->run<OutboxMessage>([&](Tx& tx) { return outbox_delivered(tx, queued->id, R"({"ok":1})"); }));
    // A second, younger receipt stays.
    PaymentId p2 = approved("O-5");
    *clock.now += 10 * kDay;
    auto b = open("EEEEEEEEEEEEEEEEEEEEEE", "O-5");
    ASSERT_TRUE(ledger->run<ReceiptRecord>(
        [&](Tx& tx) { return receipt_finalise(tx, b.receipt.id, ReceiptFinal{"print", "", p2, {"Receipt O-5"}}); }));

    auto purge = [&] {
        return ledger->run<std::int64_t>([&](Tx& tx) { return receipts_purge(tx, now(), now() - 30 * kDay); });
    };
    *clock.now += 20 * kDay - 1;  // 30 days minus 1 ms after the first opened
    auto none = purge();
    ASSERT_TRUE(none);
    EXPECT_EQ(*none, 0);
    *clock.now += 1;
    auto one = purge();
    ASSERT_TRUE(one);
    EXPECT_EQ(*one, 1);

    auto gone = ledger->run<ReceiptRecord>([&](Tx& tx) { return receipt_get(tx, "DDDDDDDDDDDDDDDDDDDDDD"); });
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->state, ReceiptState::deleted);
    EXPECT_TRUE(gone->lines.empty());
    EXPECT_EQ(gone->destination, "");
    EXPECT_EQ(gone->customer_id, "");
    EXPECT_EQ(gone->deleted_utc_ms, now());
    auto slip = ledger->run<std::vector<std::string>>([&](Tx& tx) { return receipt_slip(tx, p); });
    ASSERT_TRUE(slip);
    EXPECT_TRUE(slip->empty());
    auto msg = ledger->run<OutboxMessage>([&](Tx& tx) { return outbox_get(tx, queued->id); });
    ASSERT_TRUE(msg);
    EXPECT_EQ(msg->body, "{}");
    EXPECT_EQ(msg->reply, "");
    auto copy = ledger->run<std::int64_t>([&](Tx& tx) { return receipt_add_copy(tx, gone->id, "sms", ""); });
    ASSERT_FALSE(copy);
    EXPECT_NE(copy.error().message.find("deleted"), std::string::npos);
    auto kept = ledger->run<ReceiptRecord>([&](Tx& tx) { return receipt_get(tx, "EEEEEEEEEEEEEEEEEEEEEE"); });
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->state, ReceiptState::final);
    EXPECT_EQ(kept->lines, std::vector<std::string>{"Receipt O-5"});
    auto again = purge();
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, 0) << "deleted once";
    expect_chain_ok();
}

TEST_F(ReceiptsTest, APendingMessageOfADeletedReceiptIsDeadAndEmpty) {
    PaymentId p = approved("O-6");
    auto a = open("FFFFFFFFFFFFFFFFFFFFFF", "O-6");
    auto queued = ledger->run<OutboxMessage>([&](Tx& tx) -> Result<OutboxMessage> {
        auto f = receipt_finalise(tx, a.receipt.id, ReceiptFinal{"email", "k@example.se", p, {"x"}});
        if (!f) return pb::unexpected(f.error());
        return outbox_enqueue(tx, OutboxNew{"ereceipt:F", "ereceipt", "POST", "/v1/receipts", R"({"email":"k@example.se"})",
                                            "receipt/FFFFFFFFFFFFFFFFFFFFFF"});
    });
    ASSERT_TRUE(queued);
    *clock.now += 30 * kDay;
    ASSERT_TRUE(ledger->run<std::int64_t>([&](Tx& tx) { return receipts_purge(tx, now(), now() - 30 * kDay); }));
    auto msg = ledger->run<OutboxMessage>([&](Tx& tx) { return outbox_get(tx, queued->id); });
    ASSERT_TRUE(msg);
    EXPECT_EQ(msg->state, OutboxState::dead);
    EXPECT_EQ(msg->body, "{}");
    EXPECT_NE(msg->last_error.find("retention"), std::string::npos);
}

}  // namespace
}  // namespace pb::ledger
