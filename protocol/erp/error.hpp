#pragma once
// Errors of the ERP protocol (protocol/erp/README.md, "Errors"). The numbers are part of the
// wire contract: never renumber, never reuse; add new ones at the end of their range.
//   1xxx  the message itself is bad (nothing was looked up, nothing changed)
//   2xxx  the message is well formed but the request cannot be done now
//   3xxx  the daemon failed

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pb::erp {

enum class ErrorCode : std::uint16_t {
    malformed_json = 1000,
    not_an_object = 1001,
    unsupported_version = 1002,
    unknown_type = 1003,
    missing_field = 1004,
    wrong_type = 1005,
    invalid_value = 1006,
    message_too_large = 1007,
    unknown_currency = 1008,
    total_mismatch = 1009,
    unknown_field = 1010,
    too_many_items = 1011,

    unknown_terminal = 2000,
    terminal_busy = 2001,
    terminal_offline = 2002,
    duplicate_in_progress = 2003,
    permission_denied = 2004,
    unknown_payment = 2005,
    invalid_state = 2006,
    amount_invalid = 2007,
    currency_mismatch = 2008,
    unknown_order = 2009,
    unknown_register = 2010,
    unknown_operator = 2011,
    unknown_interim_entry = 2012,
    request_key_conflict = 2013,
    not_supported = 2014,
    shutting_down = 2015,
    // Upstream flows (issue 7).
    cannot_verify = 2100,
    commitment_invalid = 2101,
    insufficient_balance = 2102,
    category_blocked = 2103,
    voucher_invalid = 2104,
    window_expired = 2105,
    channel_not_allowed = 2106,
    no_card_read = 2110,

    internal = 3000,
    ledger_unavailable = 3001,
};

/// Every code, in numeric order (for docs, tests and `paybridge erp errors`).
std::string_view error_name(ErrorCode c);     // "missing_field"
std::string_view error_message(ErrorCode c);  // default human text
std::optional<ErrorCode> error_from_number(int n);
std::optional<ErrorCode> error_from_name(std::string_view name);
inline constexpr ErrorCode kAllErrorCodes[] = {
    ErrorCode::malformed_json,     ErrorCode::not_an_object,        ErrorCode::unsupported_version,
    ErrorCode::unknown_type,       ErrorCode::missing_field,        ErrorCode::wrong_type,
    ErrorCode::invalid_value,      ErrorCode::message_too_large,    ErrorCode::unknown_currency,
    ErrorCode::total_mismatch,     ErrorCode::unknown_field,        ErrorCode::too_many_items,
    ErrorCode::unknown_terminal,   ErrorCode::terminal_busy,        ErrorCode::terminal_offline,
    ErrorCode::duplicate_in_progress, ErrorCode::permission_denied, ErrorCode::unknown_payment,
    ErrorCode::invalid_state,      ErrorCode::amount_invalid,       ErrorCode::currency_mismatch,
    ErrorCode::unknown_order,      ErrorCode::unknown_register,     ErrorCode::unknown_operator,
    ErrorCode::unknown_interim_entry, ErrorCode::request_key_conflict, ErrorCode::not_supported,
    ErrorCode::shutting_down,      ErrorCode::cannot_verify,        ErrorCode::commitment_invalid,
    ErrorCode::insufficient_balance, ErrorCode::category_blocked,   ErrorCode::voucher_invalid,
    ErrorCode::window_expired,     ErrorCode::channel_not_allowed,  ErrorCode::no_card_read,
    ErrorCode::internal,
    ErrorCode::ledger_unavailable,
};

/// An error reply's content. `field` is a JSON pointer (RFC 6901) into the request, e.g.
/// "/lines/2/unit_price", empty when no single field is to blame.
struct ErpError {
    ErrorCode code = ErrorCode::internal;
    std::string field;
    std::string message;
    /// The request's correlation id and type when they could be read before the error was
    /// found, so that the reply can still be matched by the client; empty otherwise.
    std::string id;
    std::string type;

    static ErpError make(ErrorCode c, std::string field_pointer = {}, std::string text = {});
    /// "missing_field (1004) at /terminal: required field is missing"
    std::string to_string() const;
};

}  // namespace pb::erp
