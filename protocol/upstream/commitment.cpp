#include "protocol/upstream/commitment.hpp"

#include <boost/json.hpp>

namespace pb::upstream {

namespace json = boost::json;

namespace {

constexpr std::int64_t kMaxAmount = 999'999'999'999;  // as the ERP protocol (12 BCD digits)
constexpr std::size_t kMaxId = 64;

json::array lines_json(const std::vector<CommitmentLine>& lines) {
    json::array a;
    for (const auto& l : lines) {
        json::object o{{"index", l.index}};
        if (!l.sku.empty()) o["sku"] = l.sku;
        o["text"] = l.text;
        if (!l.category.empty()) o["category"] = l.category;
        o["amount"] = l.amount;
        a.push_back(std::move(o));
    }
    return a;
}

std::vector<CommitmentLine> read_lines(Fields& f, bool allow_empty) {
    std::vector<CommitmentLine> out;
    const json::array* a = f.array("lines", true, kMaxLines);
    if (!a) return out;
    if (a->empty() && !allow_empty) {
        f.fail(f.pointer("lines"), "must have at least one line");
        return out;
    }
    for (std::size_t i = 0; i < a->size() && f.ok(); ++i) {
        auto lf = f.element("lines", i, (*a)[i]);
        if (!lf) break;
        CommitmentLine l;
        l.index = lf->integer("index", true, 0, static_cast<std::int64_t>(kMaxLines) - 1);
        l.sku = lf->text("sku", false, kMaxId);
        l.text = lf->text("text", true);
        l.category = lf->text("category", false, kMaxId);
        l.amount = lf->integer("amount", true, -kMaxAmount, kMaxAmount);
        f.take(*lf);
        out.push_back(std::move(l));
    }
    return out;
}

template <class T>
Decoded<T> done(const Fields& f, T value) {
    if (!f.ok()) return unexpected(*f.error());
    return value;
}

}  // namespace

std::string_view to_string(CommitmentStatus s) {
    switch (s) {
        case CommitmentStatus::active: return "active";
        case CommitmentStatus::blocked: return "blocked";
        case CommitmentStatus::expired: return "expired";
        case CommitmentStatus::inactive: return "inactive";
    }
    return "inactive";
}

// ---- check -------------------------------------------------------------------------------

std::string encode(const CheckRequest& m) {
    return json::serialize(json::object{{"card_id", m.card_id},
                                        {"currency", std::string(m.total.currency.code())},
                                        {"total", m.total.minor},
                                        {"lines", lines_json(m.lines)}});
}

Decoded<CheckRequest> parse_check_request(std::string_view body) {
    auto obj = Fields::parse(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    CheckRequest m;
    m.card_id = f.text("card_id", true, kMaxId);
    m.total.currency = f.currency("currency");
    m.total.minor = f.integer("total", true, 0, kMaxAmount);
    m.lines = read_lines(f, false);
    return done(f, std::move(m));
}

std::string encode(const CheckReply& m) {
    json::object o{{"card_id", m.card_id}, {"status", std::string(to_string(m.status))}};
    if (!m.valid_from.empty()) o["valid_from"] = m.valid_from;
    if (!m.valid_until.empty()) o["valid_until"] = m.valid_until;
    o["balance"] = m.balance.minor;
    o["currency"] = std::string(m.balance.currency.code());
    json::array blocked;
    for (auto i : m.blocked_lines) blocked.push_back(i);
    o["blocked_lines"] = std::move(blocked);
    if (!m.billing_reference.empty()) o["billing_reference"] = m.billing_reference;
    return json::serialize(o);
}

Decoded<CheckReply> parse_check_reply(std::string_view body, std::size_t lines_sent) {
    auto obj = Fields::parse(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    CheckReply m;
    m.card_id = f.text("card_id", true, kMaxId);
    std::string status = f.text("status", true, 16);
    if (f.ok()) {
        if (status == "active")
            m.status = CommitmentStatus::active;
        else if (status == "blocked")
            m.status = CommitmentStatus::blocked;
        else if (status == "expired")
            m.status = CommitmentStatus::expired;
        else if (status == "inactive")
            m.status = CommitmentStatus::inactive;
        else
            f.fail("/status", "expected active, blocked, expired or inactive, got '" + status + "'");
    }
    const bool active = m.status == CommitmentStatus::active;
    m.valid_from = f.date("valid_from", false);
    m.valid_until = f.date("valid_until", active);
    m.balance.minor = f.integer("balance", true, 0, kMaxAmount);
    m.balance.currency = f.currency("currency");
    m.blocked_lines = f.index_list("blocked_lines", true, static_cast<std::int64_t>(lines_sent));
    m.billing_reference = f.text("billing_reference", active, kMaxId);
    return done(f, std::move(m));
}

// ---- debit -------------------------------------------------------------------------------

std::string encode(const DebitRequest& m) {
    return json::serialize(json::object{{"card_id", m.card_id},
                                        {"order_id", m.order_id},
                                        {"payment_ref", m.payment_ref},
                                        {"register", m.register_id},
                                        {"amount", m.amount.minor},
                                        {"currency", std::string(m.amount.currency.code())},
                                        {"lines", lines_json(m.lines)}});
}

Decoded<DebitRequest> parse_debit_request(std::string_view body) {
    auto obj = Fields::parse(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    DebitRequest m;
    m.card_id = f.text("card_id", true, kMaxId);
    m.order_id = f.text("order_id", true, kMaxId);
    m.payment_ref = f.text("payment_ref", true, kMaxId);
    m.register_id = f.text("register", true, kMaxId);
    m.amount.minor = f.integer("amount", true, 1, kMaxAmount);
    m.amount.currency = f.currency("currency");
    m.lines = read_lines(f, false);
    return done(f, std::move(m));
}

std::string encode(const DebitReply& m) {
    json::object o{{"debit_id", m.debit_id},
                   {"card_id", m.card_id},
                   {"amount", m.amount.minor},
                   {"currency", std::string(m.amount.currency.code())},
                   {"remaining_balance", m.remaining_balance},
                   {"billing_reference", m.billing_reference}};
    if (!m.valid_until.empty()) o["valid_until"] = m.valid_until;
    return json::serialize(o);
}

Decoded<DebitReply> parse_debit_reply(std::string_view body) {
    auto obj = Fields::parse(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    DebitReply m;
    m.debit_id = f.text("debit_id", true, kMaxId);
    m.card_id = f.text("card_id", true, kMaxId);
    m.amount.minor = f.integer("amount", true, 1, kMaxAmount);
    m.amount.currency = f.currency("currency");
    m.remaining_balance = f.integer("remaining_balance", true, 0, kMaxAmount);
    m.billing_reference = f.text("billing_reference", true, kMaxId);
    m.valid_until = f.date("valid_until", false);
    return done(f, std::move(m));
}

// ---- receipt lines -----------------------------------------------------------------------

std::string encode(const ReceiptRequest& m) {
    json::array lines;
    for (const auto& l : m.lines) {
        json::object o;
        if (!l.sku.empty()) o["sku"] = l.sku;
        o["text"] = l.text;
        if (!l.category.empty()) o["category"] = l.category;
        o["qty"] = quantity_json(l.qty_milli);
        o["unit_price"] = l.unit_price;
        o["amount"] = l.amount;
        lines.push_back(std::move(o));
    }
    return json::serialize(json::object{{"debit_id", m.debit_id},
                                        {"card_id", m.card_id},
                                        {"billing_reference", m.billing_reference},
                                        {"order_id", m.order_id},
                                        {"payment_ref", m.payment_ref},
                                        {"register", m.register_id},
                                        {"paid_at", m.paid_at},
                                        {"amount", m.amount.minor},
                                        {"currency", std::string(m.amount.currency.code())},
                                        {"lines", std::move(lines)}});
}

Decoded<ReceiptRequest> parse_receipt_request(std::string_view body) {
    auto obj = Fields::parse(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    ReceiptRequest m;
    m.debit_id = f.text("debit_id", true, kMaxId);
    m.card_id = f.text("card_id", true, kMaxId);
    m.billing_reference = f.text("billing_reference", true, kMaxId);
    m.order_id = f.text("order_id", true, kMaxId);
    m.payment_ref = f.text("payment_ref", true, kMaxId);
    m.register_id = f.text("register", true, kMaxId);
    m.paid_at = f.text("paid_at", true, 32);
    m.amount.minor = f.integer("amount", true, 1, kMaxAmount);
    m.amount.currency = f.currency("currency");
    const json::array* a = f.array("lines", true, kMaxLines);
    for (std::size_t i = 0; a && i < a->size() && f.ok(); ++i) {
        auto lf = f.element("lines", i, (*a)[i]);
        if (!lf) break;
        ReceiptLine l;
        l.sku = lf->text("sku", false, kMaxId);
        l.text = lf->text("text", true);
        l.category = lf->text("category", false, kMaxId);
        l.qty_milli = lf->quantity_milli("qty");
        l.unit_price = lf->integer("unit_price", true, -kMaxAmount, kMaxAmount);
        l.amount = lf->integer("amount", true, -kMaxAmount, kMaxAmount);
        f.take(*lf);
        m.lines.push_back(std::move(l));
    }
    return done(f, std::move(m));
}

std::string encode(const ReceiptReply& m) { return json::serialize(json::object{{"receipt_id", m.receipt_id}}); }

Decoded<ReceiptReply> parse_receipt_reply(std::string_view body) {
    auto obj = Fields::parse(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    ReceiptReply m;
    m.receipt_id = f.text("receipt_id", true, kMaxId);
    return done(f, std::move(m));
}

// ---- void --------------------------------------------------------------------------------

std::string encode(const VoidRequest& m) {
    return json::serialize(json::object{{"debit_key", m.debit_key},
                                        {"card_id", m.card_id},
                                        {"payment_ref", m.payment_ref},
                                        {"amount", m.amount.minor},
                                        {"currency", std::string(m.amount.currency.code())}});
}

Decoded<VoidRequest> parse_void_request(std::string_view body) {
    auto obj = Fields::parse(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    VoidRequest m;
    m.debit_key = f.text("debit_key", true, 128);
    m.card_id = f.text("card_id", true, kMaxId);
    m.payment_ref = f.text("payment_ref", true, kMaxId);
    m.amount.minor = f.integer("amount", true, 1, kMaxAmount);
    m.amount.currency = f.currency("currency");
    return done(f, std::move(m));
}

std::string encode(const VoidReply& m) {
    json::object o{{"voided", m.voided}};
    if (!m.debit_id.empty()) o["debit_id"] = m.debit_id;
    return json::serialize(o);
}

Decoded<VoidReply> parse_void_reply(std::string_view body) {
    auto obj = Fields::parse(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    VoidReply m;
    m.voided = f.boolean("voided", true);
    m.debit_id = f.text("debit_id", m.voided, kMaxId);
    return done(f, std::move(m));
}

}  // namespace pb::upstream
