#include "ledger/export_csv.hpp"

#include "ledger/finance_common.hpp"

namespace pb::ledger {

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string export_csv(const std::vector<Voucher>& vouchers, const std::map<std::string, std::string>& names) {
    std::string out =
        "series,voucher,date,account,account_name,amount,debit,credit,currency,text,source,source_event,register,"
        "terminal\n";
    for (const auto& v : vouchers) {
        for (const auto& r : v.rows) {
            auto name = names.find(r.account);
            const std::vector<std::string> cells{
                v.series,
                std::to_string(v.number),
                v.date,
                r.account,
                name == names.end() ? std::string() : name->second,
                finance::format_minor(r.amount_minor),
                r.amount_minor > 0 ? finance::format_minor(r.amount_minor) : std::string(),
                r.amount_minor < 0 ? finance::format_minor(-r.amount_minor) : std::string(),
                v.currency,
                r.text,
                v.source,
                std::to_string(v.source_seq),
                v.register_id,
                v.terminal_id};
            for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + csv_field(cells[i]);
            out += "\n";
        }
    }
    return out;
}

}  // namespace pb::ledger
