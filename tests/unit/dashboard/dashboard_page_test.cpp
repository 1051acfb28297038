// The page and the card-number guard, without a server.
#include "daemon/dashboard_page.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace pb::daemon {
namespace {

namespace json = boost::json;

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

TEST(MaskCardNumbers, MasksLuhnValidRunsOf13To19DigitsKeepingSixAndFour) {
    std::string s = "reason: card 4111111111111111 declined";
    EXPECT_EQ(mask_card_numbers(s), 1u);
    EXPECT_EQ(s, "reason: card 411111******1111 declined");

    std::string spaced = "4111 1111 1111 1111 and 5555-5555-5555-4444";
    EXPECT_EQ(mask_card_numbers(spaced), 2u);
    EXPECT_EQ(spaced, "4111 11** **** 1111 and 5555-55**-****-4444");

    std::string amex = "378282246310005";  // 15 digits
    EXPECT_EQ(mask_card_numbers(amex), 1u);
    EXPECT_EQ(amex, "378282*****0005");
}

TEST(MaskCardNumbers, LeavesWhatCannotBeAFullPanAlone) {
    for (std::string s : {std::string("1234567812345678"),     // fails Luhn
                          std::string("411111******1111"),     // already masked
                          std::string("order 202611230001"),   // 12 digits
                          std::string("12345678901234567890"), // 20 digits
                          std::string("2026-11-23 10:15:02")}) {
        const std::string before = s;
        EXPECT_EQ(mask_card_numbers(s), 0u) << before;
        EXPECT_EQ(s, before);
    }
}

TEST(MaskCardNumbers, WalksEveryStringOfAJsonValue) {
    json::value v = json::parse(R"({"a":["x 4111111111111111"],"b":{"c":"5555555555554444"},"n":4111111111111111})");
    EXPECT_EQ(mask_card_numbers(v), 2u);
    EXPECT_EQ(v.at("a").at(0).as_string(), "x 411111******1111");
    EXPECT_EQ(v.at("b").at("c").as_string(), "555555******4444");
}

TEST(DashboardPage, RendersTheTablesOnTheServerEscaped) {
    json::value snap = json::parse(R"({
        "business_date": "2026-11-23", "generated_at": "2026-11-23T10:00:00Z",
        "terminals": [{"terminal": "kasse1", "register_id": "K1", "state": "ready", "online": true}],
        "takings": [{"issuer": "visa", "name": "Visa", "account": "1580", "count": 2, "amount": "140.00",
                     "currency": "SEK", "returned_count": 0}],
        "takings_totals": [{"currency": "SEK", "count": 2, "amount": "140.00"}],
        "interim": [{"payment_id": 7, "order_id": "ORD-<b>", "amount": "30.00", "currency": "SEK",
                     "state": "unknown", "reason": "<script>alert(1)</script>", "age_s": 3725}]})");
    const std::string page = render_dashboard_html(snap);
    EXPECT_TRUE(contains(page, "<td>kasse1</td>"));
    EXPECT_TRUE(contains(page, "<td>yes</td>"));  // online
    EXPECT_TRUE(contains(page, "<td class=\"num\">140.00</td>"));
    EXPECT_TRUE(contains(page, "<td>ORD-&lt;b&gt;</td>"));
    EXPECT_TRUE(contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    EXPECT_FALSE(contains(page, "<script>alert(1)"));
    EXPECT_TRUE(contains(page, "<td class=\"num\">1 h 02 min</td>"));
    EXPECT_TRUE(contains(page, "Interim account (<span id=\"interim_count\">1</span>)"));
    EXPECT_TRUE(contains(page, "<b id=\"business_date\">2026-11-23</b>"));
    // TID and last status are not in these terminal rows: their columns are left out.
    EXPECT_FALSE(contains(page, "<th>TID</th>"));
    // Self-contained: nothing loaded from elsewhere.
    EXPECT_FALSE(contains(page, "<link"));
    EXPECT_FALSE(contains(page, "src="));
    EXPECT_FALSE(contains(page, "http://"));
    EXPECT_FALSE(contains(page, "https://"));
    EXPECT_TRUE(contains(page, "fetch('/api/status'"));
}

TEST(DashboardPage, AnEmptySnapshotStillRendersEveryTable) {
    const std::string page = render_dashboard_html(json::object{});
    for (const char* id : {"terminals", "takings", "takings_totals", "interim"})
        EXPECT_TRUE(contains(page, std::string("<table id=\"") + id + "\">")) << id;
    EXPECT_TRUE(contains(page, "The interim account is empty."));
    EXPECT_TRUE(contains(page, "No terminals configured."));
}

TEST(DashboardPage, ScriptColumnsCannotCloseTheScriptElement) {
    const std::string page = render_dashboard_html(json::object{});
    const auto open = page.find("<script>");
    const auto close = page.find("</script>");
    ASSERT_NE(open, std::string::npos);
    EXPECT_EQ(page.find("</script>", open), close);
    EXPECT_EQ(page.find("<script>", open + 1), std::string::npos);
}

}  // namespace
}  // namespace pb::daemon
