#include "protocol/erp/error.hpp"

namespace pb::erp {
namespace {

struct Row {
    ErrorCode code;
    std::string_view name;
    std::string_view message;
};

constexpr Row kRows[] = {
    {ErrorCode::malformed_json, "malformed_json", "message is not valid JSON (or not UTF-8)"},
    {ErrorCode::not_an_object, "not_an_object", "message must be a JSON object"},
    {ErrorCode::unsupported_version, "unsupported_version", "unsupported protocol version (this server speaks v 1)"},
    {ErrorCode::unknown_type, "unknown_type", "unknown message type"},
    {ErrorCode::missing_field, "missing_field", "required field is missing"},
    {ErrorCode::wrong_type, "wrong_type", "field has the wrong JSON type"},
    {ErrorCode::invalid_value, "invalid_value", "field has a value that is not allowed"},
    {ErrorCode::message_too_large, "message_too_large", "message exceeds the size limit"},
    {ErrorCode::unknown_currency, "unknown_currency", "not an ISO 4217 currency this server knows"},
    {ErrorCode::total_mismatch, "total_mismatch", "sum of the lines differs from the total"},
    {ErrorCode::unknown_field, "unknown_field", "field is not part of this message type"},
    {ErrorCode::too_many_items, "too_many_items", "array has more elements than allowed"},
    {ErrorCode::unknown_terminal, "unknown_terminal", "no terminal with this id is configured"},
    {ErrorCode::terminal_busy, "terminal_busy", "terminal has an outstanding transaction"},
    {ErrorCode::terminal_offline, "terminal_offline", "terminal is not connected"},
    {ErrorCode::duplicate_in_progress, "duplicate_in_progress", "another payment of this order is sent or unknown"},
    {ErrorCode::permission_denied, "permission_denied", "operator lacks the right for this action"},
    {ErrorCode::unknown_payment, "unknown_payment", "no payment with this id or request key"},
    {ErrorCode::invalid_state, "invalid_state", "not possible in the payment's current state"},
    {ErrorCode::amount_invalid, "amount_invalid", "amount must be between 1 and 999999999999 minor units"},
    {ErrorCode::currency_mismatch, "currency_mismatch", "currency differs from the terminal's, register's or payment's"},
    {ErrorCode::unknown_order, "unknown_order", "no payments recorded for this order"},
    {ErrorCode::unknown_register, "unknown_register", "no register with this id is configured"},
    {ErrorCode::unknown_operator, "unknown_operator", "operator is not known"},
    {ErrorCode::unknown_interim_entry, "unknown_interim_entry", "no interim entry with this id"},
    {ErrorCode::request_key_conflict, "request_key_conflict", "request key already used for a different request"},
    {ErrorCode::not_supported, "not_supported", "not supported by this terminal or server"},
    {ErrorCode::shutting_down, "shutting_down", "server is stopping and takes no new work"},
    {ErrorCode::cannot_verify, "cannot_verify", "upstream service did not answer; nothing was charged"},
    {ErrorCode::commitment_invalid, "commitment_invalid", "commitment is not active, expired or the card is blocked"},
    {ErrorCode::insufficient_balance, "insufficient_balance", "commitment balance does not cover the amount"},
    {ErrorCode::category_blocked, "category_blocked", "lines contain product categories the commitment does not allow"},
    {ErrorCode::voucher_invalid, "voucher_invalid", "voucher is unknown, used or expired"},
    {ErrorCode::window_expired, "window_expired", "cancel/credit window has passed"},
    {ErrorCode::channel_not_allowed, "channel_not_allowed", "receipt channel not allowed here"},
    {ErrorCode::no_card_read, "no_card_read", "the terminal read no card (timeout or cancelled)"},
    {ErrorCode::internal, "internal", "internal error"},
    {ErrorCode::ledger_unavailable, "ledger_unavailable", "ledger cannot record; nothing was sent"},
};

const Row* find(ErrorCode c) {
    for (const auto& r : kRows)
        if (r.code == c) return &r;
    return nullptr;
}

}  // namespace

std::string_view error_name(ErrorCode c) {
    const Row* r = find(c);
    return r ? r->name : "internal";
}

std::string_view error_message(ErrorCode c) {
    const Row* r = find(c);
    return r ? r->message : "internal error";
}

std::optional<ErrorCode> error_from_number(int n) {
    for (const auto& r : kRows)
        if (static_cast<int>(r.code) == n) return r.code;
    return std::nullopt;
}

std::optional<ErrorCode> error_from_name(std::string_view name) {
    for (const auto& r : kRows)
        if (r.name == name) return r.code;
    return std::nullopt;
}

ErpError ErpError::make(ErrorCode c, std::string field_pointer, std::string text) {
    ErpError e;
    e.code = c;
    e.field = std::move(field_pointer);
    e.message = text.empty() ? std::string(error_message(c)) : std::move(text);
    return e;
}

std::string ErpError::to_string() const {
    std::string out(error_name(code));
    out += " (" + std::to_string(static_cast<int>(code)) + ")";
    if (!field.empty()) out += " at " + field;
    out += ": " + message;
    return out;
}

}  // namespace pb::erp
