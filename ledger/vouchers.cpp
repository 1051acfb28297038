#include "ledger/vouchers.hpp"

#include <algorithm>
#include <tuple>

namespace pb::ledger {

std::vector<Voucher> build_vouchers(const std::vector<DayClose>& closes, const std::vector<CashCount>& counts,
                                    const AccountPlan& plan, const std::string& series) {
    std::vector<Voucher> out;
    for (const auto& c : closes) {
        Voucher v;
        v.series = series;
        v.date = c.business_date;
        v.text = "Dagsavslut " + c.terminal_id + " kassa " + c.register_id + " " + c.business_date;
        v.source = "dayclose";
        v.source_seq = c.seq;
        v.register_id = c.register_id;
        v.terminal_id = c.terminal_id;
        v.currency = c.currency;
        std::int64_t total = 0;
        for (const auto& l : c.lines) {
            const std::string account = l.account.empty() ? plan.card_difference_account : l.account;
            const std::string name = l.issuer_name.empty() ? l.issuer_id : l.issuer_name;
            if (l.ledger_amount != 0) v.rows.push_back({account, l.ledger_amount, name});
            total += l.ledger_amount;
            if (l.terminal_amount && *l.terminal_amount != l.ledger_amount) {
                const std::int64_t diff = *l.terminal_amount - l.ledger_amount;
                v.rows.push_back({account, diff, name + " terminaldifferens"});
                v.rows.push_back({plan.card_difference_account, -diff, name + " terminaldifferens"});
            }
        }
        if (total != 0) v.rows.push_back({plan.clearing_account, -total, "Kortbetalningar " + c.terminal_id});
        std::int64_t benefit_total = 0;
        for (const auto& b : c.benefit) {
            if (b.amount != 0) v.rows.push_back({plan.benefit_account, b.amount, "Friskvård " + b.provider_id});
            benefit_total += b.amount;
        }
        if (benefit_total != 0) v.rows.push_back({plan.clearing_account, -benefit_total, "Friskvårdsbetalningar kassa " + c.register_id});
        std::int64_t commitment_total = 0;
        for (const auto& l : c.commitment) {
            if (l.amount != 0) v.rows.push_back({plan.commitment_account, l.amount, "Betalningsförbindelse " + l.billing_reference});
            commitment_total += l.amount;
        }
        if (commitment_total != 0)
            v.rows.push_back({plan.clearing_account, -commitment_total, "Betalningsförbindelser kassa " + c.register_id});
        if (!v.rows.empty()) out.push_back(std::move(v));
    }
    for (const auto& c : counts) {
        Voucher v;
        v.series = series;
        v.date = c.business_date;
        v.text = "Kassaavstämning kassa " + c.register_id + " " + c.business_date;
        v.source = "cashcount";
        v.source_seq = c.seq;
        v.register_id = c.register_id;
        v.currency = c.currency;
        const std::int64_t net = c.sales_minor - c.refunds_minor;
        if (net != 0) {
            v.rows.push_back({plan.cash_account, net, "Kontantförsäljning"});
            v.rows.push_back({plan.clearing_account, -net, "Kontantförsäljning"});
        }
        if (c.withdrawals_minor != 0) {
            v.rows.push_back({plan.withdrawal_account, c.withdrawals_minor, "Uttag ur kassa"});
            v.rows.push_back({plan.cash_account, -c.withdrawals_minor, "Uttag ur kassa"});
        }
        if (c.difference_minor != 0) {
            v.rows.push_back({plan.cash_account, c.difference_minor, "Kassadifferens"});
            v.rows.push_back({c.difference_account, -c.difference_minor, "Kassadifferens"});
        }
        if (!v.rows.empty()) out.push_back(std::move(v));
    }
    std::stable_sort(out.begin(), out.end(), [](const Voucher& a, const Voucher& b) {
        const int ka = a.source == "dayclose" ? 0 : 1;
        const int kb = b.source == "dayclose" ? 0 : 1;
        return std::tie(a.date, ka, a.register_id, a.terminal_id, a.source_seq) <
               std::tie(b.date, kb, b.register_id, b.terminal_id, b.source_seq);
    });
    int n = 0;
    for (auto& v : out) v.number = ++n;
    return out;
}

std::map<std::string, std::string> account_names(const std::vector<Voucher>& vouchers, const AccountPlan& plan,
                                                 const std::vector<DayClose>& closes) {
    std::map<std::string, std::string> out;
    for (const auto& v : vouchers)
        for (const auto& r : v.rows) {
            if (out.count(r.account)) continue;
            std::string name;
            if (auto it = plan.names.find(r.account); it != plan.names.end()) name = it->second;
            for (const auto& c : closes)
                for (const auto& l : c.lines)
                    if (name.empty() && l.account == r.account) name = "Fordran " + l.issuer_name;
            out[r.account] = name.empty() ? "Konto " + r.account : name;
        }
    return out;
}

}  // namespace pb::ledger
