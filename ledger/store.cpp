#include "ledger/store.hpp"

#include <boost/json.hpp>

#include <cstring>

#include "ledger/sha256.hpp"

namespace pb::ledger::detail {
namespace json = boost::json;

namespace {

void put_le64(Sha256& h, std::int64_t v) {
    std::uint8_t b[8];
    auto u = static_cast<std::uint64_t>(v);
    for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(u >> (8 * i));
    h.update(b, 8);
}

const std::string& genesis() {
    static const std::string g(32, '\0');
    return g;
}

constexpr const char* kPaymentColumns =
    "id, order_id, request_key, amount_minor, currency, tender, register_id, terminal_id, operator_id, "
    "receptionist, business_date, state, brand, masked_pan, trace, receipt_no, approval_code, terminal_tid, "
    "result_code, terminal_text, issuer_id, reason, resolution_how, resolution_operator, resolution_why, "
    "created_utc_ms, updated_utc_ms, last_event_seq";

Payment row_to_payment(const Stmt& s) {
    Payment p;
    int c = 0;
    p.id = PaymentId{s.i64(c++)};
    p.request.order_id = s.text(c++);
    p.request.request_key = s.text(c++);
    p.request.amount.minor = s.i64(c++);
    p.request.amount.currency = currency_from_code(s.text(c++)).value_or(Currency{});
    p.request.tender = tender_from_id(s.text(c++)).value_or(Tender::card);
    p.request.register_id = s.text(c++);
    p.request.terminal_id = s.text(c++);
    p.request.operator_id = s.text(c++);
    p.request.receptionist = s.text(c++);
    p.request.business_date = s.text(c++);
    p.state = state_from_id(s.text(c++)).value_or(PaymentState::unknown);
    p.terminal.brand = brand_from_id(s.text(c++)).value_or(CardBrand::unknown);
    p.terminal.pan = MaskedPan::from_digits(s.text(c++)).value_or(MaskedPan{});
    if (!s.is_null(c)) p.terminal.trace = static_cast<std::uint32_t>(s.i64(c));
    ++c;
    if (!s.is_null(c)) p.terminal.receipt_no = static_cast<std::uint32_t>(s.i64(c));
    ++c;
    p.terminal.approval_code = s.text(c++);
    p.terminal.terminal_tid = s.text(c++);
    if (!s.is_null(c)) p.terminal.result_code = static_cast<std::uint8_t>(s.i64(c));
    ++c;
    p.terminal.text = s.text(c++);
    p.issuer_id = s.text(c++);
    p.reason = s.text(c++);
    if (!s.is_null(c)) {
        Resolution r;
        r.how = resolution_from_id(s.text(c)).value_or(ResolutionKind::written_off);
        r.operator_id = s.text(c + 1);
        r.why = s.text(c + 2);
        p.resolution = r;
    }
    c += 3;
    p.created_utc_ms = s.i64(c++);
    p.updated_utc_ms = s.i64(c++);
    p.last_event_seq = s.i64(c++);
    return p;
}

json::object terminal_json(const TerminalData& d) {
    json::object o;
    o["brand"] = brand_id(d.brand);
    o["pan"] = d.pan.str();
    if (d.trace) o["trace"] = *d.trace;
    if (d.receipt_no) o["receipt_no"] = *d.receipt_no;
    o["approval_code"] = d.approval_code;
    o["tid"] = d.terminal_tid;
    if (d.result_code) o["result_code"] = *d.result_code;
    o["text"] = d.text;
    return o;
}

std::string str(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (!v || !v->is_string()) return {};
    return std::string(v->get_string());
}

std::optional<std::int64_t> num(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    return std::nullopt;
}

TerminalData terminal_from(const json::object& o) {
    TerminalData d;
    d.brand = brand_from_id(str(o, "brand")).value_or(CardBrand::unknown);
    d.pan = MaskedPan::from_digits(str(o, "pan")).value_or(MaskedPan{});
    if (auto t = num(o, "trace")) d.trace = static_cast<std::uint32_t>(*t);
    if (auto t = num(o, "receipt_no")) d.receipt_no = static_cast<std::uint32_t>(*t);
    d.approval_code = str(o, "approval_code");
    d.terminal_tid = str(o, "tid");
    if (auto t = num(o, "result_code")) d.result_code = static_cast<std::uint8_t>(*t);
    d.text = str(o, "text");
    return d;
}

}  // namespace

std::string event_hash(const std::string& prev_hash, std::int64_t seq, std::string_view kind,
                       std::string_view subject, std::int64_t at_utc_ms, std::string_view body) {
    Sha256 h;
    h.update(prev_hash);
    put_le64(h, seq);
    h.update(kind).update("", 1).update(subject).update("", 1);
    put_le64(h, at_utc_ms);
    h.update(body);
    auto d = h.finish();
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

Store::Store(const std::string& path, std::function<std::int64_t()> clock) : db(path), clock_(std::move(clock)) {
    // Durable on power loss: WAL with a full sync at every commit (stack.md figures).
    db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
}

std::int64_t Store::append(std::string_view kind, std::string_view subject, std::string_view body,
                          std::int64_t* at_out) {
    std::int64_t seq = 1;
    std::string prev = genesis();
    {
        auto st = db.prepare("SELECT seq, hash FROM chain_head WHERE id = 1");
        if (st.step()) {
            seq = st.i64(0) + 1;
            prev = st.blob(1);
        }
    }
    const std::int64_t at = now();
    if (at_out) *at_out = at;
    const std::string hash = event_hash(prev, seq, kind, subject, at, body);
    db.prepare("INSERT INTO events(seq, kind, subject, at_utc_ms, body, prev_hash, hash) VALUES(?,?,?,?,?,?,?)")
        .bind(1, seq)
        .bind(2, kind)
        .bind(3, subject)
        .bind(4, at)
        .bind(5, body)
        .bind_blob(6, prev.data(), prev.size())
        .bind_blob(7, hash.data(), hash.size())
        .run();
    db.prepare("INSERT INTO chain_head(id, seq, hash) VALUES(1, ?, ?) "
               "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash")
        .bind(1, seq)
        .bind_blob(2, hash.data(), hash.size())
        .run();
    return seq;
}

std::optional<Payment> Store::load(PaymentId id) {
    auto v = select("id = ?", [&](Stmt& s) { s.bind(1, id.value); });
    if (v.empty()) return std::nullopt;
    return v.front();
}

std::optional<Payment> Store::load_by_key(std::string_view key) {
    auto v = select("request_key = ?", [&](Stmt& s) { s.bind(1, key); });
    if (v.empty()) return std::nullopt;
    return v.front();
}

std::vector<Payment> Store::select(const std::string& where, const std::function<void(Stmt&)>& bind) {
    std::string sql = std::string("SELECT ") + kPaymentColumns + " FROM payments";
    if (!where.empty()) sql += " WHERE " + where;
    if (where.find("ORDER BY") == std::string::npos && where.find("LIMIT") == std::string::npos)
        sql += " ORDER BY id";
    auto st = db.prepare(sql);
    if (bind) bind(st);
    std::vector<Payment> out;
    while (st.step()) out.push_back(row_to_payment(st));
    return out;
}

void Store::save(const Payment& p) {
    auto st = db.prepare(std::string("INSERT INTO payments(") + kPaymentColumns +
                         ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                         "ON CONFLICT(id) DO UPDATE SET state = excluded.state, brand = excluded.brand, "
                         "masked_pan = excluded.masked_pan, trace = excluded.trace, receipt_no = excluded.receipt_no, "
                         "approval_code = excluded.approval_code, terminal_tid = excluded.terminal_tid, "
                         "result_code = excluded.result_code, terminal_text = excluded.terminal_text, "
                         "issuer_id = excluded.issuer_id, reason = excluded.reason, "
                         "resolution_how = excluded.resolution_how, resolution_operator = excluded.resolution_operator, "
                         "resolution_why = excluded.resolution_why, updated_utc_ms = excluded.updated_utc_ms, "
                         "last_event_seq = excluded.last_event_seq");
    int c = 0;
    auto next = [&c] { return ++c; };
    st.bind(next(), p.id.value);
    st.bind(next(), p.request.order_id);
    st.bind(next(), p.request.request_key);
    st.bind(next(), p.request.amount.minor);
    st.bind(next(), p.request.amount.currency.code());
    st.bind(next(), tender_id(p.request.tender));
    st.bind(next(), p.request.register_id);
    st.bind(next(), p.request.terminal_id);
    st.bind(next(), p.request.operator_id);
    st.bind(next(), p.request.receptionist);
    st.bind(next(), p.request.business_date);
    st.bind(next(), state_id(p.state));
    st.bind(next(), brand_id(p.terminal.brand));
    st.bind(next(), p.terminal.pan.str());
    st.bind(next(), p.terminal.trace);
    st.bind(next(), p.terminal.receipt_no);
    st.bind(next(), p.terminal.approval_code);
    st.bind(next(), p.terminal.terminal_tid);
    st.bind(next(), p.terminal.result_code);
    st.bind(next(), p.terminal.text);
    st.bind(next(), p.issuer_id);
    st.bind(next(), p.reason);
    if (p.resolution) {
        st.bind(next(), resolution_id(p.resolution->how));
        st.bind(next(), p.resolution->operator_id);
        st.bind(next(), p.resolution->why);
    } else {
        st.bind_null(next());
        st.bind_null(next());
        st.bind_null(next());
    }
    st.bind(next(), p.created_utc_ms);
    st.bind(next(), p.updated_utc_ms);
    st.bind(next(), p.last_event_seq);
    st.run();
}

void Store::record(Payment& p, std::string_view kind, const std::string& body) {
    std::int64_t at = 0;
    const std::int64_t seq = append(kind, std::to_string(p.id.value), body, &at);
    if (!apply(p, kind, body, seq, at)) throw SqliteError("internal: event does not apply: " + std::string(kind));
    save(p);
}

std::string body_requested(const PaymentRequest& r) {
    json::object o;
    o["order_id"] = r.order_id;
    o["request_key"] = r.request_key;
    o["amount"] = r.amount.minor;
    o["currency"] = r.amount.currency.code();
    o["tender"] = tender_id(r.tender);
    o["register"] = r.register_id;
    o["terminal"] = r.terminal_id;
    o["operator"] = r.operator_id;
    o["receptionist"] = r.receptionist;
    o["business_date"] = r.business_date;
    return json::serialize(o);
}

std::string body_result(const TerminalData& d, std::string_view issuer_id) {
    json::object o;
    o["terminal"] = terminal_json(d);
    o["issuer"] = issuer_id;
    o["reason"] = d.text;
    return json::serialize(o);
}

std::string body_reason(std::string_view reason) {
    json::object o;
    o["reason"] = reason;
    return json::serialize(o);
}

std::string body_by(std::string_view operator_id, const TerminalData& d) {
    json::object o;
    o["operator"] = operator_id;
    o["terminal"] = terminal_json(d);
    return json::serialize(o);
}

std::string body_resolved(const Resolution& r) {
    json::object o;
    o["how"] = resolution_id(r.how);
    o["operator"] = r.operator_id;
    o["why"] = r.why;
    return json::serialize(o);
}

bool apply(Payment& p, std::string_view kind, std::string_view body, std::int64_t seq, std::int64_t at) {
    constexpr std::string_view prefix = "payment.";
    if (kind.substr(0, prefix.size()) != prefix) return false;
    auto to = state_from_id(kind.substr(prefix.size()));
    if (!to) return false;
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return false;
    const json::object& o = v.get_object();

    if (*to == PaymentState::requested) {
        if (p.last_event_seq != 0) return false;
        auto& r = p.request;
        r.order_id = str(o, "order_id");
        r.request_key = str(o, "request_key");
        r.amount.minor = num(o, "amount").value_or(0);
        auto cur = currency_from_code(str(o, "currency"));
        auto tender = tender_from_id(str(o, "tender"));
        if (!cur || !tender) return false;
        r.amount.currency = *cur;
        r.tender = *tender;
        r.register_id = str(o, "register");
        r.terminal_id = str(o, "terminal");
        r.operator_id = str(o, "operator");
        r.receptionist = str(o, "receptionist");
        r.business_date = str(o, "business_date");
        p.created_utc_ms = at;
    } else {
        if (p.last_event_seq == 0 || !transition_allowed(p.state, *to)) return false;
        switch (*to) {
            case PaymentState::approved:
            case PaymentState::declined:
            case PaymentState::aborted:
            case PaymentState::unknown:
                if (auto* t = o.if_contains("terminal"); t && t->is_object()) p.terminal = terminal_from(t->get_object());
                if (o.contains("issuer")) p.issuer_id = str(o, "issuer");
                if (o.contains("reason")) p.reason = str(o, "reason");
                break;
            case PaymentState::rejected: p.reason = str(o, "reason"); break;
            case PaymentState::resolved: {
                auto how = resolution_from_id(str(o, "how"));
                if (!how) return false;
                p.resolution = Resolution{*how, str(o, "operator"), str(o, "why")};
                break;
            }
            default: break;  // sent; reversed/refunded keep the original result's terminal data
        }
    }
    p.state = *to;
    p.updated_utc_ms = at;
    p.last_event_seq = seq;
    return true;
}

bool same_payment(const Payment& a, const Payment& b) {
    const auto& x = a.request;
    const auto& y = b.request;
    const auto& s = a.terminal;
    const auto& t = b.terminal;
    bool res = a.resolution.has_value() == b.resolution.has_value();
    if (res && a.resolution)
        res = a.resolution->how == b.resolution->how && a.resolution->operator_id == b.resolution->operator_id &&
              a.resolution->why == b.resolution->why;
    return res && a.id == b.id && x.order_id == y.order_id && x.request_key == y.request_key &&
           x.amount == y.amount && x.tender == y.tender && x.register_id == y.register_id &&
           x.terminal_id == y.terminal_id && x.operator_id == y.operator_id && x.receptionist == y.receptionist &&
           x.business_date == y.business_date && a.state == b.state && s.brand == t.brand && s.pan == t.pan &&
           s.trace == t.trace && s.receipt_no == t.receipt_no && s.approval_code == t.approval_code &&
           s.terminal_tid == t.terminal_tid && s.result_code == t.result_code && s.text == t.text &&
           a.issuer_id == b.issuer_id && a.reason == b.reason && a.created_utc_ms == b.created_utc_ms &&
           a.updated_utc_ms == b.updated_utc_ms && a.last_event_seq == b.last_event_seq;
}

}  // namespace pb::ledger::detail
