// The benefit service's codecs (protocol/upstream/benefit.hpp): times, bad replies named by
// field, and the voucher windows at their edges with an injected "now".
#include <gtest/gtest.h>

#include "protocol/upstream/benefit.hpp"

namespace pb::upstream {
namespace {

constexpr std::int64_t kMin = 60'000;

TEST(BenefitTime, FormatsAndParsesUtc) {
    EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_utc(1714731000000), "2024-05-03T10:10:00Z");
    EXPECT_EQ(parse_utc("2024-05-03T10:10:00Z"), 1714731000000);
    EXPECT_EQ(parse_utc("2024-02-29T23:59:59Z"), parse_utc("2024-03-01T00:00:00Z").value() - 1000);
    for (const char* bad : {"2024-05-03 10:10:00Z", "2024-05-03T10:10:00", "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z",
                            "2024-05-03T24:00:00Z", "2024-05-03T10:10:00+01:00", "", "2024-05-03T1a:10:00Z"})
        EXPECT_FALSE(parse_utc(bad)) << bad;
}

TEST(BenefitCodec, ReplyWithBadFieldsIsMalformedAndNamesTheField) {
    auto r = parse_voucher_reply(R"({"voucher_id":"V1","status":"valid","provider_id":"P","amount":500,"currency":"SEK",
                                     "purchased_at":"yesterday"})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "/purchased_at");
    r = parse_voucher_reply(R"({"voucher_id":"V1","status":"spent","provider_id":"P","amount":500,"currency":"SEK",
                                "purchased_at":"2024-05-03T10:10:00Z"})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "/status");
    r = parse_voucher_reply(R"({"voucher_id":"V1","status":"valid","provider_id":"P","amount":12.5,"currency":"SEK",
                                "purchased_at":"2024-05-03T10:10:00Z"})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "/amount");
    auto c = parse_voucher_cancel_reply(R"({"cancelled":true})");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().field, "/redemption_id");
    EXPECT_TRUE(parse_voucher_cancel_reply(R"({"cancelled":false})"));
    EXPECT_FALSE(parse_redeem_reply(R"({"redemption_id":"rd-1"})"));
    EXPECT_FALSE(parse_credit_reply("not json"));
}

TEST(BenefitCodec, RequestsRoundTrip) {
    RedeemRequest r{"V1", "P1", "O-1", "p-000001", "K1", Money{50000, *currency_from_code("SEK")}};
    auto back = parse_redeem_request(encode(r));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, r);
    VoucherReply v{"V1", VoucherStatus::redeemed, "P1", Money{100, *currency_from_code("EUR")}, 1714731000000, "rd-7"};
    auto vb = parse_voucher_reply(encode(v));
    ASSERT_TRUE(vb);
    EXPECT_EQ(*vb, v);
}

TEST(BenefitWindows, DefaultsAreTheSeeds) {
    BenefitWindows w;
    const std::int64_t bought = 1714731000000;
    // 15 minutes: the edge is inside, one millisecond later is not.
    EXPECT_EQ(w.redeemable(bought, bought), BenefitWindows::Verdict::inside);
    EXPECT_EQ(w.redeemable(bought, bought + 15 * kMin), BenefitWindows::Verdict::inside);
    EXPECT_EQ(w.redeemable(bought, bought + 15 * kMin + 1), BenefitWindows::Verdict::expired);
    // Cancel within one hour of the purchase.
    EXPECT_EQ(w.cancellable(bought, bought + 60 * kMin), BenefitWindows::Verdict::inside);
    EXPECT_EQ(w.cancellable(bought, bought + 60 * kMin + 1), BenefitWindows::Verdict::expired);
    // Credit within seven days.
    EXPECT_EQ(w.creditable(bought, bought + 7 * 24 * 60 * kMin), BenefitWindows::Verdict::inside);
    EXPECT_EQ(w.creditable(bought, bought + 7 * 24 * 60 * kMin + 1), BenefitWindows::Verdict::expired);
}

TEST(BenefitWindows, PurchaseInTheFutureBeyondSkewIsNotYet) {
    BenefitWindows w;
    const std::int64_t bought = 1714731000000;
    EXPECT_EQ(w.redeemable(bought, bought - 2 * kMin), BenefitWindows::Verdict::inside);  // tolerated skew
    EXPECT_EQ(w.redeemable(bought, bought - 2 * kMin - 1), BenefitWindows::Verdict::not_yet);
}

TEST(BenefitWindows, ConfiguredWindowsApply) {
    BenefitWindows w;
    w.valid_ms = 5 * kMin;
    w.cancel_ms = 30 * kMin;
    w.credit_ms = 48 * 60 * kMin;
    const std::int64_t bought = 0;
    EXPECT_EQ(w.redeemable(bought, 5 * kMin + 1), BenefitWindows::Verdict::expired);
    EXPECT_EQ(w.cancellable(bought, 31 * kMin), BenefitWindows::Verdict::expired);
    EXPECT_EQ(w.creditable(bought, 47 * 60 * kMin), BenefitWindows::Verdict::inside);
}

}  // namespace
}  // namespace pb::upstream
