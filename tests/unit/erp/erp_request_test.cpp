// Request parsing: every validation error with its code and JSON pointer; encode/parse round
// trips for every request type.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <boost/json.hpp>

#include "protocol/erp/request.hpp"

namespace pb::erp {
namespace {
namespace json = boost::json;

json::object valid_start() {
    return json::parse(R"({"v": 1, "id": "c-3", "type": "payment.start",
        "order_id": "O-4711", "request_key": "O-4711#1",
        "lines": [
          {"sku": "LAB-100", "text": "Labour", "qty": 1.5, "unit_price": 78000, "category": "labour"},
          {"sku": "OF-2231", "text": "Oil filter", "qty": 1, "unit_price": 8000}
        ],
        "total": 125000, "currency": "SEK",
        "register": "K1", "terminal": "T1", "operator": "anna", "receptionist": "BJ"})")
        .as_object();
}

ErpError error_of(std::string_view raw, const Limits& limits = {}) {
    auto r = parse_request(raw, limits);
    EXPECT_FALSE(r.has_value()) << raw;
    if (r) return {};
    return r.error();
}

ErpError error_of(const json::object& o) { return error_of(json::serialize(o)); }

#define EXPECT_ERP_ERROR(err, expected_code, expected_field)                     \
    do {                                                                         \
        const ErpError& e_ = (err);                                              \
        EXPECT_EQ(e_.code, ErrorCode::expected_code) << e_.to_string();          \
        EXPECT_EQ(e_.field, expected_field) << e_.to_string();                   \
        EXPECT_FALSE(e_.message.empty());                                        \
    } while (0)

TEST(ErpParse, ValidPaymentStartHasTypedFields) {
    auto r = parse_request(json::serialize(valid_start()));
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_EQ(r->id, "c-3");
    const auto* s = std::get_if<PaymentStart>(&r->body);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->order_id, "O-4711");
    EXPECT_EQ(s->total.minor, 125000);
    EXPECT_EQ(s->total.currency.code(), "SEK");
    EXPECT_EQ(s->total.currency.numeric, 752);
    ASSERT_EQ(s->lines.size(), 2u);
    EXPECT_EQ(s->lines[0].qty_milli, 1500);
    EXPECT_EQ(s->lines[0].amount, 117000);
    EXPECT_EQ(s->lines[1].amount, 8000);
    EXPECT_EQ(s->lines[1].category, "");
    EXPECT_EQ(s->register_id, "K1");
    EXPECT_EQ(s->terminal, "T1");
    EXPECT_EQ(s->operator_id, "anna");
    EXPECT_EQ(s->receptionist, "BJ");
    EXPECT_EQ(s->tender, Tender::card);
}

TEST(ErpParse, MalformedJson) {
    EXPECT_ERP_ERROR(error_of("{\"v\": 1,"), malformed_json, "");
    EXPECT_ERP_ERROR(error_of(""), malformed_json, "");
    EXPECT_ERP_ERROR(error_of("{} trailing"), malformed_json, "");
    EXPECT_ERP_ERROR(error_of("{\"v\": 1, \"id\": \"\xff\xfe\"}"), malformed_json, "");  // not UTF-8
    EXPECT_ERP_ERROR(error_of("{\"v\": NaN}"), malformed_json, "");
}

TEST(ErpParse, NotAnObject) {
    EXPECT_ERP_ERROR(error_of("[1, 2]"), not_an_object, "");
    EXPECT_ERP_ERROR(error_of("\"payment.start\""), not_an_object, "");
    EXPECT_ERP_ERROR(error_of("null"), not_an_object, "");
}

TEST(ErpParse, Version) {
    auto o = valid_start();
    o["v"] = 2;
    EXPECT_ERP_ERROR(error_of(o), unsupported_version, "/v");
    o["v"] = "1";
    EXPECT_ERP_ERROR(error_of(o), wrong_type, "/v");
    o["v"] = 1.0;
    EXPECT_ERP_ERROR(error_of(o), wrong_type, "/v");
    o.erase("v");
    EXPECT_ERP_ERROR(error_of(o), missing_field, "/v");
}

TEST(ErpParse, VersionErrorStillEchoesIdAndType) {
    auto o = valid_start();
    o["v"] = 7;
    ErpError e = error_of(o);
    EXPECT_EQ(e.id, "c-3");
    EXPECT_EQ(e.type, "payment.start");
}

TEST(ErpParse, IdRules) {
    auto o = valid_start();
    o.erase("id");
    EXPECT_ERP_ERROR(error_of(o), missing_field, "/id");
    o["id"] = 17;
    EXPECT_ERP_ERROR(error_of(o), wrong_type, "/id");
    o["id"] = "";
    EXPECT_ERP_ERROR(error_of(o), invalid_value, "/id");
    o["id"] = std::string(65, 'x');
    EXPECT_ERP_ERROR(error_of(o), invalid_value, "/id");
    o["id"] = std::string(64, 'x');
    EXPECT_TRUE(parse_request(json::serialize(o)).has_value());
    o["id"] = "c\x01";
    EXPECT_ERP_ERROR(error_of(o), invalid_value, "/id");
    o["id"] = "c-3";
    o["order_id"] = "O-47\n11";
    EXPECT_ERP_ERROR(error_of(o), invalid_value, "/order_id");
    o["order_id"] = "O-4711\x7f";
    EXPECT_ERP_ERROR(error_of(o), invalid_value, "/order_id");
    o["order_id"] = " O-4711";
    EXPECT_ERP_ERROR(error_of(o), invalid_value, "/order_id");
}

TEST(ErpParse, UnknownTypeNamesTypeAndKeepsId) {
    auto o = valid_start();
    o["type"] = "payment.teleport";
    ErpError e = error_of(o);
    EXPECT_ERP_ERROR(e, unknown_type, "/type");
    EXPECT_EQ(e.id, "c-3");
    EXPECT_EQ(e.type, "payment.teleport");
    o.erase("type");
    EXPECT_ERP_ERROR(error_of(o), missing_field, "/type");
}

TEST(ErpParse, MissingFieldsOfPaymentStart) {
    for (const char* key : {"order_id", "request_key", "total", "currency", "register", "terminal", "operator"}) {
        auto o = valid_start();
        o.erase(key);
        EXPECT_ERP_ERROR(error_of(o), missing_field, std::string("/") + key);
    }
    // Optional ones may be absent or null.
    auto o = valid_start();
    o.erase("lines");
    o["receptionist"] = nullptr;
    EXPECT_TRUE(parse_request(json::serialize(o)).has_value());
}

TEST(ErpParse, WrongTypes) {
    auto o = valid_start();
    o["total"] = 1250.00;
    EXPECT_ERP_ERROR(error_of(o), wrong_type, "/total");
    o["total"] = "125000";
    EXPECT_ERP_ERROR(error_of(o), wrong_type, "/total");
    o = valid_start();
    o["terminal"] = 1;
    EXPECT_ERP_ERROR(error_of(o), wrong_type, "/terminal");
    o = valid_start();
    o["currency"] = 752;
    EXPECT_ERP_ERROR(error_of(o), wrong_type, "/currency");
    o = valid_start();
    o["lines"] = "two lines";
    EXPECT_ERP_ERROR(error_of(o), wrong_type, "/lines");
    o = valid_start();
    o["lines"].as_array()[1] = 42;
    EXPECT_ERP_ERROR(error_of(o), wrong_type, "/lines/1");
    o = valid_start();
    o["lines"].as_array()[0].as_object()["qty"] = "1.5";
    EXPECT_ERP_ERROR(error_of(o), wrong_type, "/lines/0/qty");
    o = valid_start();
    o["lines"].as_array()[1].as_object()["unit_price"] = 80.0;
    EXPECT_ERP_ERROR(error_of(o), wrong_type, "/lines/1/unit_price");
}

TEST(ErpParse, AmountLimits) {
    auto o = valid_start();
    o.erase("lines");
    for (json::value bad : {json::value(0), json::value(-100), json::value(1'000'000'000'000LL),
                            json::value(18446744073709551615ULL)}) {
        o["total"] = bad;
        EXPECT_ERP_ERROR(error_of(o), amount_invalid, "/total");
    }
    o["total"] = 999'999'999'999LL;
    EXPECT_TRUE(parse_request(json::serialize(o)).has_value());
    o["total"] = 1;
    EXPECT_TRUE(parse_request(json::serialize(o)).has_value());
}

TEST(ErpParse, Currency) {
    auto o = valid_start();
    o["currency"] = "XXX";
    EXPECT_ERP_ERROR(error_of(o), unknown_currency, "/currency");
    o["currency"] = "sek";
    EXPECT_ERP_ERROR(error_of(o), unknown_currency, "/currency");
    o["currency"] = "";
    EXPECT_ERP_ERROR(error_of(o), invalid_value, "/currency");
    o["currency"] = "EUR";
    auto r = parse_request(json::serialize(o));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(std::get<PaymentStart>(r->body).total.currency.numeric, 978);
}

TEST(ErpParse, LinesMustSumToTotal) {
    auto o = valid_start();
    o["total"] = 125001;
    ErpError e = error_of(o);
    EXPECT_ERP_ERROR(e, total_mismatch, "/total");
    EXPECT_NE(e.message.find("125000"), std::string::npos) << e.message;
    // An explicit line amount (rounded by the ERP, or a discount) is what counts.
    o = valid_start();
    o["lines"].as_array()[0].as_object()["amount"] = 116999;
    o["total"] = 124999;
    EXPECT_TRUE(parse_request(json::serialize(o)).has_value());
    // A discount line.
    o = valid_start();
    o["lines"].as_array().push_back(json::parse(R"({"text": "Discount", "qty": 1, "unit_price": -5000})"));
    o["total"] = 120000;
    EXPECT_TRUE(parse_request(json::serialize(o)).has_value());
    // An empty lines array means "no lines": no sum check.
    o = valid_start();
    o["lines"] = json::array();
    EXPECT_TRUE(parse_request(json::serialize(o)).has_value());
}

TEST(ErpParse, LineRules) {
    auto line = [](std::string_view key, json::value v) {
        auto o = valid_start();
        o["lines"].as_array()[0].as_object()[key] = std::move(v);
        return error_of(o);
    };
    EXPECT_ERP_ERROR(line("qty", 0), invalid_value, "/lines/0/qty");
    EXPECT_ERP_ERROR(line("qty", -1), invalid_value, "/lines/0/qty");
    EXPECT_ERP_ERROR(line("qty", 1.2345), invalid_value, "/lines/0/qty");
    EXPECT_ERP_ERROR(line("qty", 2000000), invalid_value, "/lines/0/qty");
    EXPECT_ERP_ERROR(line("text", ""), invalid_value, "/lines/0/text");
    EXPECT_ERP_ERROR(line("text", "two\nlines"), invalid_value, "/lines/0/text");
    EXPECT_ERP_ERROR(line("text", json::string(std::string(257, 'a'))), invalid_value, "/lines/0/text");
    EXPECT_ERP_ERROR(line("colour", "red"), unknown_field, "/lines/0/colour");
    EXPECT_ERP_ERROR(line("unit_price", 1'000'000'000'000LL), amount_invalid, "/lines/0/unit_price");
    EXPECT_ERP_ERROR(line("amount", 1.5), wrong_type, "/lines/0/amount");

    auto o = valid_start();
    o["lines"].as_array()[0].as_object().erase("text");
    EXPECT_ERP_ERROR(error_of(o), missing_field, "/lines/0/text");
    o = valid_start();
    o["lines"].as_array()[1].as_object().erase("unit_price");
    EXPECT_ERP_ERROR(error_of(o), missing_field, "/lines/1/unit_price");

    // qty * unit_price not whole: the ERP must say how it rounded.
    o = valid_start();
    o["lines"].as_array()[0].as_object()["unit_price"] = 333;
    EXPECT_ERP_ERROR(error_of(o), invalid_value, "/lines/0/amount");
    // qty * unit_price over the ZVT limit.
    o = valid_start();
    o["lines"].as_array()[0].as_object()["qty"] = 1000000;
    o["lines"].as_array()[0].as_object()["unit_price"] = 999'999'999'999LL;
    EXPECT_ERP_ERROR(error_of(o), invalid_value, "/lines/0/amount");  // overflows int64 thousandths
    o["lines"].as_array()[0].as_object()["qty"] = 2;
    o["lines"].as_array()[0].as_object()["unit_price"] = 600'000'000'000LL;
    EXPECT_ERP_ERROR(error_of(o), amount_invalid, "/lines/0/unit_price");
}

TEST(ErpParse, TooManyLines) {
    auto o = valid_start();
    json::array lines;
    for (int i = 0; i < 501; ++i) lines.push_back(json::parse(R"({"text": "x", "qty": 1, "unit_price": 1})"));
    o["lines"] = lines;
    o["total"] = 501;
    EXPECT_ERP_ERROR(error_of(o), too_many_items, "/lines");
    lines.pop_back();
    o["lines"] = lines;
    o["total"] = 500;
    EXPECT_TRUE(parse_request(json::serialize(o)).has_value());
}

TEST(ErpParse, UnknownFieldsAreRefusedWithEscapedPointer) {
    auto o = valid_start();
    o["ammount"] = 100;
    EXPECT_ERP_ERROR(error_of(o), unknown_field, "/ammount");
    o = valid_start();
    o["a/b~c"] = 1;
    EXPECT_ERP_ERROR(error_of(o), unknown_field, "/a~1b~0c");
}

TEST(ErpParse, EnumValues) {
    auto o = valid_start();
    o["tender"] = "cash";
    EXPECT_ERP_ERROR(error_of(o), invalid_value, "/tender");
    auto r = error_of(R"({"v":1,"id":"x","type":"interim.resolve","entry_id":"i-1","resolution":"forgotten",
                          "operator":"lena","reason":"r"})");
    EXPECT_ERP_ERROR(r, invalid_value, "/resolution");
    EXPECT_NE(r.message.find("written_off"), std::string::npos);
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"interim.list","state":"closed"})"), invalid_value, "/state");
}

TEST(ErpParse, HugeMessageIsRefusedBeforeParsing) {
    std::string huge = "{\"v\": 1, \"id\": \"c\", \"type\": \"ping\", \"pad\": \"" + std::string(70000, 'x') + "\"}";
    ErpError e = error_of(huge);
    EXPECT_ERP_ERROR(e, message_too_large, "");
    EXPECT_TRUE(e.id.empty());  // not parsed at all
    Limits small;
    small.max_bytes = 40;
    EXPECT_ERP_ERROR(error_of(R"({"v": 1, "id": "c-1", "type": "ping", "x": 1})", small), message_too_large, "");
    EXPECT_TRUE(parse_request(R"({"v":1,"id":"c","type":"ping"})", small).has_value());
}

TEST(ErpParse, DeepNestingIsRefused) {
    std::string deep = "{\"v\":1,\"id\":\"c\",\"type\":\"ping\",\"x\":" + std::string(100, '[') + std::string(100, ']') + "}";
    EXPECT_ERP_ERROR(error_of(deep), message_too_large, "");
}

TEST(ErpParse, ExactlyOneOfPaymentIdOrRequestKey) {
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"payment.get"})"), missing_field, "/payment_id");
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"payment.get","payment_id":"p","request_key":"k"})"),
                     invalid_value, "/request_key");
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"payment.cancel"})"), missing_field, "/payment_id");
    auto r = parse_request(R"({"v":1,"id":"x","type":"payment.get","request_key":"O-1#1"})");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(std::get<PaymentGet>(r->body).ref.request_key, "O-1#1");
}

TEST(ErpParse, DayCloseNeedsTerminalOrRegister) {
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"day_close.run","operator":"lena"})"), missing_field,
                     "/terminal");
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"day_close.run","operator":"lena","terminal":"T1","register":"K1"})"),
                     invalid_value, "/register");
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"day_close.run","terminal":"T1"})"), missing_field, "/operator");
}

TEST(ErpParse, CashAmounts) {
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"cash.record","order_id":"O","request_key":"k",
                                 "amount":0,"currency":"SEK","register":"K1","operator":"a"})"),
                     amount_invalid, "/amount");
    // A counted drawer may be empty, never negative.
    EXPECT_TRUE(parse_request(R"({"v":1,"id":"x","type":"cash.reconcile","register":"K1","counted":0,
                                  "currency":"SEK","operator":"a"})")
                    .has_value());
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"cash.reconcile","register":"K1","counted":-1,
                                 "currency":"SEK","operator":"a"})"),
                     amount_invalid, "/counted");
}

TEST(ErpParse, RefundAmountAndCurrencyGoTogether) {
    auto full = parse_request(R"({"v":1,"id":"x","type":"payment.refund","payment_id":"p","request_key":"k","operator":"e"})");
    ASSERT_TRUE(full.has_value());
    EXPECT_FALSE(std::get<PaymentRefund>(full->body).partial);
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"payment.refund","payment_id":"p","request_key":"k",
                                 "operator":"e","amount":100})"),
                     missing_field, "/currency");
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"payment.refund","payment_id":"p","request_key":"k",
                                 "operator":"e","currency":"SEK"})"),
                     missing_field, "/amount");
}

TEST(ErpParse, ReceiptChannelRules) {
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"receipt.deliver","payment_id":"p","channel":"sms"})"),
                     missing_field, "/phone");
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"receipt.deliver","payment_id":"p","channel":"sms","phone":"call me"})"),
                     invalid_value, "/phone");
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"receipt.deliver","payment_id":"p","channel":"email","email":"nobody"})"),
                     invalid_value, "/email");
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"receipt.deliver","payment_id":"p","channel":"qr","remember":true})"),
                     missing_field, "/customer_id");
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"receipt.copy","payment_id":"p","channel":"waste_basket"})"),
                     invalid_value, "/channel");
}

TEST(ErpParse, ReceiptStartNeedsOrderAndRegister) {
    auto r = parse_request(R"({"v":1,"id":"x","type":"receipt.start","order_id":"O-1","register":"K1"})");
    ASSERT_TRUE(r) << r.error().to_string();
    const auto& b = std::get<ReceiptStart>(r->body);
    EXPECT_EQ(b.order_id, "O-1");
    EXPECT_TRUE(b.customer_id.empty());
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"receipt.start","register":"K1"})"), missing_field, "/order_id");
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"receipt.start","order_id":"O-1"})"), missing_field, "/register");
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"receipt.start","order_id":"O-1","register":"K1","phone":"+46701234567"})"),
                     unknown_field, "/phone");
}

TEST(ErpParse, CommitmentNeedsLines) {
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"commitment.check","order_id":"O","card_id":"C","lines":[],
                                 "total":100,"currency":"SEK","register":"K1"})"),
                     invalid_value, "/lines");
    EXPECT_ERP_ERROR(error_of(R"({"v":1,"id":"x","type":"commitment.pay","order_id":"O","request_key":"k","card_id":"C",
                                 "lines":[{"text":"a","qty":1,"unit_price":100}],"amount":90,"currency":"SEK",
                                 "register":"K1","operator":"a"})"),
                     total_mismatch, "/amount");
}

TEST(ErpParse, FirstErrorWinsInSchemaOrder) {
    // Both order_id and terminal are missing: the schema reads order_id first.
    auto o = valid_start();
    o.erase("order_id");
    o.erase("terminal");
    EXPECT_ERP_ERROR(error_of(o), missing_field, "/order_id");
}

TEST(ErpParse, IsDeterministic) {
    // A pure function: the same bytes give the same answer, whatever was parsed before.
    auto o = valid_start();
    o["currency"] = "XXX";
    std::string raw = json::serialize(o);
    ErpError first = error_of(raw);
    (void)parse_request(json::serialize(valid_start()));
    ErpError second = error_of(raw);
    EXPECT_EQ(first.code, second.code);
    EXPECT_EQ(first.field, second.field);
    EXPECT_EQ(first.message, second.message);
}

Money sek(std::int64_t minor) { return Money{minor, *currency_from_code("SEK")}; }

TEST(ErpRoundTrip, EveryRequestTypeEncodesAndParsesBack) {
    Line l1{"LAB-1", "Labour", 1250, 80000, 100000, "labour"};
    Line l2{"", "Discount", 1000, -5000, -5000, ""};
    std::vector<RequestBody> bodies{
        Hello{"erp", "1.0"},
        Ping{},
        PaymentStart{"O-1", "O-1#1", {l1, l2}, sek(95000), "K1", "T1", "anna", "BJ", Tender::card},
        PaymentStart{"O-2", "O-2#1", {}, sek(1), "K1", "T1", "anna", "", Tender::card},
        PaymentCancel{{"p-1", ""}, "anna"},
        PaymentGet{{"", "O-1#1"}},
        OrderGet{"O-1"},
        CashRecord{"O-3", "O-3#c", sek(45000), "K1", "anna", "BJ"},
        PaymentRefund{"p-1", "O-1#r", true, sek(8000), "T2", "K2", "erik", "returned"},
        PaymentRefund{"p-1", "O-1#r2", false, Money{}, "", "", "erik", ""},
        PaymentReverse{"p-1", "erik", "wrong order"},
        InterimList{"K1", "T1", InterimState::all},
        InterimResolve{"i-1", Resolution::written_off, "lena", "lost", "ref"},
        TerminalStatus{""},
        TerminalStatus{"T1"},
        DayCloseRun{"", "K1", "lena"},
        CashReconcile{"K1", sek(0), "lena", "evening"},
        CommitmentCheck{"O-4", "SK-1", {l1}, sek(100000), "K1"},
        CommitmentPay{"O-4", "O-4#c", "SK-1", {l1}, sek(100000), "K1", "anna", ""},
        ReceiptDeliver{"p-1", ReceiptChannel::email, "", "a@b.se", "C-1", true},
        ReceiptCopy{"p-1", ReceiptChannel::sms, "+46701234567", "", "anna"},
        BenefitVerify{"O-5", "EP-1"},
        BenefitRedeem{"O-5", "O-5#b", "EP-1", sek(50000), "K1", "anna", "BJ"},
        BenefitRedeem{"O-5", "O-5#b", "EP-1", sek(50000), "K1", "anna", "BJ", 80000},
        CardRead{"T1"},
        ReceiptStart{"O-6", "K1", "C-1"},
        ReceiptStart{"O-7", "K1", ""},
    };
    std::set<std::size_t> covered;
    for (const auto& body : bodies) {
        Request req{"c-" + std::to_string(covered.size()), body};
        covered.insert(body.index());
        std::string raw = encode_request(req);
        auto back = parse_request(raw);
        ASSERT_TRUE(back.has_value()) << raw << "\n" << back.error().to_string();
        EXPECT_EQ(*back, req) << raw;
        EXPECT_EQ(encode_request(*back), raw);
    }
    EXPECT_EQ(covered.size(), std::variant_size_v<RequestBody>);
}

TEST(ErpRoundTrip, TypeNamesMatchVariantOrder) {
    EXPECT_EQ(std::size(kRequestTypes), std::variant_size_v<RequestBody>);
    EXPECT_EQ(type_name(RequestBody{PaymentStart{}}), "payment.start");
    EXPECT_EQ(type_name(RequestBody{BenefitRedeem{}}), "benefit.redeem");
    EXPECT_TRUE(is_upstream_type("commitment.check"));
    EXPECT_FALSE(is_upstream_type("payment.start"));
}

}  // namespace
}  // namespace pb::erp
