#include "protocol/upstream/ereceipt.hpp"

#include <boost/json.hpp>

namespace pb::upstream {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxId = 64;
constexpr std::size_t kMaxDocumentBase64 = 4 * 1024 * 1024;
constexpr std::string_view kCopiesPrefix = "/v1/receipts/";
constexpr std::string_view kCopiesSuffix = "/copies";

constexpr std::pair<ReceiptChannel, std::string_view> kChannels[] = {{ReceiptChannel::print, "print"},
                                                                      {ReceiptChannel::sms, "sms"},
                                                                      {ReceiptChannel::email, "email"},
                                                                      {ReceiptChannel::waste_basket, "waste_basket"},
                                                                      {ReceiptChannel::qr, "qr"}};

template <class T>
Decoded<T> done(const Fields& f, T value) {
    if (!f.ok()) return unexpected(*f.error());
    return value;
}

/// "2024-05-03T10:15:00Z"
bool iso_utc(std::string_view s) {
    if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18})
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

std::string time_field(Fields& f, std::string_view key) {
    std::string t = f.text(key, true, 32);
    if (f.ok() && !iso_utc(t)) f.fail(f.pointer(key), "expected an ISO 8601 UTC time (2024-05-03T10:15:00Z)");
    return t;
}

std::string id_field(Fields& f, std::string_view key) {
    std::string id = f.text(key, true, kMaxId);
    if (f.ok() && !valid_receipt_id(id)) f.fail(f.pointer(key), "expected 22..64 base64url characters");
    return id;
}

ReceiptChannel channel_field(Fields& f, std::string_view key) {
    std::string s = f.text(key, true, 16);
    auto c = receipt_channel_from(s);
    if (f.ok() && !c) f.fail(f.pointer(key), "expected print, sms, email, waste_basket or qr, got \"" + s + "\"");
    return c.value_or(ReceiptChannel::qr);
}

/// phone for sms (E.164: + and 8..15 digits), email for email; the other absent.
void destination(Fields& f, ReceiptChannel c, std::string& phone, std::string& email, EmailMode& mode) {
    // Only the channel's own destination is read; another one in the body is ignored.
    if (c == ReceiptChannel::sms) phone = f.text("phone", true, 16);
    if (c == ReceiptChannel::email) email = f.text("email", true, 254);
    if (!f.ok()) return;
    if (c == ReceiptChannel::sms) {
        bool ok = phone.size() >= 9 && phone.size() <= 16 && phone[0] == '+';
        for (std::size_t i = 1; ok && i < phone.size(); ++i) ok = phone[i] >= '0' && phone[i] <= '9';
        if (!ok) return f.fail(f.pointer("phone"), "expected an E.164 number (+46701234567)");
    }
    if (c == ReceiptChannel::email) {
        auto at = email.find('@');
        if (at == std::string::npos || at == 0 || at + 1 >= email.size())
            return f.fail(f.pointer("email"), "expected an e-mail address");
        std::string m = f.text("email_mode", true, 16);
        if (m == "link") mode = EmailMode::link;
        else if (m == "attachment") mode = EmailMode::attachment;
        else if (f.ok()) f.fail(f.pointer("email_mode"), "expected attachment or link");
    }
}

void put_destination(json::object& o, ReceiptChannel c, const std::string& phone, const std::string& email, EmailMode mode) {
    if (c == ReceiptChannel::sms) o["phone"] = phone;
    if (c == ReceiptChannel::email) {
        o["email"] = email;
        o["email_mode"] = to_string(mode);
    }
}

json::object document_json(const ReceiptDocument& d) {
    return {{"content_type", d.content_type}, {"base64", base64_encode(d.pdf)}};
}


}  // namespace

std::string receipt_copies_path(std::string_view receipt_id) {
    return std::string(kCopiesPrefix) + std::string(receipt_id) + std::string(kCopiesSuffix);
}

std::optional<std::string> receipt_id_of_copies_path(std::string_view path) {
    if (!path.starts_with(kCopiesPrefix) || !path.ends_with(kCopiesSuffix)) return std::nullopt;
    std::string_view id = path.substr(kCopiesPrefix.size(), path.size() - kCopiesPrefix.size() - kCopiesSuffix.size());
    if (!valid_receipt_id(id)) return std::nullopt;
    return std::string(id);
}

bool valid_receipt_id(std::string_view id) {
    if (id.size() < 22 || id.size() > 64) return false;
    for (char c : id)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    return true;
}

std::string_view to_string(ReceiptChannel c) {
    for (const auto& [v, n] : kChannels)
        if (v == c) return n;
    return "?";
}

std::optional<ReceiptChannel> receipt_channel_from(std::string_view s) {
    for (const auto& [v, n] : kChannels)
        if (n == s) return v;
    return std::nullopt;
}

std::string_view to_string(EmailMode m) { return m == EmailMode::link ? "link" : "attachment"; }

// ---- open -----------------------------------------------------------------------------------

std::string encode(const ReceiptOpen& m) {
    return json::serialize(json::object{{"receipt_id", m.receipt_id},
                                        {"register", m.register_id},
                                        {"opened_at", m.opened_at},
                                        {"display_until", m.display_until},
                                        {"delete_at", m.delete_at}});
}

Decoded<ReceiptOpen> parse_receipt_open(std::string_view body) {
    auto obj = Fields::parse(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    ReceiptOpen m;
    m.receipt_id = id_field(f, "receipt_id");
    m.register_id = f.text("register", true, kMaxId);
    m.opened_at = time_field(f, "opened_at");
    m.display_until = time_field(f, "display_until");
    m.delete_at = time_field(f, "delete_at");
    return done(f, std::move(m));
}

// ---- deliver and copy -----------------------------------------------------------------------

namespace {

/// The document object: content_type application/pdf, base64 of bytes starting "%PDF-".
ReceiptDocument read_document(Fields& f, const json::object& root) {
    ReceiptDocument d;
    auto it = root.find("document");
    if (it == root.end()) {
        f.fail(f.pointer("document"), "required field is missing");
        return d;
    }
    if (!it->value().is_object()) {
        f.fail(f.pointer("document"), "expected an object");
        return d;
    }
    Fields df(it->value().get_object(), f.pointer("document"));
    d.content_type = df.text("content_type", true, 64);
    if (df.ok() && d.content_type != "application/pdf")
        df.fail(df.pointer("content_type"), "expected application/pdf");
    std::string b64 = df.text("base64", true, kMaxDocumentBase64);
    if (df.ok()) {
        auto bytes = base64_decode(b64);
        if (!bytes)
            df.fail(df.pointer("base64"), "not base64 (RFC 4648, padded)");
        else if (!bytes->starts_with("%PDF-"))
            df.fail(df.pointer("base64"), "the document is not a PDF (no %PDF- header)");
        else
            d.pdf = std::move(*bytes);
    }
    f.take(df);
    return d;
}

/// The end both documents share: times and the document.
void put_tail(json::object& o, const std::string& issued_at, const std::string& delete_at, const ReceiptDocument& d) {
    o["issued_at"] = issued_at;
    o["delete_at"] = delete_at;
    o["document"] = document_json(d);
}

void read_tail(Fields& f, const json::object& root, std::string& issued_at, std::string& delete_at, ReceiptDocument& d) {
    issued_at = time_field(f, "issued_at");
    delete_at = time_field(f, "delete_at");
    if (f.ok()) d = read_document(f, root);
}

}  // namespace

std::string encode(const ReceiptDeliver& m) {
    json::object o{{"receipt_id", m.receipt_id},     {"register", m.register_id}, {"order_id", m.order_id},
                   {"payment_ref", m.payment_ref},   {"channel", to_string(m.channel)}};
    put_destination(o, m.channel, m.phone, m.email, m.email_mode);
    put_tail(o, m.issued_at, m.delete_at, m.document);
    return json::serialize(o);
}

Decoded<ReceiptDeliver> parse_receipt_deliver(std::string_view body) {
    auto obj = Fields::parse(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    ReceiptDeliver m;
    m.receipt_id = id_field(f, "receipt_id");
    m.register_id = f.text("register", true, kMaxId);
    m.order_id = f.text("order_id", true, kMaxId);
    m.payment_ref = f.text("payment_ref", true, kMaxId);
    m.channel = channel_field(f, "channel");
    if (f.ok()) destination(f, m.channel, m.phone, m.email, m.email_mode);
    read_tail(f, *obj, m.issued_at, m.delete_at, m.document);
    return done(f, std::move(m));
}

std::string encode(const ReceiptCopy& m) {
    json::object o{{"receipt_id", m.receipt_id}, {"copy_id", m.copy_id}, {"channel", to_string(m.channel)}};
    put_destination(o, m.channel, m.phone, m.email, m.email_mode);
    o["original_channel"] = to_string(m.original_channel);
    put_tail(o, m.issued_at, m.delete_at, m.document);
    return json::serialize(o);
}

Decoded<ReceiptCopy> parse_receipt_copy(std::string_view body) {
    auto obj = Fields::parse(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    ReceiptCopy m;
    m.receipt_id = id_field(f, "receipt_id");
    m.copy_id = f.text("copy_id", true, kMaxId);
    m.channel = channel_field(f, "channel");
    // README §5: a copy goes by SMS or e-mail through the service; never to the waste-basket.
    if (f.ok() && m.channel != ReceiptChannel::sms && m.channel != ReceiptChannel::email)
        f.fail(f.pointer("channel"), "a copy goes by sms or email");
    if (f.ok()) destination(f, m.channel, m.phone, m.email, m.email_mode);
    m.original_channel = channel_field(f, "original_channel");
    read_tail(f, *obj, m.issued_at, m.delete_at, m.document);
    return done(f, std::move(m));
}

std::string encode(const ReceiptAck& m) {
    return json::serialize(json::object{{"receipt_id", m.receipt_id}, {"status", m.status}});
}

Decoded<ReceiptAck> parse_receipt_ack(std::string_view body) {
    auto obj = Fields::parse(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    ReceiptAck m;
    m.receipt_id = id_field(f, "receipt_id");
    m.status = f.text("status", true, 32);
    return done(f, std::move(m));
}

// ---- base64 ---------------------------------------------------------------------------------

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}
}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        std::uint32_t n = static_cast<std::uint8_t>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) n |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
        if (i + 2 < bytes.size()) n |= static_cast<std::uint8_t>(bytes[i + 2]);
        out += kB64[(n >> 18) & 63];
        out += kB64[(n >> 12) & 63];
        out += i + 1 < bytes.size() ? kB64[(n >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? kB64[n & 63] : '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            char c = text[i + static_cast<std::size_t>(k)];
            if (c == '=' && i + 4 == text.size() && k >= 2) {
                v[k] = 0;
                ++pad;
                continue;
            }
            if (pad) return std::nullopt;  // data after padding
            v[k] = b64_value(c);
            if (v[k] < 0) return std::nullopt;
        }
        std::uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
        out += static_cast<char>((n >> 16) & 0xFF);
        if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
        if (pad < 1) out += static_cast<char>(n & 0xFF);
    }
    return out;
}

}  // namespace pb::upstream
