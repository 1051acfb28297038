// The e-receipt service's messages (protocol/upstream/ereceipt.hpp): round trips, every bad
// field named by its JSON pointer, base64 exactly RFC 4648, receipt ids and copies paths.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "protocol/upstream/ereceipt.hpp"

namespace pb::upstream {
namespace {

const std::string kId = "q3Vb0xZ4kT2m9Jr7NpL1sA";

ReceiptDeliver sms() {
    ReceiptDeliver m;
    m.receipt_id = kId;
    m.register_id = "K1";
    m.order_id = "O-1";
    m.payment_ref = "p-000001";
    m.channel = ReceiptChannel::sms;
    m.phone = "+46701234567";
    m.issued_at = "2024-05-03T10:15:31Z";
    m.delete_at = "2024-06-02T10:14:02Z";
    m.document.pdf = std::string("%PDF-1.3\n\x01\xff binary", 19);
    return m;
}

std::string with(const std::string& body, const std::string& key, boost::json::value v) {
    auto o = boost::json::parse(body).as_object();
    if (v.is_null())
        o.erase(key);
    else
        o[key] = v;
    return boost::json::serialize(o);
}

TEST(EreceiptCodec, DeliverRoundTripsWithBinaryPdf) {
    auto m = sms();
    auto back = parse_receipt_deliver(encode(m));
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, m);
}

TEST(EreceiptCodec, BadFieldsAreNamed) {
    const std::string body = encode(sms());
    struct Case {
        std::string key;
        boost::json::value v;
        std::string field;
    };
    const std::vector<Case> cases{
        {"receipt_id", "short", "/receipt_id"},
        {"receipt_id", "q3Vb0xZ4kT2m9Jr7NpL1s/", "/receipt_id"},
        {"channel", "fax", "/channel"},
        {"phone", "0701234567", "/phone"},
        {"phone", nullptr, "/phone"},
        {"issued_at", "2024-05-03 10:15:31", "/issued_at"},
        {"delete_at", nullptr, "/delete_at"},
        {"document", "JVBERi0xLjMK", "/document"},
        {"document", boost::json::object{{"content_type", "application/pdf"}, {"base64", "JVBERi0xLjMK="}}, "/document/base64"},
        {"document", boost::json::object{{"content_type", "application/pdf"}, {"base64", "aGVsbG8="}}, "/document/base64"},
        {"document", boost::json::object{{"content_type", "text/plain"}, {"base64", "JVBERi0xLjMK"}}, "/document/content_type"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.key + " = " + boost::json::serialize(c.v));
        auto r = parse_receipt_deliver(with(body, c.key, c.v));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().field, c.field) << r.error().to_string();
    }
}

TEST(EreceiptCodec, EmailNeedsAModeAndACopyNeverGoesToTheWasteBasket) {
    auto m = sms();
    m.channel = ReceiptChannel::email;
    m.phone.clear();
    m.email = "kund@example.se";
    m.email_mode = EmailMode::link;
    auto back = parse_receipt_deliver(encode(m));
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(back->email_mode, EmailMode::link);
    auto no_mode = parse_receipt_deliver(with(encode(m), "email_mode", nullptr));
    ASSERT_FALSE(no_mode);
    EXPECT_EQ(no_mode.error().field, "/email_mode");

    ReceiptCopy c;
    c.receipt_id = kId;
    c.copy_id = "c1";
    c.channel = ReceiptChannel::sms;
    c.phone = "+4798765432";
    c.original_channel = ReceiptChannel::waste_basket;
    c.issued_at = "2024-05-04T08:00:00Z";
    c.delete_at = "2024-06-02T10:14:02Z";
    c.document.pdf = "%PDF-1.3\n";
    auto ok = parse_receipt_copy(encode(c));
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(*ok, c);
    auto basket = parse_receipt_copy(with(encode(c), "channel", "waste_basket"));
    ASSERT_FALSE(basket);
    EXPECT_EQ(basket.error().field, "/channel");
    EXPECT_NE(basket.error().message.find("sms or email"), std::string::npos);
}

TEST(EreceiptCodec, Base64IsRfc4648) {
    for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) EXPECT_EQ(base64_decode(base64_encode(s)), s);
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_FALSE(base64_decode("Zm8"));
    EXPECT_FALSE(base64_decode("Zm=8"));
    EXPECT_FALSE(base64_decode("Zm8=Zm8="));
    EXPECT_FALSE(base64_decode("Zm8*"));
}

TEST(EreceiptCodec, CopiesPathCarriesAValidId) {
    EXPECT_EQ(receipt_copies_path(kId), "/v1/receipts/" + kId + "/copies");
    EXPECT_EQ(receipt_id_of_copies_path(receipt_copies_path(kId)), kId);
    EXPECT_FALSE(receipt_id_of_copies_path("/v1/receipts/../copies"));
    EXPECT_FALSE(receipt_id_of_copies_path("/v1/receipts/open"));
}

}  // namespace
}  // namespace pb::upstream
