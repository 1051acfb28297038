// Settlement import (CSV with line:column errors) and matching deposits to day-close batches.
#include "ledger/settlement.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <tuple>

#include "ledger/finance_common.hpp"
#include "ledger/sha256.hpp"
#include "ledger/store.hpp"

namespace pb::ledger {
namespace json = boost::json;
using detail::guarded;
using finance::format_minor;
using finance::jint;
using finance::jstr;

namespace {

Error err(Errc c, std::string m) { return Error{c, std::move(m)}; }

struct Cell {
    std::string text;
    int column = 1;  // 1-based character column where the field starts
};

// One CSV line into cells; quoted fields may hold commas and doubled quotes.
std::optional<std::string> split_line(std::string_view line, std::vector<Cell>& cells) {
    cells.clear();
    std::size_t i = 0;
    for (;;) {
        Cell c;
        c.column = static_cast<int>(i) + 1;
        if (i < line.size() && line[i] == '"') {
            ++i;
            for (;;) {
                if (i >= line.size()) return "column " + std::to_string(c.column) + ": unterminated quote";
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        c.text += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                c.text += line[i++];
            }
            if (i < line.size() && line[i] != ',')
                return "column " + std::to_string(i + 1) + ": text after a closing quote";
        } else {
            while (i < line.size() && line[i] != ',') c.text += line[i++];
        }
        cells.push_back(std::move(c));
        if (i >= line.size()) return std::nullopt;
        ++i;  // the comma
    }
}

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t");
    return s.substr(b, e - b + 1);
}

constexpr std::array<std::string_view, 6> kColumns{"payout_date", "issuer", "gross", "fees", "net", "batch_reference"};

json::object deposit_json(const Deposit& d) {
    json::object o;
    o["import"] = d.import_seq;
    o["line"] = d.line;
    o["payout_date"] = d.payout_date;
    o["issuer"] = d.issuer;
    o["issuer_id"] = d.issuer_id;
    o["gross_minor"] = d.gross_minor;
    o["fees_minor"] = d.fees_minor;
    o["net_minor"] = d.net_minor;
    o["gross"] = format_minor(d.gross_minor);
    o["net"] = format_minor(d.net_minor);
    o["batch_reference"] = d.batch_reference;
    return o;
}

Deposit deposit_from(const json::object& o, std::int64_t seq) {
    Deposit d;
    d.import_seq = seq;
    d.line = static_cast<int>(jint(o, "line"));
    d.payout_date = jstr(o, "payout_date");
    d.issuer = jstr(o, "issuer");
    d.issuer_id = jstr(o, "issuer_id");
    d.gross_minor = jint(o, "gross_minor");
    d.fees_minor = jint(o, "fees_minor");
    d.net_minor = jint(o, "net_minor");
    d.batch_reference = jstr(o, "batch_reference");
    return d;
}

json::object item_json(const BatchItem& b) {
    json::object o;
    o["close_event"] = b.close_seq;
    o["terminal"] = b.terminal_id;
    o["register"] = b.register_id;
    o["business_date"] = b.business_date;
    o["issuer"] = b.issuer_id;
    o["batch_reference"] = b.batch_reference;
    o["amount_minor"] = b.amount_minor;
    o["amount"] = format_minor(b.amount_minor);
    return o;
}

}  // namespace

Result<std::vector<Deposit>> parse_settlement_csv(std::string_view text) {
    auto bad = [](int line, int column, std::string_view name, std::string what) {
        std::string where = "settlement file line " + std::to_string(line) + ", column " + std::to_string(column);
        if (!name.empty()) where += " (" + std::string(name) + ")";
        return pb::unexpected(err(Errc::invalid_argument, where + ": " + what));
    };
    std::vector<Deposit> out;
    std::array<int, kColumns.size()> index{};
    index.fill(-1);
    bool header = false;
    int line_no = 0;
    std::vector<Cell> cells;
    std::size_t pos = 0;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;  // UTF-8 BOM from spreadsheet programs
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (trim(std::string(line)).empty()) continue;
        if (auto e = split_line(line, cells)) {
            const auto colon = e->find(':');
            return bad(line_no, std::stoi(e->substr(7, colon - 7)), "", e->substr(colon + 2));
        }
        if (!header) {
            for (std::size_t c = 0; c < cells.size(); ++c) {
                const std::string name = trim(cells[c].text);
                for (std::size_t k = 0; k < kColumns.size(); ++k)
                    if (name == kColumns[k]) index[k] = static_cast<int>(c);
            }
            for (std::size_t k = 0; k < kColumns.size(); ++k)
                if (index[k] < 0)
                    return bad(line_no, 1, "", "header lacks column '" + std::string(kColumns[k]) +
                                                   "' (needs payout_date,issuer,gross,fees,net,batch_reference)");
            header = true;
            continue;
        }
        auto cell = [&](std::size_t k) -> const Cell* {
            const auto c = static_cast<std::size_t>(index[k]);
            return c < cells.size() ? &cells[c] : nullptr;
        };
        for (std::size_t k = 0; k < kColumns.size(); ++k)
            if (!cell(k))
                return bad(line_no, static_cast<int>(line.size()) + 1, kColumns[k],
                           "missing (row has " + std::to_string(cells.size()) + " fields)");
        Deposit d;
        d.line = line_no;
        d.payout_date = trim(cell(0)->text);
        if (!finance::valid_date(d.payout_date))
            return bad(line_no, cell(0)->column, kColumns[0], "'" + d.payout_date + "' is not a date YYYY-MM-DD");
        d.issuer = trim(cell(1)->text);
        if (d.issuer.empty()) return bad(line_no, cell(1)->column, kColumns[1], "empty");
        std::int64_t* amounts[] = {&d.gross_minor, &d.fees_minor, &d.net_minor};
        for (std::size_t k = 2; k <= 4; ++k) {
            const std::string t = trim(cell(k)->text);
            auto v = finance::parse_minor(t);
            if (!v)
                return bad(line_no, cell(k)->column, kColumns[k],
                           "'" + t + "' is not an amount like 1234.50 (use '.' and at most 2 decimals)");
            *amounts[k - 2] = *v;
        }
        if (d.gross_minor - d.fees_minor != d.net_minor)
            return bad(line_no, cell(4)->column, kColumns[4],
                       "net " + format_minor(d.net_minor) + " is not gross " + format_minor(d.gross_minor) +
                           " - fees " + format_minor(d.fees_minor));
        d.batch_reference = trim(cell(5)->text);
        out.push_back(std::move(d));
    }
    if (!header) return bad(1, 1, "", "empty file: expected a header line");
    return out;
}

Result<SettlementImport> import_settlement(Tx& tx, std::string_view csv_text, std::string_view source_name) {
    return guarded([&]() -> Result<SettlementImport> {
        auto deposits = parse_settlement_csv(csv_text);
        if (!deposits) return pb::unexpected(deposits.error());
        auto cfg = tx.issuers();
        if (!cfg) return pb::unexpected(cfg.error());
        detail::Sha256 h;
        h.update(csv_text);
        const auto digest = h.finish();
        SettlementImport imp;
        imp.source_name = std::string(source_name);
        imp.content_sha256 = detail::hex(digest.data(), digest.size());
        const std::string subject = "settlement/" + imp.content_sha256;
        if (const auto prev = finance::last_seq_of(tx.store(), subject); prev != 0)
            return pb::unexpected(err(Errc::key_conflict, "this settlement file was already imported (event " +
                                                              std::to_string(prev) + ")"));
        json::array rows;
        for (auto& d : *deposits) {
            d.issuer_id = finance::issuer_for_name(*cfg, d.issuer);
            rows.push_back(deposit_json(d));
        }
        json::object body{{"source", imp.source_name}, {"sha256", imp.content_sha256}, {"deposits", std::move(rows)}};
        auto seq = tx.append_event("settlement.imported", subject, json::serialize(body));
        if (!seq) return pb::unexpected(seq.error());
        imp.seq = *seq;
        for (auto& d : *deposits) d.import_seq = imp.seq;
        imp.deposits = std::move(*deposits);
        return imp;
    });
}

Result<std::vector<SettlementImport>> settlement_imports(Tx& tx) {
    return guarded([&]() -> Result<std::vector<SettlementImport>> {
        std::vector<SettlementImport> out;
        for (const auto& e : finance::events_with_prefix(tx.store(), "settlement/")) {
            if (e.kind != "settlement.imported") continue;
            boost::system::error_code ec;
            json::value v = json::parse(e.body, ec);
            if (ec || !v.is_object()) return pb::unexpected(err(Errc::storage, "settlement event malformed"));
            const auto& o = v.get_object();
            SettlementImport imp{e.seq, jstr(o, "source"), jstr(o, "sha256"), {}};
            if (auto* ds = o.if_contains("deposits"); ds && ds->is_array())
                for (const auto& d : ds->get_array())
                    if (d.is_object()) imp.deposits.push_back(deposit_from(d.get_object(), e.seq));
            out.push_back(std::move(imp));
        }
        return out;
    });
}

SettlementMatch match_settlement(std::vector<Deposit> deposits, const std::vector<DayClose>& closes, int max_lag_days) {
    std::vector<BatchItem> items;
    for (const auto& c : closes)
        for (const auto& l : c.lines) {
            const std::int64_t amount = l.terminal_amount ? *l.terminal_amount : l.ledger_amount;
            if (amount == 0) continue;
            items.push_back(BatchItem{c.seq, c.terminal_id, c.register_id, c.business_date, l.issuer_id,
                                      c.batch_reference, amount});
        }
    std::stable_sort(items.begin(), items.end(), [](const BatchItem& a, const BatchItem& b) {
        return std::tie(a.business_date, a.terminal_id, a.issuer_id, a.close_seq) <
               std::tie(b.business_date, b.terminal_id, b.issuer_id, b.close_seq);
    });
    std::vector<bool> used(items.size(), false);
    std::stable_sort(deposits.begin(), deposits.end(), [](const Deposit& a, const Deposit& b) {
        return std::tie(a.payout_date, a.import_seq, a.line) < std::tie(b.payout_date, b.import_seq, b.line);
    });
    SettlementMatch out;
    for (const auto& d : deposits) {
        const std::int64_t payout = finance::days_from_date(d.payout_date);
        auto in_window = [&](const BatchItem& b) {
            const std::int64_t day = finance::days_from_date(b.business_date);
            return b.issuer_id == d.issuer_id && !b.business_date.empty() && day <= payout &&
                   payout - day <= max_lag_days;
        };
        auto take = [&](const std::vector<std::size_t>& idx, std::string rule) {
            Match m{d, {}, std::move(rule), d.gross_minor};
            for (auto i : idx) {
                used[i] = true;
                m.items.push_back(items[i]);
                m.difference_minor -= items[i].amount_minor;
            }
            out.matched.push_back(std::move(m));
        };
        if (!d.batch_reference.empty()) {
            std::vector<std::size_t> idx;
            for (std::size_t i = 0; i < items.size(); ++i)
                if (!used[i] && items[i].issuer_id == d.issuer_id && items[i].batch_reference == d.batch_reference)
                    idx.push_back(i);
            if (!idx.empty()) {
                take(idx, "batch_reference");
                continue;
            }
        }
        // Open items of the issuer per business date, earliest first.
        std::map<std::string, std::vector<std::size_t>> by_date;
        for (std::size_t i = 0; i < items.size(); ++i)
            if (!used[i] && in_window(items[i])) by_date[items[i].business_date].push_back(i);
        bool done = false;
        for (const auto& [date, idx] : by_date) {
            std::int64_t sum = 0;
            for (auto i : idx) sum += items[i].amount_minor;
            if (sum == d.gross_minor) {
                take(idx, "issuer_date_total");
                done = true;
                break;
            }
        }
        if (done) continue;
        for (const auto& [date, idx] : by_date) {
            for (auto i : idx)
                if (items[i].amount_minor == d.gross_minor) {
                    take({i}, "single_batch");
                    done = true;
                    break;
                }
            if (done) break;
        }
        if (!done) out.unmatched_deposits.push_back(d);
    }
    for (std::size_t i = 0; i < items.size(); ++i)
        if (!used[i]) out.unmatched_batches.push_back(items[i]);
    return out;
}

Result<SettlementMatch> match_settlements(Tx& tx, std::optional<std::string> date_from,
                                          std::optional<std::string> date_to, int max_lag_days) {
    auto imports = settlement_imports(tx);
    if (!imports) return pb::unexpected(imports.error());
    DayCloseFilter f;
    f.date_from = std::move(date_from);
    f.date_to = std::move(date_to);
    auto closes = day_closes(tx, f);
    if (!closes) return pb::unexpected(closes.error());
    std::vector<Deposit> deposits;
    for (const auto& imp : *imports) deposits.insert(deposits.end(), imp.deposits.begin(), imp.deposits.end());
    return match_settlement(std::move(deposits), *closes, max_lag_days);
}

json::value settlement_match_json(const SettlementMatch& m) {
    json::array matched, ud, ub;
    for (const auto& x : m.matched) {
        json::array items;
        for (const auto& b : x.items) items.push_back(item_json(b));
        matched.push_back(json::object{{"deposit", deposit_json(x.deposit)},
                                       {"rule", x.rule},
                                       {"difference_minor", x.difference_minor},
                                       {"batches", std::move(items)}});
    }
    for (const auto& d : m.unmatched_deposits) ud.push_back(deposit_json(d));
    for (const auto& b : m.unmatched_batches) ub.push_back(item_json(b));
    return json::object{{"matched", std::move(matched)}, {"unmatched_deposits", std::move(ud)},
                        {"unmatched_batches", std::move(ub)}};
}

std::string settlement_match_text(const SettlementMatch& m) {
    std::string out = "MATCHED (" + std::to_string(m.matched.size()) + ")\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& x : m.matched) {
        std::string batches;
        for (const auto& b : x.items) batches += (batches.empty() ? "" : " ") + b.terminal_id + "@" + b.business_date;
        rows.push_back({x.deposit.payout_date, x.deposit.issuer_id, format_minor(x.deposit.gross_minor),
                        format_minor(x.deposit.net_minor), x.rule, format_minor(x.difference_minor), batches});
    }
    out += finance::table({"payout", "issuer", "gross", "net", "rule", "difference", "batches"}, rows,
                          {false, false, true, true, false, true, false});
    out += "\nUNMATCHED DEPOSITS (" + std::to_string(m.unmatched_deposits.size()) + ")\n";
    rows.clear();
    for (const auto& d : m.unmatched_deposits)
        rows.push_back({d.payout_date, d.issuer, format_minor(d.gross_minor), d.batch_reference,
                        "import " + std::to_string(d.import_seq) + " line " + std::to_string(d.line)});
    out += finance::table({"payout", "issuer", "gross", "batch ref", "source"}, rows, {false, false, true, false, false});
    out += "\nUNMATCHED DAY-CLOSE BATCHES (" + std::to_string(m.unmatched_batches.size()) + ")\n";
    rows.clear();
    for (const auto& b : m.unmatched_batches)
        rows.push_back({b.business_date, b.terminal_id, b.issuer_id, format_minor(b.amount_minor), b.batch_reference});
    out += finance::table({"date", "terminal", "issuer", "amount", "batch ref"}, rows, {false, false, false, true, false});
    return out;
}

}  // namespace pb::ledger
