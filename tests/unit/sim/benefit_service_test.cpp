// The simulated benefit service (simulators/upstream/benefit.hpp) through Services, no sockets:
// the rules of protocol/upstream/README.md §5 with the time passed in, and idempotency by key.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "protocol/upstream/benefit.hpp"
#include "simulators/upstream/service.hpp"

namespace pb::sim::upstream {
namespace {
namespace json = boost::json;
namespace up = pb::upstream;

constexpr std::int64_t kNow = 1'795'435'200'000;  // 2026-11-23T08:00:00Z
constexpr std::int64_t kMin = 60'000;

Request post(std::string_view path, std::string body, std::string key, std::int64_t now = kNow) {
    Request r{"POST", std::string(path), std::move(body), std::move(key), "2026-11-23"};
    r.now_ms = now;
    return r;
}

Money sek(std::int64_t minor) { return Money{minor, *currency_from_code("SEK")}; }

std::string redeem_body(const std::string& voucher, std::int64_t amount = 50000, const std::string& provider = "P1") {
    return up::encode(up::RedeemRequest{voucher, provider, "O-1", "p-000001", "K1", sek(amount)});
}

struct BenefitServiceTest : ::testing::Test {
    Services s;
    void SetUp() override {
        // Bought 5 minutes before kNow.
        auto r = s.benefit().issue(json::parse(R"({"voucher_id":"V1","amount":50000,"provider_id":"P1","age_seconds":300})").as_object(),
                                   kNow);
        ASSERT_TRUE(r) << r.error();
    }
    static std::string code(const Answer& a) { return up::parse_service_error(static_cast<int>(a.status), a.body).code; }
    up::VoucherReply verify(const std::string& voucher) {
        auto a = s.handle(post(up::kVoucherVerifyPath, up::encode(up::VoucherVerifyRequest{voucher, "P1"}), ""));
        EXPECT_EQ(a.status, 200u) << a.body;
        return up::parse_voucher_reply(a.body).value();
    }
};

TEST_F(BenefitServiceTest, VerifyAnswersTheVoucherWhoeverAsks) {
    auto v = verify("V1");
    EXPECT_EQ(v.status, up::VoucherStatus::valid);
    EXPECT_EQ(v.provider_id, "P1");
    EXPECT_EQ(v.amount, sek(50000));
    EXPECT_EQ(v.purchased_at_ms, kNow - 5 * kMin);
    auto unknown = s.handle(post(up::kVoucherVerifyPath, up::encode(up::VoucherVerifyRequest{"V9", "P1"}), ""));
    EXPECT_EQ(unknown.status, 404u);
    EXPECT_EQ(code(unknown), "voucher_unknown");
}

TEST_F(BenefitServiceTest, RedeemOnceByKeyAndRefuseReuse) {
    auto first = s.handle(post(up::kVoucherRedeemPath, redeem_body("V1"), "benefit:k1"));
    ASSERT_EQ(first.status, 201u) << first.body;
    EXPECT_EQ(s.handle(post(up::kVoucherRedeemPath, redeem_body("V1"), "benefit:k1")), first);
    EXPECT_EQ(s.benefit().redemptions().size(), 1u);
    auto other = s.handle(post(up::kVoucherRedeemPath, redeem_body("V1"), "benefit:k2"));
    EXPECT_EQ(code(other), "voucher_used");
    EXPECT_EQ(verify("V1").status, up::VoucherStatus::redeemed);
}

TEST_F(BenefitServiceTest, RedeemRefusesWrongProviderAmountAndExpiredVoucher) {
    EXPECT_EQ(code(s.handle(post(up::kVoucherRedeemPath, redeem_body("V1", 50000, "P2"), "a"))), "provider_mismatch");
    EXPECT_EQ(code(s.handle(post(up::kVoucherRedeemPath, redeem_body("V1", 40000), "b"))), "amount_mismatch");
    // 15 minutes after the purchase it is still valid; a millisecond later it is not.
    EXPECT_EQ(code(s.handle(post(up::kVoucherRedeemPath, redeem_body("V1"), "c", kNow + 10 * kMin + 1))), "voucher_expired");
    EXPECT_EQ(s.handle(post(up::kVoucherRedeemPath, redeem_body("V1"), "d", kNow + 10 * kMin)).status, 201u);
    EXPECT_EQ(code(s.handle(post(up::kVoucherRedeemPath, redeem_body("V1"), ""))), "malformed_request");  // key required
}

TEST_F(BenefitServiceTest, CancelBeforeTheRedeemArrivesRefusesTheLateRedeem) {
    up::VoucherCancelRequest c{"benefit:late", "V1", "P1", "p-000001", sek(50000), "unanswered"};
    auto a = s.handle(post(up::kVoucherCancelPath, up::encode(c), "benefit-void:late"));
    ASSERT_EQ(a.status, 200u);
    EXPECT_FALSE(up::parse_voucher_cancel_reply(a.body).value().cancelled);
    EXPECT_EQ(code(s.handle(post(up::kVoucherRedeemPath, redeem_body("V1"), "benefit:late"))), "redeem_cancelled");
    EXPECT_EQ(verify("V1").status, up::VoucherStatus::valid);
}

TEST_F(BenefitServiceTest, VoidGivesTheVoucherBackCancelEndsItCreditOnlyOnce) {
    ASSERT_EQ(s.handle(post(up::kVoucherRedeemPath, redeem_body("V1"), "benefit:k1")).status, 201u);
    up::VoucherCancelRequest v{"benefit:k1", "V1", "P1", "p-000001", sek(50000), "unanswered"};
    auto voided = up::parse_voucher_cancel_reply(s.handle(post(up::kVoucherCancelPath, up::encode(v), "void:k1")).body).value();
    EXPECT_TRUE(voided.cancelled);
    EXPECT_EQ(verify("V1").status, up::VoucherStatus::valid);

    auto redeemed = up::parse_redeem_reply(s.handle(post(up::kVoucherRedeemPath, redeem_body("V1"), "benefit:k2")).body).value();
    up::CreditRequest cr{redeemed.redemption_id, "V1", "P1", "p-000002", sek(50000), "returned"};
    auto credit = s.handle(post(up::kVoucherCreditPath, up::encode(cr), "credit:p2"));
    ASSERT_EQ(credit.status, 200u) << credit.body;
    EXPECT_EQ(verify("V1").status, up::VoucherStatus::credited);
    EXPECT_EQ(code(s.handle(post(up::kVoucherCreditPath, up::encode(cr), "credit:again"))), "redemption_closed");
    up::VoucherCancelRequest late{"benefit:k2", "V1", "P1", "p-000002", sek(50000), "wrong"};
    EXPECT_EQ(code(s.handle(post(up::kVoucherCancelPath, up::encode(late), "cancel:p2"))), "redemption_closed");
}

TEST_F(BenefitServiceTest, IssueNamesWhatIsWrongAndStateSurvivesAFile) {
    auto bad = s.benefit().issue(json::parse(R"({"voucher_id":"V2","amount":0,"provider_id":"P1"})").as_object(), kNow);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("amount"), std::string::npos);
    EXPECT_FALSE(s.benefit().issue(json::parse(R"({"voucher_id":"V1","amount":5,"provider_id":"P1"})").as_object(), kNow));
    EXPECT_FALSE(s.benefit().issue(
        json::parse(R"({"voucher_id":"V3","amount":5,"provider_id":"P1","purchased_at":"yesterday"})").as_object(), kNow));
    ASSERT_EQ(s.handle(post(up::kVoucherRedeemPath, redeem_body("V1"), "benefit:k1")).status, 201u);
    Services copy;
    auto loaded = copy.from_json(s.to_json());
    ASSERT_TRUE(loaded) << loaded.error();
    EXPECT_EQ(copy.benefit().redemptions().size(), 1u);
    EXPECT_EQ(copy.benefit().vouchers().at("V1").status, "redeemed");
}

}  // namespace
}  // namespace pb::sim::upstream
