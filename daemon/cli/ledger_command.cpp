// `paybridge history | interim list | day-close | export sie|csv`: the finance questions of
// issue 4 against a ledger file. Human tables by default, --json for scripts.
// Exit status 0 = done, 1 = refused (e.g. the day is already closed), 2 = cannot open / bad input.
// (`paybridge ledger verify` lives in ledger_verify_command.cpp.)
#include <CLI/CLI.hpp>

#include <boost/json.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/cli/command.hpp"
#include "ledger/day_close.hpp"
#include "ledger/export_csv.hpp"
#include "ledger/export_sie.hpp"
#include "ledger/finance_common.hpp"
#include "ledger/ledger.hpp"
#include "ledger/reconcile.hpp"
#include "ledger/vouchers.hpp"

namespace pb::cli {
namespace {
namespace json = boost::json;
using namespace pb::ledger;

std::unique_ptr<Ledger> open_ledger(const std::string& db) {
    Options o;
    o.storage = Storage::file;
    o.path = db;
    auto l = Ledger::open(o);
    if (!l) throw Failure{2, "cannot open ledger " + db + ": " + l.error().message};
    return std::move(*l);
}

[[noreturn]] void fail(const Error& e) {
    const int code = e.code == Errc::invalid_transition || e.code == Errc::permission_denied ? 1 : 2;
    throw Failure{code, std::string(errc_id(e.code)) + ": " + e.message};
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Failure{2, "cannot read " + path};
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

json::object payment_json(const Payment& p) {
    return json::object{{"id", p.id.value},
                        {"order", p.request.order_id},
                        {"state", state_id(p.state)},
                        {"tender", tender_id(p.request.tender)},
                        {"amount", finance::format_minor(p.request.amount.minor)},
                        {"currency", p.request.amount.currency.code()},
                        {"register", p.request.register_id},
                        {"terminal", p.request.terminal_id},
                        {"operator", p.request.operator_id},
                        {"issuer", p.issuer_id},
                        {"business_date", p.request.business_date},
                        {"reason", p.reason}};
}

void print_payments(const std::vector<Payment>& ps, bool as_json) {
    if (as_json) {
        json::array a;
        for (const auto& p : ps) a.push_back(payment_json(p));
        std::cout << json::serialize(a) << "\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : ps)
        rows.push_back({std::to_string(p.id.value), p.request.business_date, p.request.order_id,
                        std::string(state_id(p.state)), std::string(tender_id(p.request.tender)),
                        finance::format_minor(p.request.amount.minor), p.request.register_id, p.request.terminal_id,
                        p.issuer_id, p.reason});
    std::cout << finance::table({"id", "date", "order", "state", "tender", "amount", "register", "terminal", "issuer",
                                 "reason"},
                                rows, {true, false, false, false, false, true, false, false, false, false});
}

struct HistoryOptions {
    std::string db, from, to, order, register_id, terminal, operator_id, issuer, state;
    bool json = false;
};

void run_history(const HistoryOptions& o) {
    HistoryFilter f;
    auto set = [](std::optional<std::string>& dst, const std::string& v) {
        if (!v.empty()) dst = v;
    };
    set(f.date_from, o.from);
    set(f.date_to, o.to);
    set(f.order_id, o.order);
    set(f.register_id, o.register_id);
    set(f.terminal_id, o.terminal);
    set(f.operator_id, o.operator_id);
    set(f.issuer_id, o.issuer);
    if (!o.state.empty()) {
        f.state = state_from_id(o.state);
        if (!f.state) throw Failure{2, "unknown state '" + o.state + "'"};
    }
    auto l = open_ledger(o.db);
    auto ps = l->reader()->history(f);
    if (!ps) fail(ps.error());
    print_payments(*ps, o.json);
}

struct DayCloseOptions {
    std::string db, register_id, terminal, date, operator_id, totals_file, currency = "SEK";
    bool no_terminal_totals = false;
    bool json = false;
};

void run_day_close(const DayCloseOptions& o) {
    DayCloseRequest r;
    r.register_id = o.register_id;
    r.terminal_id = o.terminal;
    r.business_date = o.date;
    r.operator_id = o.operator_id;
    r.currency = o.currency;
    if (!o.totals_file.empty()) {
        auto t = terminal_totals_from_json(read_file(o.totals_file), &r.batch_reference);
        if (!t) fail(t.error());
        r.terminal_totals = std::move(*t);
    } else if (!o.no_terminal_totals) {
        throw Failure{2, "give the terminal's totals with --totals FILE, or --no-terminal-totals"};
    }
    auto l = open_ledger(o.db);
    auto c = l->run<DayClose>([&](Tx& tx) { return close_day(tx, r); });
    if (!c) fail(c.error());
    if (o.json)
        std::cout << json::serialize(z_report_json(*c)) << "\n";
    else
        std::cout << z_report_text(*c);
    if (c->differs) std::cerr << "warning: terminal and ledger totals differ\n";
}

struct ExportOptions {
    std::string db, from, to, out, company = "Paybridge", org_number;
};

void run_export(const ExportOptions& o, bool sie) {
    auto l = open_ledger(o.db);
    DayCloseFilter df;
    CashCountFilter cf;
    if (!o.from.empty()) df.date_from = cf.date_from = o.from;
    if (!o.to.empty()) df.date_to = cf.date_to = o.to;
    auto closes = l->run<std::vector<DayClose>>([&](Tx& tx) { return day_closes(tx, df); });
    if (!closes) fail(closes.error());
    auto counts = l->run<std::vector<CashCount>>([&](Tx& tx) { return cash_counts(tx, cf); });
    if (!counts) fail(counts.error());
    const AccountPlan plan;
    const auto vouchers = build_vouchers(*closes, *counts, plan);
    const auto names = account_names(vouchers, plan, *closes);
    std::string bytes;
    if (sie) {
        SieOptions so;
        so.company_name = o.company;
        so.org_number = o.org_number;
        bytes = export_sie4(vouchers, names, so);
    } else {
        bytes = export_csv(vouchers, names);
    }
    if (o.out.empty() || o.out == "-") {
        std::cout << bytes;
    } else {
        std::ofstream f(o.out, std::ios::binary | std::ios::trunc);
        f << bytes;
        if (!f.flush()) throw Failure{2, "cannot write " + o.out};
        std::cerr << vouchers.size() << " vouchers written to " << o.out << "\n";
    }
}

void register_finance(CLI::App& app) {
    {
        auto o = std::make_shared<HistoryOptions>();
        auto* c = app.add_subcommand("history", "payments from the ledger, filtered");
        c->add_option("--db", o->db, "ledger database file")->required();
        c->add_option("--from", o->from, "first business date YYYY-MM-DD");
        c->add_option("--to", o->to, "last business date YYYY-MM-DD");
        c->add_option("--order", o->order, "order id");
        c->add_option("--register", o->register_id, "register id");
        c->add_option("--terminal", o->terminal, "terminal id");
        c->add_option("--operator", o->operator_id, "operator id");
        c->add_option("--issuer", o->issuer, "issuer id");
        c->add_option("--state", o->state, "payment state (approved, aborted, ...)");
        c->add_flag("--json", o->json, "machine-readable output");
        c->callback([o] { run_history(*o); });
    }
    {
        auto o = std::make_shared<HistoryOptions>();
        auto* interim = app.add_subcommand("interim", "the interim account (aborted / unknown payments)");
        interim->require_subcommand(1);
        auto* list = interim->add_subcommand("list", "every payment in the interim account, oldest first");
        list->add_option("--db", o->db, "ledger database file")->required();
        list->add_flag("--json", o->json, "machine-readable output");
        list->callback([o] {
            auto l = open_ledger(o->db);
            auto ps = l->reader()->interim();
            if (!ps) fail(ps.error());
            print_payments(*ps, o->json);
        });
    }
    {
        auto o = std::make_shared<DayCloseOptions>();
        auto* c = app.add_subcommand("day-close", "close a terminal's business day and print the Z-report");
        c->add_option("--db", o->db, "ledger database file")->required();
        c->add_option("--register", o->register_id, "register id")->required();
        c->add_option("--terminal", o->terminal, "terminal id")->required();
        c->add_option("--date", o->date, "business date YYYY-MM-DD")->required();
        c->add_option("--operator", o->operator_id, "who closes (needs close_day)")->required();
        c->add_option("--totals", o->totals_file,
                      "terminal end-of-day totals JSON: [{\"issuer\":\"visa\",\"count\":2,\"amount\":\"150.00\"}]");
        c->add_flag("--no-terminal-totals", o->no_terminal_totals, "the terminal gave no totals: compare nothing");
        c->add_option("--currency", o->currency, "ISO 4217 code");
        c->add_flag("--json", o->json, "machine-readable output");
        c->callback([o] { run_day_close(*o); });
    }
    {
        auto o = std::make_shared<ExportOptions>();
        auto* e = app.add_subcommand("export", "accounting export of day-closes and cash counts");
        e->require_subcommand(1);
        for (const bool sie : {true, false}) {
            auto* c = e->add_subcommand(sie ? "sie" : "csv", sie ? "SIE 4 (PC8, #KSUMMA)" : "CSV, one row per voucher row");
            c->add_option("--db", o->db, "ledger database file")->required();
            c->add_option("--from", o->from, "first business date YYYY-MM-DD");
            c->add_option("--to", o->to, "last business date YYYY-MM-DD");
            c->add_option("--out", o->out, "output file (default stdout)");
            if (sie) {
                c->add_option("--company", o->company, "#FNAMN company name");
                c->add_option("--org-number", o->org_number, "#ORGNR");
            }
            c->callback([o, sie] { run_export(*o, sie); });
        }
    }
}

const Registrar registrar{61, register_finance};

}  // namespace
}  // namespace pb::cli
