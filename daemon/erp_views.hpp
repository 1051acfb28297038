#pragma once
// What the ERP sees of the ledger (protocol/erp/README.md): payment views, ids, times, and the
// mapping of ledger errors to ERP error codes. Shared by the payment orchestration and the
// upstream flows so that a payment looks the same whichever flow made it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/business_day.hpp"
#include "daemon/dashboard_snapshot.hpp"  // iso_utc
#include "ledger/ledger.hpp"
#include "protocol/erp/error.hpp"
#include "protocol/erp/request.hpp"
#include "protocol/erp/view.hpp"

namespace pb::daemon {

/// "p-000123"
std::string payment_ref(ledger::PaymentId id);
std::optional<ledger::PaymentId> parse_payment_ref(std::string_view s, std::string_view prefix = "p-");
erp::PaymentState erp_state(ledger::PaymentState s);
erp::PaymentView view_of(const ledger::Payment& p);

/// An error reply to request `r`.
erp::ErpError err(erp::ErrorCode c, std::string field, std::string text, const erp::Request& r);
erp::ErpError from_ledger(const ledger::Error& le, const erp::Request& r);
class ErpPort;
/// Checks that need nothing but the running daemon, for the flows outside the orchestration:
/// 2015 while it stops, 2010 for a register it does not know ("" = no register to check).
std::optional<erp::ErpError> refused_by_daemon(const ErpPort& port, const erp::Request& r, const std::string& register_id);

/// 2011 for an operator the ledger does not know (or an inactive one), 2004 without the right.
std::optional<erp::ErpError> check_operator(const ledger::Reader& reader, const std::string& op, ledger::Right right,
                                            const erp::Request& r);

}  // namespace pb::daemon
