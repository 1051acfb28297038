// The simulated e-receipt service (simulators/upstream/receipts.hpp) through Services, no
// sockets: the page waits, then serves the PDF; each channel; one SMS per key however often
// it arrives; everything gone after delete_at (protocol/upstream/README.md §5).
#include "simulators/upstream/service.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "protocol/upstream/ereceipt.hpp"

namespace pb::sim::upstream {
namespace {
namespace json = boost::json;
namespace up = pb::upstream;

const std::string kId = "q3Vb0xZ4kT2m9Jr7NpL1sA";
const std::int64_t kNow = parse_iso_utc_ms("2024-05-03T10:15:00Z");
const std::int64_t kDeleteAt = parse_iso_utc_ms("2024-06-02T10:14:02Z");

Request at(std::string method, std::string path, std::string body, std::string key, std::int64_t now = kNow) {
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.body = std::move(body);
    r.idempotency_key = std::move(key);
    r.today = "2024-05-03";
    r.now_utc_ms = now;
    return r;
}

std::string open_body() {
    return up::encode(up::ReceiptOpen{kId, "K1", "2024-05-03T10:14:02Z", "2024-05-03T10:15:02Z", "2024-06-02T10:14:02Z"});
}

up::ReceiptDeliver deliver(up::ReceiptChannel c) {
    up::ReceiptDeliver m;
    m.receipt_id = kId;
    m.register_id = "K1";
    m.order_id = "O-1";
    m.payment_ref = "p-000001";
    m.channel = c;
    if (c == up::ReceiptChannel::sms) m.phone = "+46701234567";
    if (c == up::ReceiptChannel::email) m.email = "kund@example.se";
    m.issued_at = "2024-05-03T10:15:31Z";
    m.delete_at = "2024-06-02T10:14:02Z";
    m.document.pdf = "%PDF-1.3\nreceipt";
    return m;
}

TEST(SimReceipts, PageWaitsThenServesThePdf) {
    Services s;
    EXPECT_EQ(s.handle(at("GET", "/r/" + kId, "", "")).status, 404u);
    EXPECT_EQ(s.handle(at("POST", "/v1/receipts/open", open_body(), "ereceipt-open:" + kId)).status, 201u);
    auto waiting = s.handle(at("GET", "/r/" + kId, "", ""));
    EXPECT_EQ(waiting.status, 200u);
    EXPECT_EQ(waiting.content_type, "text/html; charset=utf-8");
    EXPECT_NE(waiting.body.find("Waiting"), std::string::npos);
    auto a = s.handle(at("POST", "/v1/receipts", up::encode(deliver(up::ReceiptChannel::qr)), "ereceipt:" + kId));
    EXPECT_EQ(a.status, 201u);
    EXPECT_EQ(up::parse_receipt_ack(a.body)->status, "delivered");
    auto pdf = s.handle(at("GET", "/r/" + kId, "", ""));
    EXPECT_EQ(pdf.status, 200u);
    EXPECT_EQ(pdf.content_type, "application/pdf");
    EXPECT_EQ(pdf.body, "%PDF-1.3\nreceipt");
    EXPECT_TRUE(s.ereceipts().sent().empty()) << "a QR receipt sends no message";
}

TEST(SimReceipts, OneSmsPerKeyAndTheWasteBasketDiscards) {
    Services s;
    const std::string body = up::encode(deliver(up::ReceiptChannel::sms));
    auto first = s.handle(at("POST", "/v1/receipts", body, "ereceipt:" + kId));
    auto again = s.handle(at("POST", "/v1/receipts", body, "ereceipt:" + kId));
    EXPECT_EQ(first, again);
    ASSERT_EQ(s.ereceipts().sent().size(), 1u);
    EXPECT_EQ(s.ereceipts().sent()[0].to, "+46701234567");
    EXPECT_EQ(s.duplicates_seen(), 1);
    // Another key for the same receipt is a bug on the sender's side: refused, nothing sent.
    auto other = s.handle(at("POST", "/v1/receipts", body, "other-key"));
    EXPECT_EQ(other.status, 409u);
    EXPECT_EQ(s.ereceipts().sent().size(), 1u);

    Services b;
    auto basket = deliver(up::ReceiptChannel::waste_basket);
    auto r = b.handle(at("POST", "/v1/receipts", up::encode(basket), "k"));
    EXPECT_EQ(up::parse_receipt_ack(r.body)->status, "discarded");
    EXPECT_EQ(b.ereceipts().receipts().at(kId).state, "discarded");
    EXPECT_TRUE(b.ereceipts().sent().empty());
}

TEST(SimReceipts, CopiesAndBadRequests) {
    Services s;
    up::ReceiptCopy c;
    c.receipt_id = kId;
    c.copy_id = "c1";
    c.channel = up::ReceiptChannel::email;
    c.email = "kund@example.se";
    c.original_channel = up::ReceiptChannel::print;
    c.issued_at = "2024-05-04T08:00:00Z";
    c.delete_at = "2024-06-02T10:14:02Z";
    c.document.pdf = "%PDF-1.3\ncopy";
    auto a = s.handle(at("POST", up::receipt_copies_path(kId), up::encode(c), "ereceipt-copy:" + kId + ":1"));
    EXPECT_EQ(a.status, 201u);
    ASSERT_EQ(s.ereceipts().sent().size(), 1u);
    EXPECT_EQ(s.ereceipts().sent()[0].what, "copy-attachment");
    EXPECT_EQ(s.ereceipts().sent()[0].original_channel, "print");
    EXPECT_EQ(s.ereceipts().sent()[0].pdf_bytes, c.document.pdf.size());
    EXPECT_EQ(s.handle(at("POST", "/v1/receipts", "{}", "")).status, 400u) << "key required";
    auto bad = s.handle(at("POST", "/v1/receipts", R"({"receipt_id":"x"})", "k2"));
    EXPECT_EQ(bad.status, 400u);
    EXPECT_EQ(up::parse_service_error(400, bad.body).field, "/receipt_id");
    EXPECT_EQ(s.handle(at("GET", "/r/not-a-receipt-id", "", "")).status, 404u);
}

TEST(SimReceipts, DeletedAfterDeleteAtForGood) {
    Services s;
    const std::string body = up::encode(deliver(up::ReceiptChannel::sms));
    ASSERT_EQ(s.handle(at("POST", "/v1/receipts", body, "ereceipt:" + kId)).status, 201u);
    EXPECT_EQ(s.handle(at("GET", "/r/" + kId, "", "", kDeleteAt - 1)).status, 200u);
    auto gone = s.handle(at("GET", "/r/" + kId, "", "", kDeleteAt));
    EXPECT_EQ(gone.status, 404u);
    EXPECT_TRUE(s.ereceipts().receipts().empty());
    EXPECT_EQ(s.ereceipts().deleted(), 1);
    EXPECT_EQ(s.ereceipts().sent()[0].to, "(deleted)");
    std::string state = json::serialize(s.to_json());
    EXPECT_EQ(state.find("+46701234567"), std::string::npos) << "the phone number is gone from the state file too";
    EXPECT_EQ(state.find(up::base64_encode("%PDF-1.3\nreceipt")), std::string::npos);
    // The same key once more (a late duplicate) gets the first answer and sends nothing.
    auto late = s.handle(at("POST", "/v1/receipts", body, "ereceipt:" + kId, kDeleteAt + 1));
    EXPECT_EQ(late.status, 201u);
    EXPECT_EQ(s.ereceipts().sent().size(), 1u);
}

TEST(SimReceipts, StateFileRoundTrip) {
    Services s;
    ASSERT_EQ(s.handle(at("POST", "/v1/receipts", up::encode(deliver(up::ReceiptChannel::email)), "k")).status, 201u);
    Services t;
    auto loaded = t.from_json(json::parse(json::serialize(s.to_json())));  // as the state file does
    ASSERT_TRUE(loaded) << loaded.error();
    EXPECT_EQ(json::serialize(t.to_json()), json::serialize(s.to_json()));
    EXPECT_EQ(t.handle(at("GET", "/r/" + kId, "", "")).body, "%PDF-1.3\nreceipt");
}

}  // namespace
}  // namespace pb::sim::upstream
