#pragma once
// The terminal's end-of-day totals as the daemon keeps them, and which batch a day-close
// closes when an earlier run was cut short.
//
// The totals of an end-of-day (ZVT 06 50, BMP 60 per PA00P015 §3.1.3) are made durable as a
// `terminal.end_of_day_totals` event before the terminal is acknowledged. If the daemon dies
// after that, the terminal may have closed its batch (it got our acknowledgement) or not; the
// ledger has not closed the day. The next end-of-day of that terminal tells which:
//  - it reports an empty batch: the terminal closed the earlier one; its stored totals are
//    the batch the ledger closes now;
//  - it reports receipt numbers the earlier report already covered: the terminal never
//    closed that batch and re-reports it; the new report alone counts;
//  - it reports a later, non-empty batch: both batches were closed by the terminal and neither
//    by the ledger; their sum is what the ledger closes.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "protocol/erp/view.hpp"
#include "protocol/zvt/message.hpp"

namespace pb::daemon {

struct EodReport {
    std::uint16_t receipt_from = 0;
    std::uint16_t receipt_to = 0;
    std::vector<erp::BrandTotal> buckets;  // non-empty BMP 60 buckets, fixed order
    bool empty() const;
    friend bool operator==(const EodReport&, const EodReport&) = default;
};

EodReport eod_report(const zvt::EodTotals& totals);
/// {"receipt_from":..,"receipt_to":..,"buckets":[{"brand","count","amount"}...]}
boost::json::object to_json(const EodReport& r);
/// Reads what to_json wrote; nullopt if the object is not such a report.
std::optional<EodReport> eod_report_from_json(const boost::json::object& o);

/// The batch to close now, given this end-of-day's report and an earlier one stored after
/// the terminal's last ledger close (see above).
EodReport batch_to_close(const EodReport& now, const std::optional<EodReport>& unclosed);

}  // namespace pb::daemon
