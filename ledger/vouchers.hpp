#pragma once
// The bookkeeping of day-closes and cash counts as balanced vouchers: the one model both the
// SIE 4 and the CSV export write, so the two always agree.
//
// Day-close voucher (date = business date), per issuer line:
//   debit the issuer's receivable account with the ledger's net takings (origin marking per
//   issuer), one credit of the clearing account with the batch total; when the terminal
//   reported a different amount, the difference moves between the issuer's account and the
//   card difference account, so the receivable equals what the acquirer will pay.
// Benefit vouchers of a day-close (per provider) debit the benefit account against the
// clearing account in the same voucher, one row per provider; commitment-card payments (per
// billing reference) likewise the commitment account.
// Cash-count voucher: cash account +(sales - refunds) against clearing; withdrawals from cash
// to the withdrawal account; the counted difference against the count's difference account.
// Amounts are signed minor units: > 0 debit, < 0 credit. Every voucher sums to zero.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ledger/day_close.hpp"
#include "ledger/reconcile.hpp"

namespace pb::ledger {

struct AccountPlan {
    std::string clearing_account = "1510";         // what the card/cash takings settle (ERP receivable)
    std::string cash_account = "1910";             // the till
    std::string withdrawal_account = "1930";       // where cash taken out goes (bank)
    std::string card_difference_account = "3740"; // terminal vs ledger differences, cards without issuer
    std::string benefit_account = "1681";          // benefit vouchers: receivable from the benefit provider
    std::string commitment_account = "1518";       // commitment cards: invoiced to the organisation later
    /// Account names for #KONTO; issuers' accounts get their issuer's name when not listed here.
    std::map<std::string, std::string> names{{"1510", "Kundfordringar"},
                                             {"1580", "Fordringar för kontokort"},
                                             {"1518", "Ej reskontraförda kundfordringar"},
                                             {"1681", "Fordran friskvårdsförmåner"},
                                             {"1910", "Kassa"},
                                             {"1930", "Företagskonto"},
                                             {"3740", "Öres- och kronutjämning"}};
};

struct VoucherRow {
    std::string account;
    std::int64_t amount_minor = 0;  // > 0 debit, < 0 credit
    std::string text;               // issuer name (origin) or what the row is
};

struct Voucher {
    std::string series = "A";
    int number = 0;
    std::string date;  // "YYYY-MM-DD"
    std::string text;
    std::string source;  // "dayclose" | "cashcount"
    std::int64_t source_seq = 0;
    std::string register_id, terminal_id, currency;
    std::vector<VoucherRow> rows;
};

/// Vouchers for the given closes and counts, ordered by date, then day-closes before cash
/// counts, register, terminal; numbered from 1. Empty vouchers are left out.
std::vector<Voucher> build_vouchers(const std::vector<DayClose>& closes, const std::vector<CashCount>& counts,
                                    const AccountPlan& plan, const std::string& series = "A");
/// Account -> name for every account the vouchers use (plan names, else issuer names).
std::map<std::string, std::string> account_names(const std::vector<Voucher>& vouchers, const AccountPlan& plan,
                                                 const std::vector<DayClose>& closes);

}  // namespace pb::ledger
