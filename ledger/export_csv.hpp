#pragma once
// CSV export of the same vouchers the SIE 4 export writes (ledger/vouchers.hpp).
//
// UTF-8, comma-separated, one header line, '\n' line ends, RFC 4180 quoting (fields with a
// comma, quote or line break in double quotes, quotes doubled). One row per voucher row:
//   series        voucher series ("A")
//   voucher       voucher number in this export (1, 2, ...)
//   date          business date YYYY-MM-DD
//   account       account number
//   account_name  account name
//   amount        signed amount, 2 decimals, '.' (> 0 debit, < 0 credit)
//   debit         amount if > 0, else empty
//   credit        -amount if < 0, else empty
//   currency      ISO 4217 code
//   text          row text: issuer (origin marking) or what the row is
//   source        "dayclose" or "cashcount"
//   source_event  journal event of the day-close / cash count
//   register      register id
//   terminal      terminal id (empty for cash counts)
// Deterministic: the same vouchers give the same bytes.

#include <map>
#include <string>
#include <vector>

#include "ledger/vouchers.hpp"

namespace pb::ledger {

std::string export_csv(const std::vector<Voucher>& vouchers, const std::map<std::string, std::string>& account_names);
/// One CSV field, quoted when needed.
std::string csv_field(const std::string& s);

}  // namespace pb::ledger
