#pragma once
// Bank settlement matching (issue 4, design.md §5): import the acquirer's settlement file and
// match each deposit to day-close batches by issuer and date.
//
// Settlement CSV (UTF-8, comma-separated, RFC 4180 quotes allowed, one header line naming the
// columns in any order; extra columns are ignored):
//   payout_date      YYYY-MM-DD, the day the money reached the bank
//   issuer           issuer id or name, or card brand ("visa", "Mastercard", "amex", ...)
//   gross            decimal with '.', at most 2 decimals: the batch amount the acquirer settles
//   fees             decimal: the acquirer's fees
//   net              decimal: gross - fees, what was paid out (checked)
//   batch_reference  the acquirer's / terminal's batch reference (may be empty)
// A bad row is reported as "line L, column C (name): what is wrong"; the import stores nothing
// when any row is bad. An import is one "settlement.imported" event; the same file content
// twice is refused.
//
// Matching (deterministic): batch items are the (day-close, issuer) lines with a non-zero
// amount -- the terminal's amount where it reported one, else the ledger's. Deposits are taken
// by payout date, then file order. A deposit with a batch reference matches the open items with
// that reference and issuer. Otherwise it matches the open items of its issuer on the earliest
// business date within `max_lag_days` before the payout date whose sum equals the gross
// amount (all terminals of that date), or else a single open item with exactly that amount.
// Anything left is listed as unmatched on its side.

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger/day_close.hpp"
#include "ledger/ledger.hpp"

namespace pb::ledger {

struct Deposit {
    std::int64_t import_seq = 0;  // the import event
    int line = 0;                 // line in the imported file
    std::string payout_date;
    std::string issuer;  // as written in the file
    std::string issuer_id;  // mapped through the issuer configuration
    std::int64_t gross_minor = 0, fees_minor = 0, net_minor = 0;
    std::string batch_reference;
};

/// Parses a settlement CSV. Errors name line and column.
Result<std::vector<Deposit>> parse_settlement_csv(std::string_view text);

struct SettlementImport {
    std::int64_t seq = 0;
    std::string source_name;
    std::string content_sha256;
    std::vector<Deposit> deposits;
};

/// Parses and stores an import (inside a write). invalid_argument for bad rows, key_conflict if
/// the same content was imported before.
Result<SettlementImport> import_settlement(Tx& tx, std::string_view csv_text, std::string_view source_name);
Result<std::vector<SettlementImport>> settlement_imports(Tx& tx);

struct BatchItem {
    std::int64_t close_seq = 0;
    std::string terminal_id, register_id, business_date, issuer_id, batch_reference;
    std::int64_t amount_minor = 0;
};

struct Match {
    Deposit deposit;
    std::vector<BatchItem> items;
    std::string rule;  // "batch_reference", "issuer_date_total", "single_batch"
    std::int64_t difference_minor = 0;  // gross - sum(items); non-zero only for batch_reference
};

struct SettlementMatch {
    std::vector<Match> matched;
    std::vector<Deposit> unmatched_deposits;
    std::vector<BatchItem> unmatched_batches;
};

/// Pure matching of deposits against day-closes (see the rules above).
SettlementMatch match_settlement(std::vector<Deposit> deposits, const std::vector<DayClose>& closes,
                                 int max_lag_days = 7);
/// Everything imported against every day-close in [date_from, date_to] (business dates).
Result<SettlementMatch> match_settlements(Tx& tx, std::optional<std::string> date_from,
                                          std::optional<std::string> date_to, int max_lag_days = 7);

std::string settlement_match_text(const SettlementMatch& m);
boost::json::value settlement_match_json(const SettlementMatch& m);

}  // namespace pb::ledger
