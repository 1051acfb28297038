#include "daemon/erp_views.hpp"

#include "daemon/erp_port.hpp"

#include <cstdio>
#include <ctime>

namespace pb::daemon {

using erp::ErpError;
using erp::ErrorCode;

std::string payment_ref(ledger::PaymentId id) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "p-%06lld", static_cast<long long>(id.value));
    return buf;
}

std::optional<ledger::PaymentId> parse_payment_ref(std::string_view s, std::string_view prefix) {
    if (s.substr(0, prefix.size()) != prefix) return std::nullopt;
    s.remove_prefix(prefix.size());
    if (s.empty() || s.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return ledger::PaymentId{v};
}

erp::PaymentState erp_state(ledger::PaymentState s) {
    using L = ledger::PaymentState;
    using E = erp::PaymentState;
    switch (s) {
        case L::requested: return E::requested;
        case L::sent: return E::sent;
        case L::approved: return E::approved;
        case L::declined: return E::declined;
        case L::aborted: return E::aborted;
        case L::unknown: return E::unknown;
        case L::reversed: return E::reversed;
        case L::refunded: return E::refunded;
        case L::rejected: return E::rejected;
        case L::resolved: return E::aborted;  // closed interim entry; the entry says how
    }
    return E::unknown;
}

erp::PaymentView view_of(const ledger::Payment& p) {
    erp::PaymentView v;
    v.payment_id = payment_ref(p.id);
    v.order_id = p.request.order_id;
    v.request_key = p.request.request_key;
    switch (p.request.tender) {
        case ledger::Tender::cash: v.kind = erp::PaymentKind::cash; break;
        case ledger::Tender::commitment_card: v.kind = erp::PaymentKind::commitment; break;
        case ledger::Tender::benefit_voucher: v.kind = erp::PaymentKind::benefit; break;
        case ledger::Tender::card: v.kind = erp::PaymentKind::sale; break;
    }
    v.state = erp_state(p.state);
    v.amount = p.request.amount;
    v.terminal = p.request.terminal_id;
    v.register_id = p.request.register_id;
    v.operator_id = p.request.operator_id;
    v.receptionist = p.request.receptionist;
    v.brand = p.terminal.brand;
    v.masked_pan = p.terminal.pan;
    v.trace = p.terminal.trace;
    v.receipt_no = p.terminal.receipt_no;
    v.approval_code = p.terminal.approval_code;
    v.result_code = p.terminal.result_code;
    v.result_text = !p.terminal.text.empty() ? p.terminal.text : p.reason;
    v.created_at = iso_utc(p.created_utc_ms);
    v.updated_at = iso_utc(p.updated_utc_ms);
    return v;
}

ErpError err(ErrorCode c, std::string field, std::string text, const erp::Request& r) {
    ErpError e = ErpError::make(c, std::move(field), std::move(text));
    e.id = r.id;
    e.type = std::string(erp::type_name(r.body));
    return e;
}

ErpError from_ledger(const ledger::Error& le, const erp::Request& r) {
    switch (le.code) {
        case ledger::Errc::order_busy: return err(ErrorCode::duplicate_in_progress, "/order_id", le.message, r);
        case ledger::Errc::terminal_busy: return err(ErrorCode::terminal_busy, "/terminal", le.message, r);
        case ledger::Errc::key_conflict: return err(ErrorCode::request_key_conflict, "/request_key", le.message, r);
        case ledger::Errc::permission_denied: return err(ErrorCode::permission_denied, "/operator", le.message, r);
        case ledger::Errc::not_found: return err(ErrorCode::unknown_payment, "", le.message, r);
        case ledger::Errc::invalid_transition: return err(ErrorCode::invalid_state, "", le.message, r);
        case ledger::Errc::invalid_argument: return err(ErrorCode::invalid_value, "", le.message, r);
        default: return err(ErrorCode::ledger_unavailable, "", le.message, r);
    }
}

/// 2011 for an operator the ledger does not know (or an inactive one), 2004 without the right.
std::optional<ErpError> refused_by_daemon(const ErpPort& port, const erp::Request& r, const std::string& register_id) {
    if (port.is_stopping()) return err(ErrorCode::shutting_down, "", "paybridged is stopping", r);
    if (!register_id.empty() && !port.known_register(register_id))
        return err(ErrorCode::unknown_register, "/register", "no register '" + register_id + "' is configured", r);
    return std::nullopt;
}

std::optional<ErpError> check_operator(const ledger::Reader& reader, const std::string& op, ledger::Right right,
                                              const erp::Request& r) {
    auto who = reader.get_operator(op);
    if (!who || !who->active)
        return err(ErrorCode::unknown_operator, "/operator", "operator '" + op + "' is not known", r);
    if (!reader.may(op, right))
        return err(ErrorCode::permission_denied, "/operator",
                   "operator '" + op + "' lacks the " + std::string(ledger::right_id(right)) + " right", r);
    return std::nullopt;
}


}  // namespace pb::daemon
