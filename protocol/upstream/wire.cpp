#include "protocol/upstream/wire.hpp"

#include <boost/json.hpp>

#include <cmath>

namespace pb::upstream {

namespace json = boost::json;

namespace {

std::string_view kind_of(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null: return "null";
        case json::kind::bool_: return "a boolean";
        case json::kind::int64:
        case json::kind::uint64: return "an integer";
        case json::kind::double_: return "a number with decimals";
        case json::kind::string: return "a string";
        case json::kind::array: return "an array";
        case json::kind::object: return "an object";
    }
    return "something else";
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

// ---- URL -------------------------------------------------------------------------------

std::string Url::target(std::string_view path) const { return base_path + std::string(path); }

bool Url::loopback() const {
    return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

Expected<Url, std::string> parse_url(std::string_view text) {
    Url u;
    std::string_view rest;
    if (text.rfind("https://", 0) == 0) {
        u.tls = true;
        u.port = 443;
        rest = text.substr(8);
    } else if (text.rfind("http://", 0) == 0) {
        u.tls = false;
        u.port = 80;
        rest = text.substr(7);
    } else {
        return unexpected(std::string("url must start with https:// or http://"));
    }
    auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
    if (authority.find('@') != std::string_view::npos) return unexpected(std::string("url must not carry credentials"));
    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return unexpected(std::string("url has an unclosed [ in its host"));
        host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') return unexpected(std::string("url: junk after ]"));
            port = authority.substr(close + 2);
        }
    } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) return unexpected(std::string("url has no host"));
    for (char c : host)
        if (c <= ' ' || c == '/' || c == '?' || c == '#') return unexpected(std::string("url host has an invalid character"));
    if (!port.empty() || (authority.size() && authority.back() == ':')) {
        if (port.empty() || port.size() > 5) return unexpected(std::string("url port must be 1..65535"));
        std::uint32_t p = 0;
        for (char c : port) {
            if (!is_digit(c)) return unexpected(std::string("url port must be 1..65535"));
            p = p * 10 + static_cast<std::uint32_t>(c - '0');
        }
        if (p == 0 || p > 65535) return unexpected(std::string("url port must be 1..65535"));
        u.port = static_cast<std::uint16_t>(p);
    }
    if (path.find_first_of("?#") != std::string_view::npos)
        return unexpected(std::string("url must not have a query or fragment"));
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    u.host = std::string(host);
    u.base_path = std::string(path);
    return u;
}

bool valid_idempotency_key(std::string_view key) {
    if (key.empty() || key.size() > 128) return false;
    for (char c : key)
        if (c < 0x21 || c > 0x7e) return false;
    return true;
}

// ---- errors ------------------------------------------------------------------------------

bool ServiceError::transient() const { return status == 408 || status == 429 || status >= 500; }

ServiceError parse_service_error(int status, std::string_view body) {
    ServiceError e;
    e.status = status;
    auto obj = Fields::parse(body);
    if (!obj) {
        e.message = "HTTP " + std::to_string(status) + " without an error object";
        return e;
    }
    auto it = obj->find("error");
    if (it == obj->end() || !it->value().is_object()) {
        e.message = "HTTP " + std::to_string(status) + " without an error object";
        return e;
    }
    Fields f(it->value().as_object(), "/error");
    std::string code = f.text("code", true, 64);
    std::string message = f.text("message", false, 1024);
    std::string field = f.text("field", false, 256);
    std::vector<std::int64_t> blocked = f.index_list("blocked_lines", false, 100000);
    if (!f.ok()) {
        e.message = "HTTP " + std::to_string(status) + " with an unreadable error object (" + f.error()->to_string() + ")";
        return e;
    }
    e.code = std::move(code);
    e.message = std::move(message);
    e.field = std::move(field);
    e.blocked_lines = std::move(blocked);
    return e;
}

std::string encode_service_error(const ServiceError& e) {
    json::object err{{"code", e.code}, {"message", e.message}};
    if (!e.field.empty()) err["field"] = e.field;
    if (!e.blocked_lines.empty()) {
        json::array a;
        for (auto i : e.blocked_lines) a.push_back(i);
        err["blocked_lines"] = std::move(a);
    }
    return json::serialize(json::object{{"error", std::move(err)}});
}

// ---- Fields ------------------------------------------------------------------------------

Decoded<json::object> Fields::parse(std::string_view body) {
    json::parse_options opts;
    opts.max_depth = 16;
    boost::system::error_code ec;
    json::value v = json::parse(body, ec, {}, opts);
    if (ec) return unexpected(MalformedError{"", "not valid JSON: " + ec.message()});
    if (!v.is_object()) return unexpected(MalformedError{"", "not a JSON object: " + std::string(kind_of(v))});
    return std::move(v.as_object());
}

std::string Fields::pointer(std::string_view key) const {
    std::string out = path_ + "/";
    for (char c : key) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

void Fields::fail(std::string ptr, std::string message) {
    if (!err_) err_ = MalformedError{std::move(ptr), std::move(message)};
}

void Fields::take(const Fields& other) {
    if (other.err_) fail(other.err_->field, other.err_->message);
}

const json::value* Fields::get(std::string_view key, bool required) {
    if (err_) return nullptr;
    auto it = obj_->find(key);
    if (it == obj_->end() || it->value().is_null()) {
        if (required) fail(pointer(key), "missing");
        return nullptr;
    }
    return &it->value();
}

std::string Fields::text(std::string_view key, bool required, std::size_t max_len) {
    const json::value* v = get(key, required);
    if (!v) return {};
    if (!v->is_string()) {
        fail(pointer(key), "expected a string, got " + std::string(kind_of(*v)));
        return {};
    }
    const auto& s = v->get_string();
    if (required && s.empty()) {
        fail(pointer(key), "must not be empty");
        return {};
    }
    if (s.size() > max_len) {
        fail(pointer(key), "longer than " + std::to_string(max_len) + " bytes");
        return {};
    }
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20) {
            fail(pointer(key), "contains a control character");
            return {};
        }
    return std::string(s);
}

std::int64_t Fields::integer(std::string_view key, bool required, std::int64_t min, std::int64_t max) {
    const json::value* v = get(key, required);
    if (!v) return 0;
    std::int64_t n = 0;
    if (v->is_int64()) {
        n = v->get_int64();
    } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(max)) {
        n = static_cast<std::int64_t>(v->get_uint64());
    } else if (v->is_uint64()) {
        fail(pointer(key), "out of range");
        return 0;
    } else {
        fail(pointer(key), "expected an integer, got " + std::string(kind_of(*v)));
        return 0;
    }
    if (n < min || n > max) {
        fail(pointer(key), "must be " + std::to_string(min) + ".." + std::to_string(max) + ", got " + std::to_string(n));
        return 0;
    }
    return n;
}

bool Fields::boolean(std::string_view key, bool required) {
    const json::value* v = get(key, required);
    if (!v) return false;
    if (!v->is_bool()) {
        fail(pointer(key), "expected a boolean, got " + std::string(kind_of(*v)));
        return false;
    }
    return v->get_bool();
}

Currency Fields::currency(std::string_view key) {
    std::string code = text(key, true, 3);
    if (!ok()) return {};
    auto c = currency_from_code(code);
    if (!c) {
        fail(pointer(key), "unknown currency '" + code + "'");
        return {};
    }
    return *c;
}

std::string Fields::date(std::string_view key, bool required) {
    std::string d = text(key, required, 10);
    if (d.empty()) return d;
    bool shape = d.size() == 10 && d[4] == '-' && d[7] == '-';
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) shape = shape && is_digit(d[i]);
    if (shape) {
        int m = (d[5] - '0') * 10 + (d[6] - '0');
        int day = (d[8] - '0') * 10 + (d[9] - '0');
        shape = m >= 1 && m <= 12 && day >= 1 && day <= 31;
    }
    if (!shape) {
        fail(pointer(key), "expected a date YYYY-MM-DD, got '" + d + "'");
        return {};
    }
    return d;
}

std::int64_t Fields::quantity_milli(std::string_view key) {
    constexpr std::int64_t kMaxMilli = 1'000'000'000;
    const json::value* v = get(key, true);
    if (!v) return 0;
    std::int64_t milli = -1;
    if (v->is_int64()) {
        auto q = v->get_int64();
        if (q > 0 && q <= kMaxMilli / 1000) milli = q * 1000;
    } else if (v->is_double()) {
        double scaled = v->get_double() * 1000.0;
        double rounded = std::round(scaled);
        if (std::isfinite(scaled) && std::fabs(scaled - rounded) < 1e-6 && rounded > 0 &&
            rounded <= static_cast<double>(kMaxMilli))
            milli = static_cast<std::int64_t>(rounded);
    } else {
        fail(pointer(key), "expected a number, got " + std::string(kind_of(*v)));
        return 0;
    }
    if (milli <= 0) {
        fail(pointer(key), "must be > 0 and <= 1000000 with at most 3 decimals");
        return 0;
    }
    return milli;
}

const json::array* Fields::array(std::string_view key, bool required, std::size_t max_items) {
    const json::value* v = get(key, required);
    if (!v) return nullptr;
    if (!v->is_array()) {
        fail(pointer(key), "expected an array, got " + std::string(kind_of(*v)));
        return nullptr;
    }
    if (v->get_array().size() > max_items) {
        fail(pointer(key), "more than " + std::to_string(max_items) + " items");
        return nullptr;
    }
    return &v->get_array();
}

std::optional<Fields> Fields::element(std::string_view key, std::size_t i, const json::value& v) {
    std::string ptr = pointer(key) + "/" + std::to_string(i);
    if (!v.is_object()) {
        fail(ptr, "expected an object, got " + std::string(kind_of(v)));
        return std::nullopt;
    }
    return Fields(v.get_object(), ptr);
}

std::vector<std::int64_t> Fields::index_list(std::string_view key, bool required, std::int64_t below) {
    std::vector<std::int64_t> out;
    const json::array* a = array(key, required, 10000);
    if (!a) return out;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const auto& v = (*a)[i];
        std::string ptr = pointer(key) + "/" + std::to_string(i);
        if (!v.is_int64() || v.get_int64() < 0 || v.get_int64() >= below) {
            fail(ptr, "expected a line index 0.." + std::to_string(below - 1));
            return {};
        }
        for (auto seen : out)
            if (seen == v.get_int64()) {
                fail(ptr, "line index " + std::to_string(seen) + " repeated");
                return {};
            }
        out.push_back(v.get_int64());
    }
    return out;
}

json::value quantity_json(std::int64_t milli) {
    if (milli % 1000 == 0) return json::value(milli / 1000);
    return json::value(static_cast<double>(milli) / 1000.0);
}

}  // namespace pb::upstream
