#pragma once
// The ledger's part of the dashboard snapshot: today's takings per issuer and the interim
// account. The wiring adds "terminals" (PaymentService::terminals_json()).
//
// Takings of a business date, from the payments' current state (design.md §4):
//  - approved, reversed and refunded payments were all approved once: they make `gross`;
//    reversed and refunded ones make `returned`; count/amount are the net (gross - returned),
//    which is what the approved ones alone add up to.
//  - one line per (issuer, currency): card-like tenders by the payment's resolved issuer
//    ("unassigned" when none matched, the tender id for vouchers without one), cash as "cash".
//  - a reversal or refund counts on the business date of the payment it undoes.
// Interim: every aborted or unknown payment, whatever its date, oldest first, with its age.

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>

#include "ledger/ledger.hpp"
#include "protocol/core/expected.hpp"

namespace pb::daemon {

struct Config;
class PaymentService;

/// {"generated_at": ISO UTC, "business_date", "takings": [{"issuer", "name", "account",
///   "currency", "count", "amount_minor", "amount", "gross_count", "gross_minor",
///   "returned_count", "returned_minor"}], "takings_totals": [{"currency", "count",
///   "amount_minor", "amount"}], "interim": [{"payment_id", "order_id", "terminal",
///   "register_id", "amount_minor", "amount", "currency", "state", "reason", "masked_pan",
///   "created_at", "age_s"}]}. The error is the ledger's message.
Expected<boost::json::object, std::string> ledger_snapshot(const ledger::Reader& reader,
                                                           const std::string& business_date,
                                                           std::int64_t now_utc_ms);

/// The whole snapshot the dashboard serves: ledger_snapshot() for today's business date (the
/// config's timezone and day_starts_at) plus "terminals" (PaymentService::terminals_json()).
/// A ledger error is served as {"error": message} with the terminals, never thrown.
boost::json::value dashboard_snapshot(const ledger::Ledger& ledger, const PaymentService& payments,
                                      const Config& config, std::int64_t now_utc_ms);

/// "2026-11-23T09:15:02Z".
std::string iso_utc(std::int64_t utc_ms);
/// "123.45" from minor units with `exponent` decimals; never a float.
std::string format_minor_units(std::int64_t minor, int exponent);

}  // namespace pb::daemon
