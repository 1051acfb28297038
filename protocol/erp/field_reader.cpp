#include "protocol/erp/field_reader.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace pb::erp {
namespace json = boost::json;

namespace {

std::string_view kind_of(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null: return "null";
        case json::kind::bool_: return "boolean";
        case json::kind::int64:
        case json::kind::uint64: return "integer";
        case json::kind::double_: return "number";
        case json::kind::string: return "string";
        case json::kind::array: return "array";
        case json::kind::object: return "object";
    }
    return "?";
}

const json::object& empty_object() {
    static const json::object o;
    return o;
}

// Values built in C++ from unsigned types are uint64 even when small; parsed text is int64
// whenever it fits. Treat both alike.
std::optional<std::int64_t> as_int64(const json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v.get_uint64());
    return std::nullopt;
}

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char ch) {
        auto u = static_cast<unsigned char>(ch);
        return u < 0x20 || u == 0x7F;
    });
}

}  // namespace

Expected<json::value, ErpError> parse_object(std::string_view raw, const Limits& limits) {
    if (raw.size() > limits.max_bytes)
        return unexpected(ErpError::make(ErrorCode::message_too_large, "",
                                         "message is " + std::to_string(raw.size()) + " bytes, limit is " +
                                             std::to_string(limits.max_bytes)));
    json::parse_options opt;
    opt.max_depth = limits.max_depth;
    boost::system::error_code ec;
    json::value v = json::parse(json::string_view(raw.data(), raw.size()), ec, {}, opt);
    if (ec == json::error::too_deep)
        return unexpected(ErpError::make(ErrorCode::message_too_large, "",
                                         "nesting deeper than " + std::to_string(limits.max_depth)));
    if (ec) return unexpected(ErpError::make(ErrorCode::malformed_json, "", "not valid JSON: " + ec.message()));
    if (!v.is_object())
        return unexpected(ErpError::make(ErrorCode::not_an_object, "",
                                         "message must be a JSON object, got " + std::string(kind_of(v))));
    return v;
}

std::string json_pointer(std::string_view base, std::string_view key) {
    std::string out(base);
    out += '/';
    for (char ch : key) {
        if (ch == '~') out += "~0";
        else if (ch == '/') out += "~1";
        else out += ch;
    }
    return out;
}

FieldReader::FieldReader(const json::object& obj, std::string path, const Limits& limits)
    : obj_(&obj), path_(std::move(path)), limits_(&limits) {}

void FieldReader::fail(ErrorCode code, std::string pointer, std::string message) {
    if (!err_) err_ = ErpError::make(code, std::move(pointer), std::move(message));
}

void FieldReader::take_error(const FieldReader& other) {
    if (!err_ && other.err_) err_ = other.err_;
}

bool FieldReader::has(std::string_view key) const { return obj_->contains(key); }

const json::value* FieldReader::get(std::string_view key, Need need) {
    seen_.emplace_back(key);
    if (!ok()) return nullptr;
    const json::value* v = obj_->if_contains(key);
    if (v && v->is_null() && need == Need::optional) return nullptr;  // null = absent
    if (!v && need == Need::required) fail(ErrorCode::missing_field, pointer(key), std::string(key) + " is required");
    return v;
}

void FieldReader::version() {
    const json::value* v = get("v", Need::required);
    if (!v) return;
    if (!v->is_int64() && !v->is_uint64()) {
        fail(ErrorCode::wrong_type, pointer("v"), "v must be an integer");
        return;
    }
    if (!v->is_int64() || v->get_int64() != kProtocolVersion)
        fail(ErrorCode::unsupported_version, pointer("v"),
             "protocol version " + json::serialize(*v) + " is not supported; this server speaks v 1");
}

std::string FieldReader::checked_string(std::string_view key, Need need, std::size_t max_len, bool is_id) {
    const json::value* v = get(key, need);
    if (!v) return {};
    if (!v->is_string()) {
        fail(ErrorCode::wrong_type, pointer(key),
             std::string(key) + " must be a string, got " + std::string(kind_of(*v)));
        return {};
    }
    std::string_view s = v->get_string();
    if (s.empty() && need == Need::required) {
        fail(ErrorCode::invalid_value, pointer(key), std::string(key) + " must not be empty");
        return {};
    }
    if (s.size() > max_len) {
        fail(ErrorCode::invalid_value, pointer(key),
             std::string(key) + " is longer than " + std::to_string(max_len) + " bytes");
        return {};
    }
    if (has_control(s)) {
        fail(ErrorCode::invalid_value, pointer(key), std::string(key) + " contains control characters");
        return {};
    }
    if (is_id && (s.front() == ' ' || s.back() == ' ')) {
        fail(ErrorCode::invalid_value, pointer(key), std::string(key) + " has leading or trailing spaces");
        return {};
    }
    return std::string(s);
}

std::string FieldReader::id(std::string_view key, Need need) {
    return checked_string(key, need, limits_->max_id_length, true);
}

std::string FieldReader::text(std::string_view key, Need need) {
    return checked_string(key, need, limits_->max_text_length, false);
}

std::string FieldReader::phone(std::string_view key, Need need) {
    std::string s = checked_string(key, need, 16, true);
    if (s.empty()) return s;
    std::string_view digits = s;
    if (digits.front() == '+') digits.remove_prefix(1);
    bool good = digits.size() >= 6 && digits.size() <= 15 &&
                std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!good) fail(ErrorCode::invalid_value, pointer(key), "phone must be E.164 (+ and 6..15 digits)");
    return s;
}

std::string FieldReader::email(std::string_view key, Need need) {
    std::string s = checked_string(key, need, 254, true);
    if (s.empty()) return s;
    auto at = s.find('@');
    bool good = at != std::string::npos && at > 0 && at + 1 < s.size() && s.find('@', at + 1) == std::string::npos &&
                s.find(' ') == std::string::npos;
    if (!good) fail(ErrorCode::invalid_value, pointer(key), "email must look like local@domain");
    return s;
}

std::int64_t FieldReader::integer(std::string_view key, Need need, std::int64_t min, std::int64_t max,
                                  std::int64_t fallback) {
    const json::value* v = get(key, need);
    if (!v) return fallback;
    if (!v->is_int64() && !v->is_uint64()) {
        fail(ErrorCode::wrong_type, pointer(key),
             std::string(key) + " must be an integer, got " + std::string(kind_of(*v)));
        return fallback;
    }
    auto n = as_int64(*v);
    if (!n || *n < min || *n > max) {
        fail(ErrorCode::invalid_value, pointer(key),
             std::string(key) + " must be between " + std::to_string(min) + " and " + std::to_string(max));
        return fallback;
    }
    return *n;
}

std::optional<std::int64_t> FieldReader::optional_signed_minor(std::string_view key) {
    const json::value* v = get(key, Need::optional);
    if (!v) return std::nullopt;
    if (!v->is_int64() && !v->is_uint64()) {
        fail(ErrorCode::wrong_type, pointer(key),
             std::string(key) + " must be an integer in minor units, got " + std::string(kind_of(*v)));
        return std::nullopt;
    }
    auto n = as_int64(*v);
    if (!n || *n > kMaxAmountMinor || *n < -kMaxAmountMinor) {
        fail(ErrorCode::amount_invalid, pointer(key), std::string(key) + " exceeds 999999999999 minor units");
        return std::nullopt;
    }
    return n;
}

std::int64_t FieldReader::signed_minor(std::string_view key, Need need) {
    if (need == Need::required) get(key, Need::required);  // reports missing_field
    if (!ok()) return 0;
    return optional_signed_minor(key).value_or(0);
}

std::int64_t FieldReader::amount(std::string_view key) {
    std::int64_t v = signed_minor(key, Need::required);
    if (ok() && v <= 0)
        fail(ErrorCode::amount_invalid, pointer(key),
             std::string(key) + " must be positive (minor units), got " + std::to_string(v));
    return v;
}

std::int64_t FieldReader::nonnegative_amount(std::string_view key) {
    std::int64_t v = signed_minor(key, Need::required);
    if (ok() && v < 0)
        fail(ErrorCode::amount_invalid, pointer(key), std::string(key) + " must not be negative");
    return v;
}

std::int64_t FieldReader::quantity_milli(std::string_view key) {
    constexpr std::int64_t kMaxMilli = 1'000'000'000;  // 1,000,000 units
    const json::value* v = get(key, Need::required);
    if (!v) return 0;
    std::int64_t milli = 0;
    if (v->is_int64() || v->is_uint64()) {
        auto q = as_int64(*v);
        milli = (q && *q > 0 && *q <= kMaxMilli / 1000) ? *q * 1000 : -1;
    } else if (v->is_double()) {
        // JSON has no decimal type: 1.5 arrives as a double; accept it only if it is a
        // quantity with at most 3 decimals (1.5, 0.25, 2.125), never round silently.
        double scaled = v->get_double() * 1000.0;
        double rounded = std::round(scaled);
        if (std::isfinite(scaled) && std::fabs(scaled - rounded) < 1e-6 && rounded > 0 &&
            rounded <= static_cast<double>(kMaxMilli))
            milli = static_cast<std::int64_t>(rounded);
        else
            milli = -1;
    } else {
        fail(ErrorCode::wrong_type, pointer(key), std::string(key) + " must be a number, got " + std::string(kind_of(*v)));
        return 0;
    }
    if (milli <= 0) {
        fail(ErrorCode::invalid_value, pointer(key),
             std::string(key) + " must be > 0 and <= 1000000 with at most 3 decimals");
        return 0;
    }
    return milli;
}

Currency FieldReader::currency(std::string_view key) {
    std::string code = checked_string(key, Need::required, limits_->max_id_length, true);
    if (!ok()) return {};
    auto c = currency_from_code(code);
    if (!c) {
        fail(ErrorCode::unknown_currency, pointer(key), "unknown ISO 4217 currency \"" + code + "\"");
        return {};
    }
    return *c;
}

bool FieldReader::boolean(std::string_view key, bool fallback) {
    const json::value* v = get(key, Need::optional);
    if (!v) return fallback;
    if (!v->is_bool()) {
        fail(ErrorCode::wrong_type, pointer(key), std::string(key) + " must be true or false");
        return fallback;
    }
    return v->get_bool();
}

int FieldReader::choice(std::string_view key, const std::vector<std::pair<std::string_view, int>>& names,
                        Need need, int fallback) {
    std::string s = checked_string(key, need, limits_->max_id_length, true);
    if (!ok() || s.empty()) return fallback;
    for (const auto& [name, value] : names)
        if (name == s) return value;
    std::string allowed;
    for (const auto& n : names) allowed += (allowed.empty() ? "" : ", ") + std::string(n.first);
    fail(ErrorCode::invalid_value, pointer(key), std::string(key) + " must be one of: " + allowed);
    return fallback;
}

const json::array* FieldReader::array(std::string_view key, Need need, std::size_t max_items) {
    const json::value* v = get(key, need);
    if (!v) return nullptr;
    if (!v->is_array()) {
        fail(ErrorCode::wrong_type, pointer(key), std::string(key) + " must be an array, got " + std::string(kind_of(*v)));
        return nullptr;
    }
    if (v->get_array().size() > max_items) {
        fail(ErrorCode::too_many_items, pointer(key),
             std::string(key) + " has " + std::to_string(v->get_array().size()) + " elements, limit is " +
                 std::to_string(max_items));
        return nullptr;
    }
    return &v->get_array();
}

const json::object* FieldReader::object(std::string_view key, Need need) {
    const json::value* v = get(key, need);
    if (!v) return nullptr;
    if (!v->is_object()) {
        fail(ErrorCode::wrong_type, pointer(key), std::string(key) + " must be an object, got " + std::string(kind_of(*v)));
        return nullptr;
    }
    return &v->get_object();
}

FieldReader FieldReader::element(std::string_view key, std::size_t i, const json::value& v) const {
    std::string path = json_pointer(path_, key) + "/" + std::to_string(i);
    if (v.is_object()) return FieldReader(v.get_object(), std::move(path), *limits_);
    FieldReader bad(empty_object(), path, *limits_);
    bad.fail(ErrorCode::wrong_type, path, "element must be an object, got " + std::string(kind_of(v)));
    return bad;
}

FieldReader FieldReader::nested(std::string_view key, const json::object& obj) const {
    return FieldReader(obj, json_pointer(path_, key), *limits_);
}

void FieldReader::finish() {
    if (!ok()) return;
    for (const auto& kv : *obj_) {
        std::string_view k = kv.key();
        if (std::find(seen_.begin(), seen_.end(), k) == seen_.end()) {
            fail(ErrorCode::unknown_field, pointer(k), "unknown field \"" + std::string(k) + "\"");
            return;
        }
    }
}

}  // namespace pb::erp
