// The simulated commitment service (simulators/upstream/service.hpp), no sockets: the rules of
// protocol/upstream/README.md §3-§4 and idempotency by key (§1).
#include "simulators/upstream/service.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "protocol/upstream/commitment.hpp"

namespace pb::sim::upstream {
namespace {
namespace json = boost::json;
namespace up = pb::upstream;

const std::string kToday = "2026-11-23";

Request post(std::string_view path, std::string body, std::string key = {}) {
    return Request{"POST", std::string(path), std::move(body), std::move(key), kToday};
}

std::string debit_body(const std::string& card, std::int64_t amount, const std::string& category = "food") {
    up::DebitRequest d;
    d.card_id = card;
    d.order_id = "O-1";
    d.payment_ref = "p-000001";
    d.register_id = "K1";
    d.amount = Money{amount, *currency_from_code("SEK")};
    d.lines = {{0, "F", "Bread", category, amount}};
    return up::encode(d);
}

struct ServiceTest : ::testing::Test {
    Services s;
    void SetUp() override {
        auto r = s.activate(json::parse(R"({"card_id":"SK-1","amount":10000,"currency":"SEK","valid_until":"2026-12-31",
            "categories":["food"],"billing_reference":"SOC-1"})").as_object());
        ASSERT_TRUE(r) << r.error();
    }
    std::string code(const Answer& a) { return up::parse_service_error(static_cast<int>(a.status), a.body).code; }
};

TEST_F(ServiceTest, RepeatedKeyGetsTheFirstAnswerAndDebitsOnce) {
    auto first = s.handle(post(up::kDebitPath, debit_body("SK-1", 4000), "k1"));
    ASSERT_EQ(first.status, 201u) << first.body;
    auto again = s.handle(post(up::kDebitPath, debit_body("SK-1", 4000), "k1"));
    EXPECT_EQ(again, first);
    EXPECT_EQ(s.card("SK-1")->balance, 6000);
    EXPECT_EQ(s.debits().size(), 1u);
    EXPECT_EQ(s.duplicates_seen(), 1);

    auto conflict = s.handle(post(up::kDebitPath, debit_body("SK-1", 1000), "k1"));
    EXPECT_EQ(conflict.status, 409u);
    EXPECT_EQ(code(conflict), "idempotency_conflict");
    EXPECT_EQ(s.card("SK-1")->balance, 6000);
}

TEST_F(ServiceTest, RefusalsDebitNothing) {
    EXPECT_EQ(code(s.handle(post(up::kDebitPath, debit_body("SK-1", 20000), "a"))), "insufficient_balance");
    EXPECT_EQ(code(s.handle(post(up::kDebitPath, debit_body("SK-1", 100, "tobacco"), "b"))), "category_blocked");
    EXPECT_EQ(code(s.handle(post(up::kDebitPath, debit_body("SK-9", 100), "c"))), "card_unknown");
    EXPECT_EQ(code(s.handle(post(up::kDebitPath, debit_body("SK-1", 100)))), "malformed_request");  // no key
    EXPECT_EQ(code(s.handle(post(up::kDebitPath, "{", "d"))), "malformed_request");
    auto late = s.handle(Request{"POST", std::string(up::kDebitPath), debit_body("SK-1", 100), "e", "2027-01-01"});
    EXPECT_EQ(code(late), "commitment_expired");
    EXPECT_EQ(s.card("SK-1")->balance, 10000);
    EXPECT_TRUE(s.debits().empty());
}

TEST_F(ServiceTest, VoidRestoresADebitOrRefusesOneThatArrivesLater) {
    ASSERT_EQ(s.handle(post(up::kDebitPath, debit_body("SK-1", 4000), "debit-1")).status, 201u);
    up::VoidRequest v{"debit-1", "SK-1", "p-000001", Money{4000, *currency_from_code("SEK")}};
    auto voided = s.handle(post(up::kVoidPath, up::encode(v), "void-1"));
    ASSERT_EQ(voided.status, 200u);
    auto rep = up::parse_void_reply(voided.body);
    ASSERT_TRUE(rep && rep->voided);
    EXPECT_EQ(s.card("SK-1")->balance, 10000);
    // Voiding again (same key) changes nothing.
    EXPECT_EQ(s.handle(post(up::kVoidPath, up::encode(v), "void-1")), voided);
    EXPECT_EQ(s.card("SK-1")->balance, 10000);

    // A void before its debit: the debit, arriving late, is refused.
    v.debit_key = "debit-2";
    auto early = up::parse_void_reply(s.handle(post(up::kVoidPath, up::encode(v), "void-2")).body);
    ASSERT_TRUE(early && !early->voided);
    EXPECT_EQ(code(s.handle(post(up::kDebitPath, debit_body("SK-1", 4000), "debit-2"))), "debit_voided");
    EXPECT_EQ(s.card("SK-1")->balance, 10000);
}

TEST_F(ServiceTest, BlockAndTransferMoveTheRemainingBalance) {
    ASSERT_EQ(s.handle(post(up::kDebitPath, debit_body("SK-1", 2500), "x")).status, 201u);
    EXPECT_FALSE(s.transfer("SK-1", "SK-2"));  // must be blocked first
    ASSERT_TRUE(s.block("SK-1"));
    EXPECT_EQ(code(s.handle(post(up::kDebitPath, debit_body("SK-1", 100), "y"))), "card_blocked");
    ASSERT_TRUE(s.transfer("SK-1", "SK-2"));
    EXPECT_EQ(s.card("SK-2")->balance, 7500);
    EXPECT_EQ(s.card("SK-1")->balance, 0);
    up::CheckRequest c{"SK-2", Money{100, *currency_from_code("SEK")}, {{0, "", "Bread", "food", 100}}};
    auto rep = up::parse_check_reply(s.handle(post(up::kCheckPath, up::encode(c))).body, 1);
    ASSERT_TRUE(rep) << rep.error().to_string();
    EXPECT_EQ(rep->status, up::CommitmentStatus::active);
    EXPECT_EQ(rep->billing_reference, "SOC-1");
}

TEST_F(ServiceTest, StateSurvivesJsonRoundTripIncludingKeys) {
    ASSERT_EQ(s.handle(post(up::kDebitPath, debit_body("SK-1", 4000), "k1")).status, 201u);
    Services restored;
    ASSERT_TRUE(restored.from_json(json::parse(json::serialize(s.to_json()))));
    EXPECT_EQ(restored.card("SK-1")->balance, 6000);
    EXPECT_EQ(restored.handle(post(up::kDebitPath, debit_body("SK-1", 4000), "k1")).status, 201u);
    EXPECT_EQ(restored.debits().size(), 1u);
    EXPECT_FALSE(restored.from_json(json::parse(R"({"cards":1})")));
}

TEST(UpstreamAdmin, ActivateNamesWhatIsWrong) {
    Services s;
    auto r = s.activate(json::parse(R"({"card_id":"SK-1","amount":-5,"valid_until":"2026-12-31","categories":[],"billing_reference":"R"})").as_object());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("amount"), std::string::npos);
    r = s.activate(json::parse(R"({"card_id":"SK-1","amount":5,"valid_until":"31.12.2026","categories":[],"billing_reference":"R"})").as_object());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("YYYY-MM-DD"), std::string::npos);
    EXPECT_EQ(s.card("SK-1"), nullptr);
}

}  // namespace
}  // namespace pb::sim::upstream
