#pragma once
// Cash reconciliation per register (issue 4, design.md §5): expected cash = float + cash sales
// - cash refunds - withdrawals, against the counted amount; the difference is booked to a
// configured account. Who counted and when are kept.
//
// A count covers the register's cash movements in the journal after its previous count up to
// this one (the same windowing as day-close): approvals of cash payments are sales, refunds and
// reversals of cash payments are refunds. Each count is one "cash.counted" event (subject
// "cashcount/<register>") on the audit chain; counting the same register and date again, or an
// earlier date, is refused.

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.hpp"

namespace pb::ledger {

struct CashCountRequest {
    std::string register_id;
    std::string business_date;
    std::string counted_by;  // operator; needs Right::take_cash or Right::close_day once operators exist
    std::int64_t float_minor = 0;        // opening float in the drawer
    std::int64_t withdrawals_minor = 0;  // cash taken out (bank deposits, petty cash)
    std::int64_t counted_minor = 0;
    std::string difference_account = "3740";
    std::string currency = "SEK";
};

struct CashCount {
    std::int64_t seq = 0;
    std::string register_id, business_date, counted_by, difference_account, currency;
    std::int64_t counted_utc_ms = 0;
    std::int64_t from_seq = 0, to_seq = 0;
    std::int64_t float_minor = 0;
    std::int64_t sales_count = 0, sales_minor = 0;
    std::int64_t refunds_count = 0, refunds_minor = 0;
    std::int64_t withdrawals_minor = 0;
    std::int64_t expected_minor = 0;  // float + sales - refunds - withdrawals
    std::int64_t counted_minor = 0;
    std::int64_t difference_minor = 0;  // counted - expected: > 0 surplus, < 0 shortage
};

Result<CashCount> reconcile_cash(Tx& tx, const CashCountRequest& request);

struct CashCountFilter {
    std::optional<std::string> date_from, date_to, register_id;
};
/// Stored counts ordered by business date, register.
Result<std::vector<CashCount>> cash_counts(Tx& tx, const CashCountFilter& filter);

std::string cash_count_text(const CashCount& c);
boost::json::value cash_count_json(const CashCount& c);
std::optional<CashCount> cash_count_from_json(std::int64_t seq, std::string_view body);

}  // namespace pb::ledger
