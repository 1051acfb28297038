#include "simulators/upstream/receipts.hpp"

#include <boost/json.hpp>

#include <ctime>

#include "protocol/upstream/ereceipt.hpp"
#include "protocol/upstream/wire.hpp"
#include "simulators/upstream/service.hpp"

namespace pb::sim::upstream {

namespace json = boost::json;
namespace up = pb::upstream;

namespace {

constexpr std::string_view kPagePrefix = "/r/";

Answer error(unsigned status, std::string code, std::string message, std::string field = {}) {
    up::ServiceError e;
    e.status = static_cast<int>(status);
    e.code = std::move(code);
    e.message = std::move(message);
    e.field = std::move(field);
    return {status, up::encode_service_error(e)};
}

Answer malformed(const up::MalformedError& e) { return error(400, "malformed_request", e.to_string(), e.field); }

Answer ack(const std::string& id, const std::string& status) { return {201, up::encode(up::ReceiptAck{id, status})}; }

Answer html(unsigned status, const std::string& title, const std::string& body) {
    Answer a{status,
             "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + title +
                 "</title></head><body><h1>" + title + "</h1><p>" + body + "</p></body></html>\n"};
    a.content_type = "text/html; charset=utf-8";
    return a;
}

}  // namespace

std::int64_t parse_iso_utc_ms(const std::string& s) {
    if (s.size() != 20 || s[10] != 'T' || s[19] != 'Z') return -1;
    std::tm tm{};
    try {
        tm.tm_year = std::stoi(s.substr(0, 4)) - 1900;
        tm.tm_mon = std::stoi(s.substr(5, 2)) - 1;
        tm.tm_mday = std::stoi(s.substr(8, 2));
        tm.tm_hour = std::stoi(s.substr(11, 2));
        tm.tm_min = std::stoi(s.substr(14, 2));
        tm.tm_sec = std::stoi(s.substr(17, 2));
    } catch (const std::exception&) {
        return -1;
    }
    return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

bool ReceiptService::handles(const std::string& path) {
    return path.rfind(up::kReceiptDeliverPath, 0) == 0 || path.rfind(kPagePrefix, 0) == 0;
}

Answer ReceiptService::handle(const Request& r) {
    if (r.path.rfind(kPagePrefix, 0) == 0) {
        if (r.method != "GET") return error(405, "method_not_allowed", r.method + " " + r.path + " is not supported");
        return page(r.path.substr(kPagePrefix.size()));
    }
    if (r.method != "POST") return error(405, "method_not_allowed", r.method + " " + r.path + " is not supported");
    if (r.idempotency_key.empty()) return error(400, "malformed_request", "Idempotency-Key header is required");
    if (r.path == up::kReceiptOpenPath) return open(r);
    if (r.path == up::kReceiptDeliverPath) return deliver(r);
    if (auto id = up::receipt_id_of_copies_path(r.path)) return copy(r, *id);
    return error(404, "not_found", "no service at " + r.path);
}

Answer ReceiptService::open(const Request& r) {
    auto m = up::parse_receipt_open(r.body);
    if (!m) return malformed(m.error());
    auto [it, created] = receipts_.try_emplace(m->receipt_id);
    HeldReceipt& h = it->second;
    if (created) {
        h.receipt_id = m->receipt_id;
        h.register_id = m->register_id;
        h.delete_at = m->delete_at;
        h.delete_at_ms = parse_iso_utc_ms(m->delete_at);
    }
    h.opened_at = m->opened_at;
    h.display_until = m->display_until;
    return ack(h.receipt_id, h.state);
}

Answer ReceiptService::deliver(const Request& r) {
    auto m = up::parse_receipt_deliver(r.body);
    if (!m) return malformed(m.error());
    HeldReceipt& h = receipts_[m->receipt_id];
    if (h.state != "waiting")
        return error(409, "already_delivered", "receipt " + m->receipt_id + " was delivered already by " + h.channel);
    h.receipt_id = m->receipt_id;
    h.register_id = m->register_id;
    h.order_id = m->order_id;
    h.payment_ref = m->payment_ref;
    h.channel = std::string(up::to_string(m->channel));
    h.phone = m->phone;
    h.email = m->email;
    h.email_mode = m->channel == up::ReceiptChannel::email ? std::string(up::to_string(m->email_mode)) : "";
    h.issued_at = m->issued_at;
    h.delete_at = m->delete_at;
    h.delete_at_ms = parse_iso_utc_ms(m->delete_at);
    h.pdf = m->document.pdf;
    h.state = m->channel == up::ReceiptChannel::waste_basket ? "discarded" : "delivered";
    if (m->channel == up::ReceiptChannel::sms) sent_.push_back({h.receipt_id, "sms", h.phone, "link", "", 0});
    if (m->channel == up::ReceiptChannel::email)
        sent_.push_back({h.receipt_id, "email", h.email, h.email_mode, "",
                         m->email_mode == up::EmailMode::attachment ? h.pdf.size() : 0});
    return ack(h.receipt_id, h.state);
}

Answer ReceiptService::copy(const Request& r, const std::string& id) {
    auto m = up::parse_receipt_copy(r.body);
    if (!m) return malformed(m.error());
    if (m->receipt_id != id) return error(400, "malformed_request", "receipt_id differs from the path", "/receipt_id");
    HeldReceipt& h = receipts_[id];
    if (h.receipt_id.empty()) {  // the original was printed: the service never saw it
        h.receipt_id = id;
        h.state = "copied";
        h.delete_at = m->delete_at;
        h.delete_at_ms = parse_iso_utc_ms(m->delete_at);
    }
    ++h.copies;
    const bool attach = m->channel == up::ReceiptChannel::email && m->email_mode == up::EmailMode::attachment;
    sent_.push_back({id, std::string(up::to_string(m->channel)),
                     m->channel == up::ReceiptChannel::sms ? m->phone : m->email, attach ? "copy-attachment" : "copy-link",
                     std::string(up::to_string(m->original_channel)), attach ? m->document.pdf.size() : 0});
    return ack(id, "copied");
}

Answer ReceiptService::page(const std::string& id) const {
    auto it = receipts_.find(id);
    // README §5: an unknown id and a deleted receipt look the same (nothing to guess from).
    if (!up::valid_receipt_id(id) || it == receipts_.end())
        return html(404, "No such receipt", "This receipt does not exist or was deleted (receipts are kept 30 days).");
    const HeldReceipt& h = it->second;
    if (h.pdf.empty())
        return html(200, "Waiting for your receipt",
                    "The sale is not finished yet. Press <a href=\"\">Refresh</a> when you have paid.");
    Answer a{200, h.pdf};
    a.content_type = "application/pdf";
    return a;
}

std::vector<std::string> ReceiptService::purge(std::int64_t now) {
    std::vector<std::string> gone;
    for (auto it = receipts_.begin(); it != receipts_.end();) {
        if (it->second.delete_at_ms > 0 && it->second.delete_at_ms <= now) {
            gone.push_back(it->first);
            it = receipts_.erase(it);
        } else {
            ++it;
        }
    }
    if (!gone.empty()) {
        // The messages' addresses go too; the count stays for the tests.
        for (auto& s : sent_)
            for (const auto& id : gone)
                if (s.receipt_id == id) s.to = "(deleted)";
        deleted_ += static_cast<std::int64_t>(gone.size());
    }
    return gone;
}

json::object ReceiptService::describe(const HeldReceipt& r) {
    return {{"receipt_id", r.receipt_id}, {"state", r.state},         {"register", r.register_id},
            {"order_id", r.order_id},     {"payment_ref", r.payment_ref}, {"channel", r.channel},
            {"phone", r.phone},           {"email", r.email},         {"email_mode", r.email_mode},
            {"opened_at", r.opened_at},   {"display_until", r.display_until}, {"issued_at", r.issued_at},
            {"delete_at", r.delete_at},   {"pdf_bytes", static_cast<std::int64_t>(r.pdf.size())}, {"copies", r.copies}};
}

json::array ReceiptService::describe_sent() const {
    json::array a;
    for (const auto& s : sent_)
        a.push_back(json::object{{"receipt_id", s.receipt_id},
                                 {"kind", s.kind},
                                 {"to", s.to},
                                 {"what", s.what},
                                 {"original_channel", s.original_channel},
                                 {"pdf_bytes", static_cast<std::int64_t>(s.pdf_bytes)}});
    return a;
}

json::object ReceiptService::to_json() const {
    json::array held;
    for (const auto& [id, r] : receipts_) {
        json::object o = describe(r);
        o.erase("pdf_bytes");
        o["pdf"] = up::base64_encode(r.pdf);
        o["delete_at_ms"] = r.delete_at_ms;
        held.push_back(std::move(o));
    }
    return {{"receipts", std::move(held)}, {"sent", describe_sent()}, {"deleted", deleted_}};
}

Expected<void, std::string> ReceiptService::from_json(const json::value& v) {
    try {
        ReceiptService s;
        const auto& o = v.as_object();
        auto str = [](const json::object& x, const char* k) { return std::string(x.at(k).as_string()); };
        for (const auto& rv : o.at("receipts").as_array()) {
            const auto& x = rv.as_object();
            HeldReceipt h;
            h.receipt_id = str(x, "receipt_id");
            h.state = str(x, "state");
            h.register_id = str(x, "register");
            h.order_id = str(x, "order_id");
            h.payment_ref = str(x, "payment_ref");
            h.channel = str(x, "channel");
            h.phone = str(x, "phone");
            h.email = str(x, "email");
            h.email_mode = str(x, "email_mode");
            h.opened_at = str(x, "opened_at");
            h.display_until = str(x, "display_until");
            h.issued_at = str(x, "issued_at");
            h.delete_at = str(x, "delete_at");
            h.delete_at_ms = x.at("delete_at_ms").to_number<std::int64_t>();
            h.copies = static_cast<int>(x.at("copies").to_number<std::int64_t>());
            auto pdf = up::base64_decode(str(x, "pdf"));
            if (!pdf) return unexpected(std::string("e-receipt state: pdf is not base64"));
            h.pdf = *pdf;
            s.receipts_[h.receipt_id] = std::move(h);
        }
        for (const auto& sv : o.at("sent").as_array()) {
            const auto& x = sv.as_object();
            s.sent_.push_back({str(x, "receipt_id"), str(x, "kind"), str(x, "to"), str(x, "what"),
                               str(x, "original_channel"), static_cast<std::size_t>(x.at("pdf_bytes").to_number<std::int64_t>())});
        }
        s.deleted_ = o.at("deleted").to_number<std::int64_t>();
        *this = std::move(s);
        return {};
    } catch (const std::exception& e) {
        return unexpected(std::string("e-receipt state: ") + e.what());
    }
}

}  // namespace pb::sim::upstream
