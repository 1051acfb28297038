// Numbered forward-only migrations; a newer schema is refused with "expected N, found M".
#include <sqlite3.h>

#include "ledger_test_support.hpp"

namespace pb::ledger {
namespace {
using namespace testing;

TEST(Migrations, FreshFileGetsTheNewestSchema) {
    TempDir dir;
    auto l = Ledger::open(file_options(dir.file("l.db")));
    ASSERT_TRUE(l);
    EXPECT_EQ((*l)->schema(), schema_version());
    EXPECT_GE(schema_version(), 2);
}

TEST(Migrations, OlderSchemaIsMigratedForwardKeepingData) {
    TempDir dir;
    const auto path = dir.file("l.db");
    {
        auto l = Ledger::open(file_options(path, 1));
        ASSERT_TRUE(l);
        EXPECT_EQ((*l)->schema(), 1);
        // Version 1 has the journal but not yet operators, which payments need.
        ASSERT_TRUE(run(**l, [](Tx& tx) { return tx.append_event("test.note", "x", R"({"n":1})"); }));
    }
    auto l = Ledger::open(file_options(path));
    ASSERT_TRUE(l);
    EXPECT_EQ((*l)->schema(), schema_version());
    EXPECT_TRUE(run(**l, [](Tx& tx) { return tx.begin_payment(request("O-1", "k1")); }));
    auto v = (*l)->reader()->verify();
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ok) << v->problem;
    EXPECT_EQ(v->events_checked, 2);
}

TEST(Migrations, NewerSchemaIsRefusedWithExpectedAndFound) {
    TempDir dir;
    const auto path = dir.file("l.db");
    { ASSERT_TRUE(Ledger::open(file_options(path))); }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_version(version) VALUES(99)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    auto l = Ledger::open(file_options(path));
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error().code, Errc::schema_mismatch);
    EXPECT_NE(l.error().message.find("expected " + std::to_string(schema_version()) + ", found 99"), std::string::npos)
        << l.error().message;
}

TEST(Migrations, ReopenIsIdempotent) {
    TempDir dir;
    const auto path = dir.file("l.db");
    for (int i = 0; i < 3; ++i) {
        auto l = Ledger::open(file_options(path));
        ASSERT_TRUE(l);
        EXPECT_EQ((*l)->schema(), schema_version());
    }
}

}  // namespace
}  // namespace pb::ledger
