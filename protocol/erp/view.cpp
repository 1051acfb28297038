#include "protocol/erp/view.hpp"

#include <array>
#include <cstdint>
#include <utility>

#include "protocol/erp/field_reader.hpp"

namespace pb::erp {
namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 6> kKinds{"sale", "refund", "reversal", "cash", "commitment", "benefit"};
constexpr std::array<std::string_view, 9> kStates{"requested", "sent",     "approved", "declined", "aborted",
                                                  "unknown",   "rejected", "reversed", "refunded"};

const Limits& view_limits() {
    static const Limits l;
    return l;
}

void put(json::object& o, std::string_view key, const std::string& v) {
    if (!v.empty()) o[key] = v;
}

template <class T>
void put(json::object& o, std::string_view key, const std::optional<T>& v) {
    if (v) o[key] = static_cast<std::int64_t>(*v);  // int64 on the wire, as parsed JSON is
}

json::array totals_json(const std::vector<BrandTotal>& ts) {
    json::array a;
    for (const auto& t : ts) a.push_back(to_json(t));
    return a;
}

std::vector<std::pair<std::string_view, int>> names_of(const auto& table) {
    std::vector<std::pair<std::string_view, int>> out;
    for (std::size_t i = 0; i < table.size(); ++i) out.emplace_back(table[i], static_cast<int>(i));
    return out;
}

std::vector<BrandTotal> read_totals(FieldReader& r, std::string_view key) {
    std::vector<BrandTotal> out;
    const json::array* a = r.array(key, Need::optional, 1000);
    if (!a) return out;
    for (std::size_t i = 0; i < a->size() && r.ok(); ++i) {
        FieldReader e = r.element(key, i, (*a)[i]);
        BrandTotal t;
        t.brand = e.id("brand", Need::required);
        t.count = e.integer("count", Need::required, -INT64_MAX, INT64_MAX);  // net counts
        t.amount = e.signed_minor("amount", Need::required);
        r.take_error(e);
        out.push_back(std::move(t));
    }
    return out;
}

PaymentView read_payment(FieldReader& r) {
    PaymentView p;
    p.payment_id = r.id("payment_id", Need::required);
    p.order_id = r.id("order_id", Need::required);
    p.request_key = r.id("request_key", Need::optional);
    p.kind = static_cast<PaymentKind>(r.choice("kind", names_of(kKinds), Need::required, 0));
    p.state = static_cast<PaymentState>(r.choice("state", names_of(kStates), Need::required, 0));
    p.amount.minor = r.signed_minor("amount", Need::required);
    p.amount.currency = r.currency("currency");
    p.terminal = r.id("terminal", Need::optional);
    p.register_id = r.id("register", Need::optional);
    p.operator_id = r.id("operator", Need::optional);
    p.receptionist = r.id("receptionist", Need::optional);
    p.original_payment_id = r.id("original_payment_id", Need::optional);
    std::string brand = r.id("card_brand", Need::optional);
    if (!brand.empty()) p.brand = brand_from_id(brand).value_or(CardBrand::unknown);
    std::string pan = r.id("masked_pan", Need::optional);
    if (!pan.empty()) {
        auto m = MaskedPan::from_digits(pan);
        if (m) p.masked_pan = *m;
        else r.fail(ErrorCode::invalid_value, r.pointer("masked_pan"), "masked_pan is not a masked PAN");
    }
    if (r.has("trace")) p.trace = static_cast<std::uint32_t>(r.integer("trace", Need::optional, 0, 999999));
    if (r.has("receipt_no")) p.receipt_no = static_cast<std::uint32_t>(r.integer("receipt_no", Need::optional, 0, 9999));
    p.approval_code = r.id("approval_code", Need::optional);
    if (r.has("result_code")) p.result_code = static_cast<std::uint8_t>(r.integer("result_code", Need::optional, 0, 255));
    p.result_text = r.text("result_text", Need::optional);
    p.created_at = r.id("created_at", Need::optional);
    p.updated_at = r.id("updated_at", Need::optional);
    return p;
}

template <class T>
Expected<T, ErpError> done(FieldReader& r, T value) {
    if (!r.ok()) return unexpected(*r.error());
    return value;
}

}  // namespace

std::string_view to_string(PaymentKind k) { return kKinds[static_cast<std::size_t>(k)]; }
std::string_view to_string(PaymentState s) { return kStates[static_cast<std::size_t>(s)]; }

std::optional<PaymentKind> payment_kind_from(std::string_view s) {
    for (std::size_t i = 0; i < kKinds.size(); ++i)
        if (kKinds[i] == s) return static_cast<PaymentKind>(i);
    return std::nullopt;
}

std::optional<PaymentState> payment_state_from(std::string_view s) {
    for (std::size_t i = 0; i < kStates.size(); ++i)
        if (kStates[i] == s) return static_cast<PaymentState>(i);
    return std::nullopt;
}

bool is_final(PaymentState s) {
    return s != PaymentState::requested && s != PaymentState::sent && s != PaymentState::unknown;
}

json::object to_json(const PaymentView& p) {
    json::object o;
    o["payment_id"] = p.payment_id;
    o["order_id"] = p.order_id;
    put(o, "request_key", p.request_key);
    o["kind"] = to_string(p.kind);
    o["state"] = to_string(p.state);
    o["amount"] = p.amount.minor;
    o["currency"] = p.amount.currency.code();
    put(o, "terminal", p.terminal);
    put(o, "register", p.register_id);
    put(o, "operator", p.operator_id);
    put(o, "receptionist", p.receptionist);
    put(o, "original_payment_id", p.original_payment_id);
    if (p.brand != CardBrand::unknown) o["card_brand"] = brand_id(p.brand);
    if (!p.masked_pan.empty()) o["masked_pan"] = p.masked_pan.str();
    put(o, "trace", p.trace);
    put(o, "receipt_no", p.receipt_no);
    put(o, "approval_code", p.approval_code);
    put(o, "result_code", p.result_code);
    put(o, "result_text", p.result_text);
    put(o, "created_at", p.created_at);
    put(o, "updated_at", p.updated_at);
    return o;
}

json::object to_json(const OrderView& v) {
    json::object o;
    o["order_id"] = v.order_id;
    json::array a;
    for (const auto& p : v.payments) a.push_back(to_json(p));
    o["payments"] = std::move(a);
    if (v.paid) {
        o["paid"] = v.paid->minor;
        o["currency"] = v.paid->currency.code();
    }
    return o;
}

json::object to_json(const InterimEntry& e) {
    json::object o;
    o["entry_id"] = e.entry_id;
    o["order_id"] = e.order_id;
    put(o, "payment_id", e.payment_id);
    o["reason"] = e.reason;
    o["amount"] = e.amount.minor;
    o["currency"] = e.amount.currency.code();
    put(o, "terminal", e.terminal);
    put(o, "register", e.register_id);
    o["state"] = e.open ? "open" : "resolved";
    put(o, "created_at", e.created_at);
    put(o, "resolution", e.resolution);
    put(o, "resolved_by", e.resolved_by);
    put(o, "resolved_at", e.resolved_at);
    put(o, "note", e.note);
    put(o, "reference", e.reference);
    return o;
}

json::object to_json(const TerminalView& t) {
    json::object o;
    o["terminal"] = t.terminal;
    put(o, "register", t.register_id);
    put(o, "protocol", t.protocol);
    put(o, "link", t.link);
    o["online"] = t.online;
    o["busy"] = t.busy;
    put(o, "payment_id", t.payment_id);
    put(o, "currency", t.currency);
    put(o, "last_seen", t.last_seen);
    return o;
}

json::object to_json(const BrandTotal& t) {
    return json::object{{"brand", t.brand}, {"count", t.count}, {"amount", t.amount}};
}

json::object to_json(const DayCloseResult& d) {
    json::object o;
    o["terminal"] = d.terminal;
    put(o, "register", d.register_id);
    o["ok"] = d.ok;
    put(o, "error", d.error);
    put(o, "business_date", d.business_date);
    put(o, "currency", d.currency);
    o["terminal_totals"] = totals_json(d.terminal_totals);
    o["ledger_totals"] = totals_json(d.ledger_totals);
    o["matches"] = d.matches;
    if (!d.benefit_totals.empty()) o["benefit_totals"] = totals_json(d.benefit_totals);
    if (!d.commitment_totals.empty()) o["commitment_totals"] = totals_json(d.commitment_totals);
    return o;
}

json::object to_json(const ReconcileView& r) {
    json::object o;
    o["register"] = r.register_id;
    put(o, "business_date", r.business_date);
    o["currency"] = r.currency;
    o["opening_float"] = r.opening_float;
    o["cash_in"] = r.cash_in;
    o["cash_out"] = r.cash_out;
    o["expected"] = r.expected;
    o["counted"] = r.counted;
    o["difference"] = r.difference;
    return o;
}

json::object to_json(const HelloView& h) {
    json::object o;
    o["server"] = h.server;
    put(o, "server_version", h.server_version);
    json::array vs;
    for (auto v : h.versions) vs.push_back(v);
    o["versions"] = std::move(vs);
    o["max_message_bytes"] = h.max_message_bytes;
    return o;
}

json::object list_json(std::string_view key, const std::vector<json::object>& items) {
    json::array a;
    for (const auto& i : items) a.push_back(i);
    return json::object{{key, std::move(a)}};
}

Expected<PaymentView, ErpError> payment_from_json(const json::object& o) {
    FieldReader r(o, "", view_limits());
    PaymentView p = read_payment(r);
    return done(r, std::move(p));
}

Expected<OrderView, ErpError> order_from_json(const json::object& o) {
    FieldReader r(o, "", view_limits());
    OrderView v;
    v.order_id = r.id("order_id", Need::required);
    if (const json::array* a = r.array("payments", Need::required, 10000)) {
        for (std::size_t i = 0; i < a->size() && r.ok(); ++i) {
            FieldReader e = r.element("payments", i, (*a)[i]);
            if (e.ok()) v.payments.push_back(read_payment(e));
            r.take_error(e);
        }
    }
    if (r.has("paid")) {
        Money m;
        m.minor = r.signed_minor("paid", Need::required);
        m.currency = r.currency("currency");
        v.paid = m;
    }
    return done(r, std::move(v));
}

Expected<InterimEntry, ErpError> interim_entry_from_json(const json::object& o) {
    FieldReader r(o, "", view_limits());
    InterimEntry e;
    e.entry_id = r.id("entry_id", Need::required);
    e.order_id = r.id("order_id", Need::required);
    e.payment_id = r.id("payment_id", Need::optional);
    e.reason = r.id("reason", Need::required);
    e.amount.minor = r.signed_minor("amount", Need::required);
    e.amount.currency = r.currency("currency");
    e.terminal = r.id("terminal", Need::optional);
    e.register_id = r.id("register", Need::optional);
    e.open = r.choice("state", {{"open", 1}, {"resolved", 0}}, Need::required, 1) == 1;
    e.created_at = r.id("created_at", Need::optional);
    e.resolution = r.id("resolution", Need::optional);
    e.resolved_by = r.id("resolved_by", Need::optional);
    e.resolved_at = r.id("resolved_at", Need::optional);
    e.note = r.text("note", Need::optional);
    e.reference = r.id("reference", Need::optional);
    return done(r, std::move(e));
}

Expected<TerminalView, ErpError> terminal_from_json(const json::object& o) {
    FieldReader r(o, "", view_limits());
    TerminalView t;
    t.terminal = r.id("terminal", Need::required);
    t.register_id = r.id("register", Need::optional);
    t.protocol = r.id("protocol", Need::optional);
    t.link = r.id("link", Need::optional);
    t.online = r.boolean("online", false);
    t.busy = r.boolean("busy", false);
    t.payment_id = r.id("payment_id", Need::optional);
    t.currency = r.id("currency", Need::optional);
    t.last_seen = r.id("last_seen", Need::optional);
    return done(r, std::move(t));
}

Expected<DayCloseResult, ErpError> day_close_from_json(const json::object& o) {
    FieldReader r(o, "", view_limits());
    DayCloseResult d;
    d.terminal = r.id("terminal", Need::required);
    d.register_id = r.id("register", Need::optional);
    d.ok = r.boolean("ok", false);
    d.error = r.text("error", Need::optional);
    d.business_date = r.id("business_date", Need::optional);
    d.currency = r.id("currency", Need::optional);
    d.terminal_totals = read_totals(r, "terminal_totals");
    d.ledger_totals = read_totals(r, "ledger_totals");
    d.matches = r.boolean("matches", false);
    d.benefit_totals = read_totals(r, "benefit_totals");
    d.commitment_totals = read_totals(r, "commitment_totals");
    return done(r, std::move(d));
}

Expected<ReconcileView, ErpError> reconcile_from_json(const json::object& o) {
    FieldReader r(o, "", view_limits());
    ReconcileView v;
    v.register_id = r.id("register", Need::required);
    v.business_date = r.id("business_date", Need::optional);
    v.currency = r.id("currency", Need::required);
    v.opening_float = r.signed_minor("opening_float", Need::required);
    v.cash_in = r.signed_minor("cash_in", Need::required);
    v.cash_out = r.signed_minor("cash_out", Need::required);
    v.expected = r.signed_minor("expected", Need::required);
    v.counted = r.signed_minor("counted", Need::required);
    v.difference = r.signed_minor("difference", Need::required);
    return done(r, std::move(v));
}

}  // namespace pb::erp
