#pragma once
// The one checked reader for ERP JSON objects (style.md §4 for JSON): every field read goes
// through it, so every violation gets the same code and a JSON pointer. The first error
// wins; later reads become no-ops, which keeps the per-message code a flat list of fields.
// Internal to protocol/erp (requests, replies and events all use it).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "protocol/core/expected.hpp"
#include "protocol/core/money.hpp"
#include "protocol/erp/error.hpp"
#include "protocol/erp/request.hpp"

namespace pb::erp {

enum class Need : std::uint8_t { required, optional };

/// Size-checked, depth-limited parse; the value is an object or the error is not_an_object.
Expected<boost::json::value, ErpError> parse_object(std::string_view raw, const Limits& limits);

/// "/lines/2" + key, with RFC 6901 escaping of '~' and '/'.
std::string json_pointer(std::string_view base, std::string_view key);

class FieldReader {
public:
    FieldReader(const boost::json::object& obj, std::string path, const Limits& limits);

    const Limits& limits() const { return *limits_; }
    bool ok() const { return !err_.has_value(); }
    const std::optional<ErpError>& error() const { return err_; }
    void fail(ErrorCode code, std::string pointer, std::string message = {});
    void take_error(const FieldReader& other);
    std::string pointer(std::string_view key) const { return json_pointer(path_, key); }
    bool has(std::string_view key) const;

    /// "v": 1 (integer); another integer is unsupported_version.
    void version();
    /// Identifier: 1..max_id_length bytes, no control characters. Optional: "" when absent.
    std::string id(std::string_view key, Need need);
    /// Free text: up to max_text_length bytes, no control characters; required means non-empty.
    std::string text(std::string_view key, Need need);
    std::string phone(std::string_view key, Need need);
    std::string email(std::string_view key, Need need);
    /// Amount in minor units, 1..kMaxAmountMinor (amount_invalid otherwise). Required.
    std::int64_t amount(std::string_view key);
    /// Like amount but 0 allowed (counted cash).
    std::int64_t nonnegative_amount(std::string_view key);
    /// Minor units, -kMaxAmountMinor..kMaxAmountMinor (prices, discounts, differences).
    std::int64_t signed_minor(std::string_view key, Need need);
    std::optional<std::int64_t> optional_signed_minor(std::string_view key);
    /// Any JSON integer (counters, codes); optional gives `fallback` when absent.
    std::int64_t integer(std::string_view key, Need need, std::int64_t min, std::int64_t max,
                         std::int64_t fallback = 0);
    /// Quantity > 0, at most 3 decimals, at most 1,000,000; in thousandths.
    std::int64_t quantity_milli(std::string_view key);
    /// ISO 4217 alphabetic code known to protocol/core/money.hpp. Required.
    Currency currency(std::string_view key);
    bool boolean(std::string_view key, bool fallback);
    /// One of the named values; returns the value's int.
    int choice(std::string_view key, const std::vector<std::pair<std::string_view, int>>& names,
               Need need, int fallback);
    const boost::json::array* array(std::string_view key, Need need, std::size_t max_items);
    const boost::json::object* object(std::string_view key, Need need);
    /// A reader for element i of array `key`; failed (wrong_type) if it is not an object.
    FieldReader element(std::string_view key, std::size_t i, const boost::json::value& v) const;
    /// A reader for a nested object at `key` (which must have been read with object()).
    FieldReader nested(std::string_view key, const boost::json::object& obj) const;
    /// unknown_field for any key of the object that was not read.
    void finish();

private:
    const boost::json::value* get(std::string_view key, Need need);
    std::string checked_string(std::string_view key, Need need, std::size_t max_len, bool is_id);

    const boost::json::object* obj_;
    std::string path_;
    const Limits* limits_;
    std::vector<std::string> seen_;
    std::optional<ErpError> err_;
};

}  // namespace pb::erp
