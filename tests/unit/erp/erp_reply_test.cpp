// Replies, events, views and the error catalogue: encode/parse round trips, stable numbers.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <boost/json.hpp>

#include "protocol/erp/event.hpp"
#include "protocol/erp/reply.hpp"
#include "protocol/erp/view.hpp"

namespace pb::erp {
namespace {
namespace json = boost::json;

Money sek(std::int64_t minor) { return Money{minor, *currency_from_code("SEK")}; }

PaymentView approved_payment() {
    PaymentView p;
    p.payment_id = "p-000123";
    p.order_id = "O-4711";
    p.request_key = "O-4711#1";
    p.kind = PaymentKind::sale;
    p.state = PaymentState::approved;
    p.amount = sek(125000);
    p.terminal = "T1";
    p.register_id = "K1";
    p.operator_id = "anna";
    p.receptionist = "BJ";
    p.brand = CardBrand::visa;
    p.masked_pan = *MaskedPan::from_digits("4761739001010119");
    p.trace = 1234;
    p.receipt_no = 87;
    p.approval_code = "123456";
    p.result_code = 0;
    p.result_text = "no error";
    p.created_at = "2024-05-03T10:15:00Z";
    p.updated_at = "2024-05-03T10:15:41Z";
    return p;
}

InterimEntry open_entry() {
    InterimEntry e;
    e.entry_id = "i-31";
    e.order_id = "O-4702";
    e.payment_id = "p-000117";
    e.reason = "aborted";
    e.amount = sek(99000);
    e.terminal = "T1";
    e.register_id = "K1";
    e.created_at = "2024-05-03T09:02:11Z";
    return e;
}

DayCloseResult day_close() {
    DayCloseResult d;
    d.terminal = "T1";
    d.register_id = "K1";
    d.ok = true;
    d.business_date = "2024-05-03";
    d.currency = "SEK";
    d.terminal_totals = {{"visa", 12, 1534000}, {"mastercard", 7, 822500}};
    d.ledger_totals = {{"visa", 12, 1534000}, {"mastercard", 6, 800000}};
    d.matches = false;
    return d;
}

TEST(ErpReply, OkEnvelope) {
    std::string raw = encode_ok("c-3", "payment.get", to_json(approved_payment()));
    auto r = parse_reply(raw);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_TRUE(r->ok);
    EXPECT_EQ(r->id, "c-3");
    EXPECT_EQ(r->type, "payment.get");
    auto p = payment_from_json(r->result);
    ASSERT_TRUE(p.has_value()) << p.error().to_string();
    EXPECT_EQ(*p, approved_payment());
    // The full card number never appears, only the masked one.
    EXPECT_EQ(raw.find("4761739001010119"), std::string::npos);
    EXPECT_NE(raw.find("\"masked_pan\":\"476173******0119\""), std::string::npos) << raw;
}

TEST(ErpReply, ErrorEnvelopeEchoesIdTypeAndField) {
    auto parsed = parse_request(R"({"v":1,"id":"c-9","type":"payment.start","order_id":"O"})");
    ASSERT_FALSE(parsed.has_value());
    std::string raw = encode_error(parsed.error());
    json::object o = json::parse(raw).as_object();
    EXPECT_EQ(o["v"], 1);
    EXPECT_EQ(o["id"], "c-9");
    EXPECT_EQ(o["type"], "payment.start");
    EXPECT_EQ(o["ok"], false);
    EXPECT_EQ(o["error"].as_object()["code"], 1004);
    EXPECT_EQ(o["error"].as_object()["name"], "missing_field");
    EXPECT_EQ(o["error"].as_object()["field"], "/request_key");

    auto r = parse_reply(raw);
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->ok);
    EXPECT_EQ(r->error.code, ErrorCode::missing_field);
    EXPECT_EQ(r->error.field, "/request_key");
    EXPECT_EQ(r->error.id, "c-9");
}

TEST(ErpReply, ErrorWithoutIdHasNullId) {
    auto parsed = parse_request("not json");
    ASSERT_FALSE(parsed.has_value());
    json::object o = json::parse(encode_error(parsed.error())).as_object();
    EXPECT_TRUE(o["id"].is_null());
    EXPECT_FALSE(o.contains("type"));
    EXPECT_FALSE(o["error"].as_object().contains("field"));
}

TEST(ErpReply, UnknownErrorCodeFromNewerServerIsKept) {
    auto r = parse_reply(R"({"v":1,"id":"a","ok":false,"error":{"code":2999,"name":"future","message":"m"}})");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->error.code, ErrorCode::internal);
    EXPECT_NE(r->error.message.find("2999"), std::string::npos);
}

TEST(ErpReply, ViewsIgnoreUnknownFields) {
    json::object o = to_json(approved_payment());
    o["added_in_v1_5"] = "whatever";
    auto p = payment_from_json(o);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(*p, approved_payment());
}

TEST(ErpReply, ViewRoundTrips) {
    OrderView ov{"O-4711", {approved_payment(), approved_payment()}, sek(250000)};
    ov.payments[0].state = PaymentState::declined;
    ov.payments[0].brand = CardBrand::unknown;
    ov.payments[0].masked_pan = {};
    ov.payments[0].trace.reset();
    auto o = order_from_json(to_json(ov));
    ASSERT_TRUE(o.has_value()) << o.error().to_string();
    EXPECT_EQ(*o, ov);

    InterimEntry e = open_entry();
    auto e1 = interim_entry_from_json(to_json(e));
    ASSERT_TRUE(e1.has_value());
    EXPECT_EQ(*e1, e);
    e.open = false;
    e.resolution = "written_off";
    e.resolved_by = "lena";
    e.note = "lost";
    auto e2 = interim_entry_from_json(to_json(e));
    ASSERT_TRUE(e2.has_value());
    EXPECT_EQ(*e2, e);

    TerminalView t{"T1", "K1", "zvt", "serial", true, true, "p-1", "SEK", "2024-05-03T10:00:00Z"};
    auto t1 = terminal_from_json(to_json(t));
    ASSERT_TRUE(t1.has_value());
    EXPECT_EQ(*t1, t);

    auto d = day_close_from_json(to_json(day_close()));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, day_close());

    ReconcileView rv{"K1", "2024-05-03", "SEK", 500000, 45000, 1000, 544000, 543000, -1000};
    auto r = reconcile_from_json(to_json(rv));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, rv);
}

TEST(ErpReply, PaymentViewRejectsUnmaskedGarbage) {
    json::object o = to_json(approved_payment());
    o["masked_pan"] = "not-a-pan";
    auto p = payment_from_json(o);
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().field, "/masked_pan");
    o = to_json(approved_payment());
    o["state"] = "teleported";
    p = payment_from_json(o);
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().code, ErrorCode::invalid_value);
    EXPECT_EQ(p.error().field, "/state");
}

TEST(ErpEvent, EveryEventTypeRoundTripsWithTopic) {
    PaymentResult aborted{approved_payment()};
    aborted.payment.state = PaymentState::aborted;
    InterimEntry resolved = open_entry();
    resolved.open = false;
    resolved.resolution = "paid_otherwise";
    std::vector<std::pair<EventBody, std::string>> cases{
        {PaymentProgress{"p-1", "O-4711", "T1", 0x0A, "Insert card"}, "payment.progress.O-4711"},
        {PaymentReceipt{"p-1", "O-4711", "T1", ReceiptType::merchant, {"HÄNDLERBELEG", "VISA", ""}},
         "payment.receipt.O-4711"},
        {PaymentResult{approved_payment()}, "payment.result.O-4711"},
        {aborted, "payment.result.O-4711"},
        {InterimChanged{open_entry()}, "interim.changed.O-4702"},
        {InterimChanged{resolved}, "interim.changed.O-4702"},
        {TerminalOnline{"T1", "K1"}, "terminal.online.T1"},
        {TerminalOffline{"T2", "K2", "connection refused"}, "terminal.offline.T2"},
        {DayCloseDone{day_close()}, "day_close.done.T1"},
        {ReceiptDelivered{"p-1", "O-4711", ReceiptChannel::qr, "https://r.example/x"}, "receipt.delivered.O-4711"},
    };
    std::set<std::size_t> covered;
    std::uint64_t seq = 100;
    for (const auto& [body, topic] : cases) {
        Event ev{seq++, "2024-05-03T10:15:01Z", body};
        covered.insert(body.index());
        EncodedEvent enc = encode_event(ev);
        EXPECT_EQ(enc.topic, topic);
        auto back = parse_event(enc.payload);
        ASSERT_TRUE(back.has_value()) << enc.payload << "\n" << back.error().to_string();
        EXPECT_EQ(*back, ev) << enc.payload;
        json::object o = json::parse(enc.payload).as_object();
        EXPECT_EQ(o["v"], 1);
        EXPECT_EQ(o["type"].as_string(), type_name(body));
    }
    EXPECT_EQ(covered.size(), std::variant_size_v<EventBody>);
}

TEST(ErpEvent, BadPayloads) {
    auto e = parse_event(R"({"v":1,"type":"payment.teleported","seq":1})");
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().code, ErrorCode::unknown_type);
    e = parse_event(R"({"v":2,"type":"terminal.online","seq":1,"terminal":"T1"})");
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().code, ErrorCode::unsupported_version);
    e = parse_event(R"({"v":1,"type":"payment.progress","seq":1,"payment_id":"p","order_id":"o","terminal":"T1","code":300})");
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().field, "/code");
}

TEST(ErpErrors, CatalogueIsStableAndComplete) {
    std::set<int> numbers;
    std::set<std::string_view> names;
    for (ErrorCode c : kAllErrorCodes) {
        int n = static_cast<int>(c);
        EXPECT_TRUE(numbers.insert(n).second) << n;
        EXPECT_TRUE(names.insert(error_name(c)).second) << error_name(c);
        EXPECT_EQ(error_from_number(n), c);
        EXPECT_EQ(error_from_name(error_name(c)), c);
        EXPECT_FALSE(error_message(c).empty());
        EXPECT_NE(error_name(c), "") << n;
    }
    // Wire numbers are a contract: spot-check the ones integrators already rely on.
    EXPECT_EQ(static_cast<int>(ErrorCode::malformed_json), 1000);
    EXPECT_EQ(static_cast<int>(ErrorCode::message_too_large), 1007);
    EXPECT_EQ(static_cast<int>(ErrorCode::terminal_busy), 2001);
    EXPECT_EQ(static_cast<int>(ErrorCode::amount_invalid), 2007);
    EXPECT_EQ(static_cast<int>(ErrorCode::currency_mismatch), 2008);
    EXPECT_EQ(static_cast<int>(ErrorCode::internal), 3000);
    EXPECT_FALSE(error_from_number(1999).has_value());
}

TEST(ErpErrors, ToStringNamesCodeAndField) {
    ErpError e = ErpError::make(ErrorCode::missing_field, "/terminal", "terminal is required");
    EXPECT_EQ(e.to_string(), "missing_field (1004) at /terminal: terminal is required");
    EXPECT_EQ(ErpError::make(ErrorCode::internal).message, error_message(ErrorCode::internal));
}

}  // namespace
}  // namespace pb::erp
