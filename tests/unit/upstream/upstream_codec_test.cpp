// The upstream codecs reject every malformed reply with the field that is wrong (README §1),
// and the transport rules (URLs, idempotency keys, error classes) hold.
#include <gtest/gtest.h>

#include "protocol/upstream/commitment.hpp"
#include "protocol/upstream/wire.hpp"

namespace pb::upstream {
namespace {

const std::string kCheckReply =
    R"({"card_id":"SK-1","status":"active","valid_until":"2024-06-30","balance":50000,"currency":"SEK",)"
    R"("blocked_lines":[1],"billing_reference":"REF"})";

std::string replace(std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
}

TEST(UpstreamCodec, CheckReplyFieldsAreRead) {
    auto r = parse_check_reply(kCheckReply, 2);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->status, CommitmentStatus::active);
    EXPECT_EQ(r->balance.minor, 50000);
    EXPECT_EQ(r->balance.currency.code(), "SEK");
    EXPECT_EQ(r->blocked_lines, std::vector<std::int64_t>{1});
}

TEST(UpstreamCodec, MalformedCheckRepliesNameTheField) {
    struct Case {
        std::string body;
        std::string field;
    };
    const std::vector<Case> cases{
        {"not json", ""},
        {"[1,2]", ""},
        {replace(kCheckReply, "50000", "\"50000\""), "/balance"},
        {replace(kCheckReply, "50000", "-1"), "/balance"},
        {replace(kCheckReply, "50000", "500.5"), "/balance"},
        {replace(kCheckReply, "\"active\"", "\"approved\""), "/status"},
        {replace(kCheckReply, "\"SEK\"", "\"XXX\""), "/currency"},
        {replace(kCheckReply, "[1]", "[2]"), "/blocked_lines/0"},  // only two lines were sent
        {replace(kCheckReply, "[1]", "[1,1]"), "/blocked_lines/1"},
        {replace(kCheckReply, "[1]", "1"), "/blocked_lines"},
        {replace(kCheckReply, "\"2024-06-30\"", "\"30.6.2024\""), "/valid_until"},
        {replace(kCheckReply, R"(,"billing_reference":"REF")", ""), "/billing_reference"},  // active needs it
        {replace(kCheckReply, R"("card_id":"SK-1",)", ""), "/card_id"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.body);
        auto r = parse_check_reply(c.body, 2);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().field, c.field) << r.error().to_string();
        EXPECT_FALSE(r.error().message.empty());
    }
}

TEST(UpstreamCodec, InactiveCardNeedsNoValidityOrBilling) {
    auto r = parse_check_reply(R"({"card_id":"SK-2","status":"inactive","balance":0,"currency":"SEK","blocked_lines":[]})", 1);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->status, CommitmentStatus::inactive);
}

TEST(UpstreamCodec, DebitReplyRejectsMissingRemainingBalance) {
    auto r = parse_debit_reply(R"({"debit_id":"d-1","card_id":"SK-1","amount":7000,"currency":"SEK","billing_reference":"R"})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "/remaining_balance");
    EXPECT_EQ(r.error().to_string(), "/remaining_balance: missing");
}

TEST(UpstreamCodec, RequestsRoundTrip) {
    DebitRequest d;
    d.card_id = "SK-1";
    d.order_id = "O-1";
    d.payment_ref = "p-000001";
    d.register_id = "K1";
    d.amount = Money{7000, *currency_from_code("SEK")};
    d.lines = {{0, "F-1", "Bread", "food", 7000}};
    auto back = parse_debit_request(encode(d));
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, d);

    ReceiptRequest r;
    r.debit_id = "d-1";
    r.card_id = "SK-1";
    r.billing_reference = "REF";
    r.order_id = "O-1";
    r.payment_ref = "p-000001";
    r.register_id = "K1";
    r.paid_at = "2026-11-23T10:00:00Z";
    r.amount = d.amount;
    r.lines = {{"L-1", "Labour", "labour", 1500, 4000, 6000}, {"", "Nut", "", 2000, 500, 1000}};
    auto rb = parse_receipt_request(encode(r));
    ASSERT_TRUE(rb) << rb.error().to_string();
    EXPECT_EQ(*rb, r);
}

TEST(UpstreamCodec, DebitRequestWithoutLinesIsRefused) {
    auto r = parse_debit_request(
        R"({"card_id":"SK-1","order_id":"O","payment_ref":"p","register":"K1","amount":1,"currency":"SEK","lines":[]})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "/lines");
}

TEST(UpstreamWire, UrlParsing) {
    auto u = parse_url("https://commit.example.com:8443/api/");
    ASSERT_TRUE(u) << u.error();
    EXPECT_TRUE(u->tls);
    EXPECT_EQ(u->host, "commit.example.com");
    EXPECT_EQ(u->port, 8443);
    EXPECT_EQ(u->target("/v1/commitments/check"), "/api/v1/commitments/check");
    EXPECT_FALSE(u->loopback());

    auto p = parse_url("http://127.0.0.1:4100");
    ASSERT_TRUE(p) << p.error();
    EXPECT_FALSE(p->tls);
    EXPECT_EQ(p->port, 4100);
    EXPECT_TRUE(p->loopback());
    EXPECT_EQ(p->target("/v1/x"), "/v1/x");

    auto d = parse_url("https://[::1]");
    ASSERT_TRUE(d) << d.error();
    EXPECT_EQ(d->port, 443);
    EXPECT_TRUE(d->loopback());

    for (const char* bad : {"ftp://x", "https://", "https://h:0", "https://h:70000", "https://h:x", "https://u:p@h",
                            "https://h/p?q=1", "http://h:"})
        EXPECT_FALSE(parse_url(bad)) << bad;
}

TEST(UpstreamWire, IdempotencyKeys) {
    EXPECT_TRUE(valid_idempotency_key("commitment:O-1#c1"));
    EXPECT_FALSE(valid_idempotency_key(""));
    EXPECT_FALSE(valid_idempotency_key("has space"));
    EXPECT_FALSE(valid_idempotency_key(std::string(129, 'k')));
    EXPECT_TRUE(valid_idempotency_key(std::string(128, 'k')));
}

TEST(UpstreamWire, ServiceErrorsAndTheirClass) {
    auto e = parse_service_error(422, R"({"error":{"code":"category_blocked","message":"no","blocked_lines":[0,2]}})");
    EXPECT_EQ(e.code, "category_blocked");
    EXPECT_EQ(e.blocked_lines, (std::vector<std::int64_t>{0, 2}));
    EXPECT_FALSE(e.transient());

    auto html = parse_service_error(502, "<html>bad gateway</html>");
    EXPECT_EQ(html.code, "");
    EXPECT_TRUE(html.transient());
    EXPECT_NE(html.message.find("502"), std::string::npos);

    EXPECT_TRUE(parse_service_error(429, "").transient());
    EXPECT_TRUE(parse_service_error(408, "").transient());
    EXPECT_FALSE(parse_service_error(409, R"({"error":{"code":"idempotency_conflict"}})").transient());
    auto odd = parse_service_error(400, R"({"error":{"code":5}})");
    EXPECT_EQ(odd.code, "");
    EXPECT_NE(odd.message.find("/error/code"), std::string::npos);
}

}  // namespace
}  // namespace pb::upstream
