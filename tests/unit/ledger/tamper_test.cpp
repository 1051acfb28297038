// Tampering with the SQLite file behind the ledger's back is found by verify, which names the
// first bad event.
#include <sqlite3.h>

#include "ledger_test_support.hpp"

namespace pb::ledger {
namespace {
using namespace testing;

class Tamper : public ::testing::Test {
protected:
    void SetUp() override {
        auto l = open();
        ASSERT_TRUE(l);
        for (int i = 1; i <= 4; ++i) {
            auto b = run(**l, [&](Tx& tx) { return tx.begin_payment(request("O-" + std::to_string(i), "k" + std::to_string(i))); });
            ASSERT_TRUE(b);
            ASSERT_TRUE(run(**l, [&](Tx& tx) { return tx.mark_sent(b->payment.id); }));
            ASSERT_TRUE(run(**l, [&](Tx& tx) { return tx.record_result(b->payment.id, PaymentState::approved, visa_data()); }));
        }
        auto v = (*l)->reader()->verify();
        ASSERT_TRUE(v && v->ok);
        ASSERT_EQ(v->events_checked, 12);
    }
    Result<std::unique_ptr<Ledger>> open() { return Ledger::open(file_options(path)); }
    void sql(const std::string& statement) {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        char* err = nullptr;
        EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
        sqlite3_free(err);
        sqlite3_close(db);
    }
    VerifyReport verify() {
        auto l = open();
        EXPECT_TRUE(l);
        auto v = (*l)->reader()->verify();
        EXPECT_TRUE(v);
        return *v;
    }

    TempDir dir;
    std::string path = dir.file("ledger.db");
};

TEST_F(Tamper, ChangedEventBodyIsNamed) {
    sql("UPDATE events SET body = replace(body, '12345', '12340') WHERE seq = 4");
    auto v = verify();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_bad_seq, 4);
    EXPECT_NE(v.problem.find("changed"), std::string::npos) << v.problem;
}

TEST_F(Tamper, ChangedTimeIsNamed) {
    sql("UPDATE events SET at_utc_ms = at_utc_ms + 1 WHERE seq = 7");
    EXPECT_EQ(verify().first_bad_seq, 7);
}

TEST_F(Tamper, DeletedEventIsNamed) {
    sql("DELETE FROM events WHERE seq = 5");
    auto v = verify();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_bad_seq, 6);
    EXPECT_NE(v.problem.find("expected event 5"), std::string::npos) << v.problem;
}

TEST_F(Tamper, DeletedLastEventIsFoundFromTheChainHead) {
    sql("DELETE FROM events WHERE seq = 12");
    auto v = verify();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_bad_seq, 12);
}

TEST_F(Tamper, InsertedEventIsNamed) {
    sql("INSERT INTO events(seq, kind, subject, at_utc_ms, body, prev_hash, hash) "
        "SELECT 13, 'payment.refunded', '1', at_utc_ms, '{}', hash, hash FROM events WHERE seq = 12");
    auto v = verify();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_bad_seq, 13);
}

TEST_F(Tamper, RenumberedEventsAreFound) {
    sql("UPDATE events SET seq = seq + 100 WHERE seq >= 10");
    auto v = verify();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_bad_seq, 110);
}

TEST_F(Tamper, ChangedCurrentStateIsFoundByReplay) {
    sql("UPDATE payments SET amount_minor = 1 WHERE id = 3");
    auto v = verify();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_bad_seq, 9);  // payment 3's last event
    EXPECT_NE(v.problem.find("payment 3"), std::string::npos) << v.problem;
}

TEST_F(Tamper, DeletedPaymentRowIsFound) {
    sql("DELETE FROM payments WHERE id = 2");
    EXPECT_FALSE(verify().ok);
}

}  // namespace
}  // namespace pb::ledger
