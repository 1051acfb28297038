#include "protocol/erp/request.hpp"

#include <cmath>
#include <initializer_list>
#include <optional>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "protocol/erp/field_reader.hpp"

namespace pb::erp {
namespace json = boost::json;

namespace {

template <class E>
struct Names {
    E value;
    std::string_view name;
};

constexpr Names<Tender> kTenders[] = {{Tender::card, "card"}};
constexpr Names<Resolution> kResolutions[] = {{Resolution::paid_otherwise, "paid_otherwise"},
                                              {Resolution::retried, "retried"},
                                              {Resolution::reversed, "reversed"},
                                              {Resolution::written_off, "written_off"}};
constexpr Names<InterimState> kInterimStates[] = {
    {InterimState::open, "open"}, {InterimState::resolved, "resolved"}, {InterimState::all, "all"}};
constexpr Names<ReceiptChannel> kChannels[] = {{ReceiptChannel::print, "print"},
                                               {ReceiptChannel::sms, "sms"},
                                               {ReceiptChannel::email, "email"},
                                               {ReceiptChannel::waste_basket, "waste_basket"},
                                               {ReceiptChannel::qr, "qr"}};

template <class E, std::size_t N>
std::string_view name_of(const Names<E> (&table)[N], E v) {
    for (const auto& n : table)
        if (n.value == v) return n.name;
    return "?";
}

template <class E, std::size_t N>
std::vector<std::pair<std::string_view, int>> choices(const Names<E> (&table)[N]) {
    std::vector<std::pair<std::string_view, int>> out;
    for (const auto& n : table) out.emplace_back(n.name, static_cast<int>(n.value));
    return out;
}

template <class E, std::size_t N>
E read_enum(FieldReader& r, std::string_view key, const Names<E> (&table)[N], Need need, E fallback) {
    int v = r.choice(key, choices(table), need, static_cast<int>(fallback));
    return static_cast<E>(v);
}

// Lines: [{sku?, text, qty, unit_price, amount?, category?}]
std::vector<Line> read_lines(FieldReader& r, Need need) {
    std::vector<Line> lines;
    const json::array* arr = r.array("lines", need, r.limits().max_lines);
    if (!arr) return lines;
    if (need == Need::required && arr->empty()) {
        r.fail(ErrorCode::invalid_value, r.pointer("lines"), "at least one line is required");
        return lines;
    }
    for (std::size_t i = 0; i < arr->size() && r.ok(); ++i) {
        FieldReader lr = r.element("lines", i, (*arr)[i]);
        if (!lr.ok()) {
            r.take_error(lr);
            break;
        }
        Line l;
        l.sku = lr.id("sku", Need::optional);
        l.text = lr.text("text", Need::required);
        l.qty_milli = lr.quantity_milli("qty");
        l.unit_price = lr.signed_minor("unit_price", Need::required);
        std::optional<std::int64_t> given = lr.optional_signed_minor("amount");
        l.category = lr.id("category", Need::optional);
        lr.finish();
        if (!lr.ok()) {
            r.take_error(lr);
            break;
        }
        if (given) {
            l.amount = *given;
        } else {
            std::int64_t product = 0;
            if (__builtin_mul_overflow(l.qty_milli, l.unit_price, &product) || product % 1000 != 0) {
                r.fail(ErrorCode::invalid_value, lr.pointer("amount"),
                       "amount is required when qty * unit_price is not a whole number of minor units");
                break;
            }
            l.amount = product / 1000;
            if (l.amount > kMaxAmountMinor || l.amount < -kMaxAmountMinor) {
                r.fail(ErrorCode::amount_invalid, lr.pointer("unit_price"),
                       "qty * unit_price exceeds 999999999999 minor units");
                break;
            }
        }
        lines.push_back(std::move(l));
    }
    return lines;
}

// Sum check: ZVT sends one amount; the lines are what the ERP thinks it charges.
void check_sum(FieldReader& r, const std::vector<Line>& lines, const Money& total, std::string_view key) {
    if (!r.ok() || lines.empty()) return;
    std::int64_t sum = 0;  // |amount| <= 1e12 and lines <= limits: no overflow below 9e18
    for (const auto& l : lines) sum += l.amount;
    if (sum != total.minor)
        r.fail(ErrorCode::total_mismatch, r.pointer(key),
               "lines sum to " + std::to_string(sum) + ", " + std::string(key) + " is " +
                   std::to_string(total.minor));
}

Money read_money(FieldReader& r, std::string_view amount_key, bool allow_zero = false) {
    Money m;
    m.minor = allow_zero ? r.nonnegative_amount(amount_key) : r.amount(amount_key);
    m.currency = r.currency("currency");
    return m;
}

PaymentRef read_ref(FieldReader& r) {
    PaymentRef ref;
    ref.payment_id = r.id("payment_id", Need::optional);
    ref.request_key = r.id("request_key", Need::optional);
    if (!r.ok()) return ref;
    if (ref.payment_id.empty() && ref.request_key.empty())
        r.fail(ErrorCode::missing_field, "/payment_id", "payment_id or request_key is required");
    else if (!ref.payment_id.empty() && !ref.request_key.empty())
        r.fail(ErrorCode::invalid_value, "/request_key", "give payment_id or request_key, not both");
    return ref;
}

RequestBody read_body(std::string_view type, FieldReader& r, bool& known) {
    known = true;
    if (type == "hello") {
        Hello b;
        b.client = r.text("client", Need::optional);
        b.client_version = r.id("client_version", Need::optional);
        return b;
    }
    if (type == "ping") return Ping{};
    if (type == "payment.start") {
        PaymentStart b;
        b.order_id = r.id("order_id", Need::required);
        b.request_key = r.id("request_key", Need::required);
        b.lines = read_lines(r, Need::optional);
        b.total = read_money(r, "total");
        b.register_id = r.id("register", Need::required);
        b.terminal = r.id("terminal", Need::required);
        b.operator_id = r.id("operator", Need::required);
        b.receptionist = r.id("receptionist", Need::optional);
        b.tender = read_enum(r, "tender", kTenders, Need::optional, Tender::card);
        check_sum(r, b.lines, b.total, "total");
        return b;
    }
    if (type == "payment.cancel") {
        PaymentCancel b;
        b.ref = read_ref(r);
        b.operator_id = r.id("operator", Need::optional);
        return b;
    }
    if (type == "payment.get") {
        PaymentGet b;
        b.ref = read_ref(r);
        return b;
    }
    if (type == "order.get") {
        OrderGet b;
        b.order_id = r.id("order_id", Need::required);
        return b;
    }
    if (type == "cash.record") {
        CashRecord b;
        b.order_id = r.id("order_id", Need::required);
        b.request_key = r.id("request_key", Need::required);
        b.amount = read_money(r, "amount");
        b.register_id = r.id("register", Need::required);
        b.operator_id = r.id("operator", Need::required);
        b.receptionist = r.id("receptionist", Need::optional);
        return b;
    }
    if (type == "payment.refund") {
        PaymentRefund b;
        b.payment_id = r.id("payment_id", Need::required);
        b.request_key = r.id("request_key", Need::required);
        if (r.has("amount") || r.has("currency")) {
            b.partial = true;
            b.amount = read_money(r, "amount");
        }
        b.terminal = r.id("terminal", Need::optional);
        b.register_id = r.id("register", Need::optional);
        b.operator_id = r.id("operator", Need::required);
        b.reason = r.text("reason", Need::optional);
        return b;
    }
    if (type == "payment.reverse") {
        PaymentReverse b;
        b.payment_id = r.id("payment_id", Need::required);
        b.operator_id = r.id("operator", Need::required);
        b.reason = r.text("reason", Need::optional);
        return b;
    }
    if (type == "interim.list") {
        InterimList b;
        b.register_id = r.id("register", Need::optional);
        b.terminal = r.id("terminal", Need::optional);
        b.state = read_enum(r, "state", kInterimStates, Need::optional, InterimState::open);
        return b;
    }
    if (type == "interim.resolve") {
        InterimResolve b;
        b.entry_id = r.id("entry_id", Need::required);
        b.resolution = read_enum(r, "resolution", kResolutions, Need::required, Resolution::paid_otherwise);
        b.operator_id = r.id("operator", Need::required);
        b.reason = r.text("reason", Need::required);
        b.reference = r.id("reference", Need::optional);
        return b;
    }
    if (type == "terminal.status") {
        TerminalStatus b;
        b.terminal = r.id("terminal", Need::optional);
        return b;
    }
    if (type == "day_close.run") {
        DayCloseRun b;
        b.terminal = r.id("terminal", Need::optional);
        b.register_id = r.id("register", Need::optional);
        b.operator_id = r.id("operator", Need::required);
        if (r.ok() && b.terminal.empty() && b.register_id.empty())
            r.fail(ErrorCode::missing_field, "/terminal", "terminal or register is required");
        else if (r.ok() && !b.terminal.empty() && !b.register_id.empty())
            r.fail(ErrorCode::invalid_value, "/register", "give terminal or register, not both");
        return b;
    }
    if (type == "cash.reconcile") {
        CashReconcile b;
        b.register_id = r.id("register", Need::required);
        b.counted = read_money(r, "counted", /*allow_zero=*/true);
        b.operator_id = r.id("operator", Need::required);
        b.note = r.text("note", Need::optional);
        return b;
    }
    if (type == "card.read") {
        CardRead b;
        b.terminal = r.id("terminal", Need::required);
        return b;
    }
    if (type == "commitment.check") {
        CommitmentCheck b;
        b.order_id = r.id("order_id", Need::required);
        b.card_id = r.id("card_id", Need::required);
        b.lines = read_lines(r, Need::required);
        b.total = read_money(r, "total");
        b.register_id = r.id("register", Need::required);
        check_sum(r, b.lines, b.total, "total");
        return b;
    }
    if (type == "commitment.pay") {
        CommitmentPay b;
        b.order_id = r.id("order_id", Need::required);
        b.request_key = r.id("request_key", Need::required);
        b.card_id = r.id("card_id", Need::required);
        b.lines = read_lines(r, Need::required);
        b.amount = read_money(r, "amount");
        b.register_id = r.id("register", Need::required);
        b.operator_id = r.id("operator", Need::required);
        b.receptionist = r.id("receptionist", Need::optional);
        check_sum(r, b.lines, b.amount, "amount");
        return b;
    }
    if (type == "receipt.deliver" || type == "receipt.copy") {
        const bool copy = type == "receipt.copy";
        std::string payment_id = r.id("payment_id", Need::required);
        auto channel = read_enum(r, "channel", kChannels, Need::required, ReceiptChannel::print);
        if (r.ok() && copy && (channel == ReceiptChannel::waste_basket || channel == ReceiptChannel::qr))
            r.fail(ErrorCode::invalid_value, "/channel", "a receipt copy goes by print, sms or email");
        std::string phone = r.phone("phone", channel == ReceiptChannel::sms ? Need::required : Need::optional);
        std::string email = r.email("email", channel == ReceiptChannel::email ? Need::required : Need::optional);
        if (copy) {
            ReceiptCopy b{std::move(payment_id), channel, std::move(phone), std::move(email), {}};
            b.operator_id = r.id("operator", Need::optional);
            return b;
        }
        ReceiptDeliver b{std::move(payment_id), channel, std::move(phone), std::move(email), {}, false};
        b.customer_id = r.id("customer_id", Need::optional);
        b.remember = r.boolean("remember", false);
        if (r.ok() && b.remember && b.customer_id.empty())
            r.fail(ErrorCode::missing_field, "/customer_id", "remember needs customer_id");
        return b;
    }
    if (type == "receipt.start") {
        ReceiptStart b;
        b.order_id = r.id("order_id", Need::required);
        b.register_id = r.id("register", Need::required);
        b.customer_id = r.id("customer_id", Need::optional);
        return b;
    }
    if (type == "benefit.verify") {
        BenefitVerify b;
        b.order_id = r.id("order_id", Need::required);
        b.voucher = r.id("voucher", Need::required);
        return b;
    }
    if (type == "benefit.redeem") {
        BenefitRedeem b;
        b.order_id = r.id("order_id", Need::required);
        b.request_key = r.id("request_key", Need::required);
        b.voucher = r.id("voucher", Need::required);
        b.amount = read_money(r, "amount");
        if (r.has("total")) b.total = r.amount("total");
        b.register_id = r.id("register", Need::required);
        b.operator_id = r.id("operator", Need::required);
        b.receptionist = r.id("receptionist", Need::optional);
        return b;
    }
    known = false;
    return Ping{};
}

// --- encoding ---------------------------------------------------------------------------

void put(json::object& o, std::string_view key, const std::string& v, bool optional = true) {
    if (!optional || !v.empty()) o[key] = v;
}

json::value qty_json(std::int64_t milli) {
    if (milli % 1000 == 0) return json::value(milli / 1000);
    return json::value(static_cast<double>(milli) / 1000.0);
}

json::array lines_json(const std::vector<Line>& lines) {
    json::array a;
    for (const auto& l : lines) {
        json::object o;
        put(o, "sku", l.sku);
        o["text"] = l.text;
        o["qty"] = qty_json(l.qty_milli);
        o["unit_price"] = l.unit_price;
        o["amount"] = l.amount;
        put(o, "category", l.category);
        a.push_back(std::move(o));
    }
    return a;
}

void put_money(json::object& o, std::string_view key, const Money& m) {
    o[key] = m.minor;
    o["currency"] = m.currency.code();
}

void put_ref(json::object& o, const PaymentRef& ref) {
    put(o, "payment_id", ref.payment_id);
    put(o, "request_key", ref.request_key);
}

struct BodyEncoder {
    json::object& o;
    void operator()(const Hello& b) {
        put(o, "client", b.client);
        put(o, "client_version", b.client_version);
    }
    void operator()(const Ping&) {}
    void operator()(const PaymentStart& b) {
        o["order_id"] = b.order_id;
        o["request_key"] = b.request_key;
        if (!b.lines.empty()) o["lines"] = lines_json(b.lines);
        put_money(o, "total", b.total);
        o["register"] = b.register_id;
        o["terminal"] = b.terminal;
        o["operator"] = b.operator_id;
        put(o, "receptionist", b.receptionist);
        o["tender"] = to_string(b.tender);
    }
    void operator()(const PaymentCancel& b) {
        put_ref(o, b.ref);
        put(o, "operator", b.operator_id);
    }
    void operator()(const PaymentGet& b) { put_ref(o, b.ref); }
    void operator()(const OrderGet& b) { o["order_id"] = b.order_id; }
    void operator()(const CashRecord& b) {
        o["order_id"] = b.order_id;
        o["request_key"] = b.request_key;
        put_money(o, "amount", b.amount);
        o["register"] = b.register_id;
        o["operator"] = b.operator_id;
        put(o, "receptionist", b.receptionist);
    }
    void operator()(const PaymentRefund& b) {
        o["payment_id"] = b.payment_id;
        o["request_key"] = b.request_key;
        if (b.partial) put_money(o, "amount", b.amount);
        put(o, "terminal", b.terminal);
        put(o, "register", b.register_id);
        o["operator"] = b.operator_id;
        put(o, "reason", b.reason);
    }
    void operator()(const PaymentReverse& b) {
        o["payment_id"] = b.payment_id;
        o["operator"] = b.operator_id;
        put(o, "reason", b.reason);
    }
    void operator()(const InterimList& b) {
        put(o, "register", b.register_id);
        put(o, "terminal", b.terminal);
        o["state"] = to_string(b.state);
    }
    void operator()(const InterimResolve& b) {
        o["entry_id"] = b.entry_id;
        o["resolution"] = to_string(b.resolution);
        o["operator"] = b.operator_id;
        o["reason"] = b.reason;
        put(o, "reference", b.reference);
    }
    void operator()(const TerminalStatus& b) { put(o, "terminal", b.terminal); }
    void operator()(const DayCloseRun& b) {
        put(o, "terminal", b.terminal);
        put(o, "register", b.register_id);
        o["operator"] = b.operator_id;
    }
    void operator()(const CashReconcile& b) {
        o["register"] = b.register_id;
        put_money(o, "counted", b.counted);
        o["operator"] = b.operator_id;
        put(o, "note", b.note);
    }
    void operator()(const CardRead& b) { o["terminal"] = b.terminal; }
    void operator()(const CommitmentCheck& b) {
        o["order_id"] = b.order_id;
        o["card_id"] = b.card_id;
        o["lines"] = lines_json(b.lines);
        put_money(o, "total", b.total);
        o["register"] = b.register_id;
    }
    void operator()(const CommitmentPay& b) {
        o["order_id"] = b.order_id;
        o["request_key"] = b.request_key;
        o["card_id"] = b.card_id;
        o["lines"] = lines_json(b.lines);
        put_money(o, "amount", b.amount);
        o["register"] = b.register_id;
        o["operator"] = b.operator_id;
        put(o, "receptionist", b.receptionist);
    }
    void operator()(const ReceiptDeliver& b) {
        o["payment_id"] = b.payment_id;
        o["channel"] = to_string(b.channel);
        put(o, "phone", b.phone);
        put(o, "email", b.email);
        put(o, "customer_id", b.customer_id);
        if (b.remember) o["remember"] = true;
    }
    void operator()(const ReceiptCopy& b) {
        o["payment_id"] = b.payment_id;
        o["channel"] = to_string(b.channel);
        put(o, "phone", b.phone);
        put(o, "email", b.email);
        put(o, "operator", b.operator_id);
    }
    void operator()(const ReceiptStart& b) {
        o["order_id"] = b.order_id;
        o["register"] = b.register_id;
        put(o, "customer_id", b.customer_id);
    }
    void operator()(const BenefitVerify& b) {
        o["order_id"] = b.order_id;
        o["voucher"] = b.voucher;
    }
    void operator()(const BenefitRedeem& b) {
        o["order_id"] = b.order_id;
        o["request_key"] = b.request_key;
        o["voucher"] = b.voucher;
        put_money(o, "amount", b.amount);
        if (b.total > 0) o["total"] = b.total;
        o["register"] = b.register_id;
        o["operator"] = b.operator_id;
        put(o, "receptionist", b.receptionist);
    }
};

}  // namespace

std::string_view type_name(const RequestBody& body) { return kRequestTypes[body.index()]; }

bool is_upstream_type(std::string_view type) {
    return type.starts_with("commitment.") || type.starts_with("receipt.") || type.starts_with("benefit.");
}

std::string_view to_string(Tender t) { return name_of(kTenders, t); }
std::string_view to_string(Resolution r) { return name_of(kResolutions, r); }
std::string_view to_string(InterimState s) { return name_of(kInterimStates, s); }
std::string_view to_string(ReceiptChannel c) { return name_of(kChannels, c); }

Expected<Request, ErpError> parse_request(std::string_view raw, const Limits& limits) {
    auto parsed = parse_object(raw, limits);
    if (!parsed) return unexpected(parsed.error());
    const json::object& obj = *parsed->if_object();

    // The id and type are picked up first, leniently, so that even a rejected request gets
    // a reply the client can match.
    ErpError context;
    if (auto it = obj.find("id"); it != obj.end() && it->value().is_string() &&
                                  it->value().get_string().size() <= limits.max_id_length)
        context.id = std::string(it->value().get_string());
    if (auto it = obj.find("type"); it != obj.end() && it->value().is_string() &&
                                    it->value().get_string().size() <= limits.max_id_length)
        context.type = std::string(it->value().get_string());
    auto fail = [&](ErpError e) {
        e.id = context.id;
        e.type = context.type;
        return unexpected(std::move(e));
    };

    FieldReader r(obj, "", limits);
    r.version();
    Request req;
    req.id = r.id("id", Need::required);
    std::string type = r.id("type", Need::required);
    if (!r.ok()) return fail(*r.error());

    bool known = false;
    req.body = read_body(type, r, known);
    if (!known)
        return fail(ErpError::make(ErrorCode::unknown_type, "/type", "unknown message type \"" + type + "\""));
    r.finish();
    if (!r.ok()) return fail(*r.error());
    return req;
}

json::object to_json(const Request& r) {
    json::object o;
    o["v"] = kProtocolVersion;
    o["id"] = r.id;
    o["type"] = type_name(r.body);
    std::visit(BodyEncoder{o}, r.body);
    return o;
}

std::string encode_request(const Request& r) { return json::serialize(to_json(r)); }

}  // namespace pb::erp
