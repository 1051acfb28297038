#pragma once
// The transport-level rules shared by every upstream service (protocol/upstream/README.md
// §1-§2): URLs, idempotency keys, error bodies, and the one checked reader every reply and
// request codec uses. Pure: bytes and values in, values or errors out.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "protocol/core/expected.hpp"
#include "protocol/core/money.hpp"

namespace pb::upstream {

/// A body that does not follow this contract: what is wrong and where (JSON pointer).
struct MalformedError {
    std::string field;    // "/balance", "" for the body as a whole
    std::string message;  // "expected an integer"
    std::string to_string() const { return field.empty() ? message : field + ": " + message; }
};

template <class T>
using Decoded = Expected<T, MalformedError>;

/// An http(s) base URL: "https://commit.example.com:8443/api".
struct Url {
    bool tls = true;
    std::string host;
    std::uint16_t port = 443;
    std::string base_path;  // "" or "/api" (no trailing slash)
    /// base_path + path ("/v1/commitments/check").
    std::string target(std::string_view path) const;
    /// 127.0.0.0/8, ::1 or "localhost".
    bool loopback() const;
};
Expected<Url, std::string> parse_url(std::string_view text);

/// README §1: 1..128 printable ASCII characters.
bool valid_idempotency_key(std::string_view key);

/// README §2: the machine code of a non-2xx reply, with its message and field.
struct ServiceError {
    int status = 0;
    std::string code;  // "insufficient_balance"; "" if the body had no readable error object
    std::string message;
    std::string field;
    std::vector<std::int64_t> blocked_lines;  // category_blocked
    /// 408, 429 and 5xx: the service may answer later (retry / "cannot verify").
    bool transient() const;
};
/// The error object of a non-2xx reply. A body that is not an error object still gives a
/// ServiceError (status kept, code "") so that the status class decides.
ServiceError parse_service_error(int status, std::string_view body);
std::string encode_service_error(const ServiceError& e);

/// Checked reads from one JSON object; the first error wins, later reads are no-ops.
/// Unknown keys are ignored (replies are open, README §1).
class Fields {
public:
    Fields(const boost::json::object& obj, std::string path) : obj_(&obj), path_(std::move(path)) {}
    static Decoded<boost::json::object> parse(std::string_view body);

    std::string text(std::string_view key, bool required, std::size_t max_len = 256);
    std::int64_t integer(std::string_view key, bool required, std::int64_t min, std::int64_t max);
    bool boolean(std::string_view key, bool required);
    Currency currency(std::string_view key);
    /// "YYYY-MM-DD" (plausible month and day).
    std::string date(std::string_view key, bool required);
    /// Quantity > 0 with at most 3 decimals, in thousandths.
    std::int64_t quantity_milli(std::string_view key);
    const boost::json::array* array(std::string_view key, bool required, std::size_t max_items = 500);
    /// Each element of `array` as an object reader; fails on a non-object element.
    std::optional<Fields> element(std::string_view key, std::size_t i, const boost::json::value& v);
    std::vector<std::int64_t> index_list(std::string_view key, bool required, std::int64_t below);

    void fail(std::string pointer, std::string message);
    void take(const Fields& other);
    bool ok() const { return !err_.has_value(); }
    const std::optional<MalformedError>& error() const { return err_; }
    std::string pointer(std::string_view key) const;

private:
    const boost::json::value* get(std::string_view key, bool required);
    const boost::json::object* obj_;
    std::string path_;
    std::optional<MalformedError> err_;
};

/// A quantity in thousandths as the JSON number README §3 shows (2, 1.5).
boost::json::value quantity_json(std::int64_t milli);

}  // namespace pb::upstream
