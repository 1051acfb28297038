#include "protocol/erp/event.hpp"

#include <boost/json/serialize.hpp>

#include "protocol/erp/field_reader.hpp"

namespace pb::erp {
namespace json = boost::json;

namespace {

constexpr std::string_view kReceiptTypes[] = {"merchant", "customer", "administration"};
constexpr std::string_view kChannelNames[] = {"print", "sms", "email", "waste_basket", "qr"};

void put(json::object& o, std::string_view key, const std::string& v) {
    if (!v.empty()) o[key] = v;
}

struct TopicKey {
    std::string operator()(const PaymentProgress& b) const { return b.order_id.empty() ? b.terminal : b.order_id; }
    std::string operator()(const PaymentReceipt& b) const { return b.order_id; }
    std::string operator()(const PaymentResult& b) const { return b.payment.order_id; }
    std::string operator()(const InterimChanged& b) const { return b.entry.order_id; }
    std::string operator()(const TerminalOnline& b) const { return b.terminal; }
    std::string operator()(const TerminalOffline& b) const { return b.terminal; }
    std::string operator()(const DayCloseDone& b) const { return b.result.terminal; }
    std::string operator()(const ReceiptDelivered& b) const { return b.order_id; }
};

struct BodyJson {
    json::object operator()(const PaymentProgress& b) const {
        json::object o;
        // Without a payment while the terminal reads a card for card.read.
        if (!b.payment_id.empty()) o["payment_id"] = b.payment_id;
        if (!b.order_id.empty()) o["order_id"] = b.order_id;
        o["terminal"] = b.terminal;
        o["code"] = static_cast<std::int64_t>(b.code);
        o["text"] = b.text;
        return o;
    }
    json::object operator()(const PaymentReceipt& b) const {
        json::object o;
        o["payment_id"] = b.payment_id;
        o["order_id"] = b.order_id;
        o["terminal"] = b.terminal;
        o["receipt_type"] = to_string(b.receipt_type);
        json::array lines;
        for (const auto& l : b.lines) lines.push_back(json::string(l));
        o["lines"] = std::move(lines);
        return o;
    }
    json::object operator()(const PaymentResult& b) const { return to_json(b.payment); }
    json::object operator()(const InterimChanged& b) const { return to_json(b.entry); }
    json::object operator()(const TerminalOnline& b) const {
        json::object o;
        o["terminal"] = b.terminal;
        put(o, "register", b.register_id);
        return o;
    }
    json::object operator()(const TerminalOffline& b) const {
        json::object o;
        o["terminal"] = b.terminal;
        put(o, "register", b.register_id);
        put(o, "reason", b.reason);
        return o;
    }
    json::object operator()(const DayCloseDone& b) const { return to_json(b.result); }
    json::object operator()(const ReceiptDelivered& b) const {
        json::object o;
        o["payment_id"] = b.payment_id;
        o["order_id"] = b.order_id;
        o["channel"] = to_string(b.channel);
        put(o, "url", b.url);
        return o;
    }
};

std::vector<std::pair<std::string_view, int>> names_of(const auto& table) {
    std::vector<std::pair<std::string_view, int>> out;
    int i = 0;
    for (auto n : table) out.emplace_back(n, i++);
    return out;
}

template <class T>
Expected<EventBody, ErpError> wrap(Expected<T, ErpError> v) {
    if (!v) return unexpected(v.error());
    return EventBody{std::move(*v)};
}

Expected<EventBody, ErpError> read_body(std::string_view type, const json::object& obj, FieldReader& r) {
    if (type == "payment.progress") {
        PaymentProgress b;
        b.payment_id = r.id("payment_id", Need::optional);
        b.order_id = r.id("order_id", Need::optional);
        b.terminal = r.id("terminal", Need::required);
        b.code = static_cast<std::uint8_t>(r.integer("code", Need::required, 0, 255));
        b.text = r.text("text", Need::optional);
        return EventBody{std::move(b)};
    }
    if (type == "payment.receipt") {
        PaymentReceipt b;
        b.payment_id = r.id("payment_id", Need::required);
        b.order_id = r.id("order_id", Need::required);
        b.terminal = r.id("terminal", Need::required);
        b.receipt_type = static_cast<ReceiptType>(r.choice("receipt_type", names_of(kReceiptTypes), Need::required, 1));
        if (const json::array* a = r.array("lines", Need::required, 1000)) {
            for (std::size_t i = 0; i < a->size(); ++i) {
                if (!(*a)[i].is_string()) {
                    r.fail(ErrorCode::wrong_type, r.pointer("lines") + "/" + std::to_string(i), "receipt line must be a string");
                    break;
                }
                b.lines.emplace_back((*a)[i].get_string());
            }
        }
        return EventBody{std::move(b)};
    }
    if (type == "payment.result") {
        auto p = payment_from_json(obj);
        if (!p) return unexpected(p.error());
        return EventBody{PaymentResult{std::move(*p)}};
    }
    if (type == "interim.changed") {
        auto e = interim_entry_from_json(obj);
        if (!e) return unexpected(e.error());
        return EventBody{InterimChanged{std::move(*e)}};
    }
    if (type == "terminal.online") {
        TerminalOnline b;
        b.terminal = r.id("terminal", Need::required);
        b.register_id = r.id("register", Need::optional);
        return EventBody{std::move(b)};
    }
    if (type == "terminal.offline") {
        TerminalOffline b;
        b.terminal = r.id("terminal", Need::required);
        b.register_id = r.id("register", Need::optional);
        b.reason = r.text("reason", Need::optional);
        return EventBody{std::move(b)};
    }
    if (type == "day_close.done") {
        auto d = day_close_from_json(obj);
        if (!d) return unexpected(d.error());
        return EventBody{DayCloseDone{std::move(*d)}};
    }
    if (type == "receipt.delivered") {
        ReceiptDelivered b;
        b.payment_id = r.id("payment_id", Need::required);
        b.order_id = r.id("order_id", Need::required);
        b.channel = static_cast<ReceiptChannel>(r.choice("channel", names_of(kChannelNames), Need::required, 4));
        b.url = r.text("url", Need::optional);
        return EventBody{std::move(b)};
    }
    return unexpected(ErpError::make(ErrorCode::unknown_type, "/type", "unknown event type \"" + std::string(type) + "\""));
}

}  // namespace

std::string_view to_string(ReceiptType t) { return kReceiptTypes[static_cast<std::size_t>(t)]; }

std::string_view type_name(const EventBody& body) { return kEventTypes[body.index()]; }

std::string topic_of(const EventBody& body) {
    return std::string(type_name(body)) + "." + std::visit(TopicKey{}, body);
}

EncodedEvent encode_event(const Event& e) {
    json::object o;
    o["v"] = kProtocolVersion;
    o["type"] = type_name(e.body);
    o["seq"] = e.seq;
    o["time"] = e.time;
    for (auto& kv : std::visit(BodyJson{}, e.body)) o[kv.key()] = kv.value();
    return {topic_of(e.body), json::serialize(o)};
}

Expected<Event, ErpError> parse_event(std::string_view payload, const Limits& limits) {
    auto parsed = parse_object(payload, limits);
    if (!parsed) return unexpected(parsed.error());
    const json::object& obj = parsed->get_object();
    FieldReader r(obj, "", limits);
    r.version();
    std::string type = r.id("type", Need::required);
    Event ev;
    ev.seq = static_cast<std::uint64_t>(r.integer("seq", Need::required, 0, INT64_MAX));
    ev.time = r.id("time", Need::optional);
    if (!r.ok()) return unexpected(*r.error());
    auto body = read_body(type, obj, r);
    if (!body) return unexpected(body.error());
    if (!r.ok()) return unexpected(*r.error());
    ev.body = std::move(*body);
    return ev;
}

}  // namespace pb::erp
