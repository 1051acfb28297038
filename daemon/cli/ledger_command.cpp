// The finance command line of issue 4 against a ledger file:
//   history, interim list|resolve, day-close, reconcile, export sie|csv,
//   settlement import|match, operators list|add|grant
// (`paybridge ledger verify` lives in ledger_verify_command.cpp.)
// Every command takes --ledger PATH (alias --db); human tables by default, --json for scripts.
// Exit status: 0 done; 1 refused or failed (already closed, permission, not found, no such
// ledger, storage); 2 usage or bad input (bad date, amount, file content).
#include <CLI/CLI.hpp>

#include <boost/json.hpp>

#include <unistd.h>

#include <ctime>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/cli/command.hpp"
#include "daemon/cli/ledger_access.hpp"
#include "ledger/benefit.hpp"
#include "ledger/day_close.hpp"
#include "ledger/export_csv.hpp"
#include "ledger/export_sie.hpp"
#include "ledger/finance_common.hpp"
#include "ledger/ledger.hpp"
#include "ledger/reconcile.hpp"
#include "ledger/settlement.hpp"
#include "ledger/vouchers.hpp"

namespace pb::cli {
namespace {
namespace json = boost::json;
using namespace pb::ledger;

constexpr const char* kLedgerFlag = "--ledger,--db";

[[noreturn]] void usage(const std::string& what) { throw Failure{2, "usage: " + what}; }

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Failure{1, "cannot read " + path};
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::int64_t amount_arg(const std::string& name, const std::string& text) {
    auto v = finance::parse_minor(text);
    if (!v) usage(name + " '" + text + "' is not an amount like 1234.50");
    return *v;
}

void check_date(const std::string& name, const std::string& d) {
    if (!d.empty() && !finance::valid_date(d)) usage(name + " '" + d + "' is not a date YYYY-MM-DD");
}

/// A progress bar on stderr, only when stderr is a terminal (scripts and logs stay clean).
class Progress {
public:
    explicit Progress(std::string label) : label_(std::move(label)), on_(::isatty(STDERR_FILENO) == 1) {}
    ~Progress() {
        if (on_ && drawn_) std::cerr << "\n";
    }
    void update(std::size_t done, std::size_t total) {
        if (!on_ || total == 0) return;
        const std::size_t pct = done * 100 / total;
        if (drawn_ && pct == last_) return;
        last_ = pct;
        drawn_ = true;
        const std::size_t fill = pct * 30 / 100;
        std::cerr << "\r" << label_ << " [" << std::string(fill, '#') << std::string(30 - fill, '.') << "] " << pct
                  << "% " << done << "/" << total << std::flush;
    }

private:
    std::string label_;
    bool on_;
    bool drawn_ = false;
    std::size_t last_ = 0;
};

/// Writes `bytes` to `path` (or stdout for "" / "-") in chunks, with progress.
void write_output(const std::string& path, const std::string& bytes, const std::string& label) {
    if (path.empty() || path == "-") {
        std::cout << bytes << std::flush;
        return;
    }
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw Failure{1, "cannot write " + path};
    Progress bar(label);
    constexpr std::size_t kChunk = 64 * 1024;
    for (std::size_t off = 0; off < bytes.size(); off += kChunk) {
        f.write(bytes.data() + off, static_cast<std::streamsize>(std::min(kChunk, bytes.size() - off)));
        bar.update(std::min(off + kChunk, bytes.size()), bytes.size());
    }
    if (!f.flush()) throw Failure{1, "cannot write " + path};
}

json::object payment_json(const Payment& p) {
    json::object o{{"id", p.id.value},
                   {"order", p.request.order_id},
                   {"state", state_id(p.state)},
                   {"tender", tender_id(p.request.tender)},
                   {"amount", finance::format_minor(p.request.amount.minor)},
                   {"amount_minor", p.request.amount.minor},
                   {"currency", p.request.amount.currency.code()},
                   {"register", p.request.register_id},
                   {"terminal", p.request.terminal_id},
                   {"operator", p.request.operator_id},
                   {"receptionist", p.request.receptionist},
                   {"issuer", p.issuer_id},
                   {"masked_pan", p.terminal.pan.str()},
                   {"business_date", p.request.business_date},
                   {"created_utc_ms", p.created_utc_ms},
                   {"reason", p.reason},
                   {"reference", p.terminal.approval_code},
                   {"text", p.terminal.text}};
    if (p.resolution)
        o["resolution"] = json::object{{"how", resolution_id(p.resolution->how)},
                                       {"operator", p.resolution->operator_id},
                                       {"why", p.resolution->why}};
    return o;
}

void print_payments(const std::vector<Payment>& ps, bool as_json) {
    if (as_json) {
        json::array a;
        for (const auto& p : ps) a.push_back(payment_json(p));
        std::cout << json::serialize(a) << "\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : ps) {
        // Upstream tenders say what they were (voucher and provider, commitment) where a card
        // payment has its issuer; a reason (abort, unknown) wins.
        const bool upstream = p.request.tender != Tender::card && p.request.tender != Tender::cash;
        rows.push_back({std::to_string(p.id.value), p.request.business_date, p.request.order_id,
                        std::string(state_id(p.state)), std::string(tender_id(p.request.tender)),
                        finance::format_minor(p.request.amount.minor), p.request.register_id, p.request.terminal_id,
                        p.request.operator_id, p.issuer_id, p.terminal.approval_code,
                        p.reason.empty() && upstream ? p.terminal.text : p.reason});
    }
    std::cout << finance::table({"id", "date", "order", "state", "tender", "amount", "register", "terminal",
                                 "operator", "issuer", "reference", "reason"},
                                rows, {true, false, false, false, false, true, false, false, false, false, false, false});
    std::cout << ps.size() << " payment(s)\n";
}

// ---- history ---------------------------------------------------------------------------------

struct HistoryOptions {
    std::string db, from, to, order, register_id, terminal, operator_id, issuer, state, tender;
    std::size_t limit = 1000;
    bool json = false;
    bool today = false;  // --today: from = to = the machine's local date (TZ)
    bool stats = false;  // --stats: benefit statistics per business day and provider
};

std::string local_today() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

/// "benefit" / "commitment" as the ERP says it, or the ledger's tender ids.
std::optional<Tender> tender_arg(const std::string& t) {
    if (t == "benefit") return Tender::benefit_voucher;
    if (t == "commitment") return Tender::commitment_card;
    return tender_from_id(t);
}

/// The seed's "statistik": benefit purchases per day and provider, cancelled and credited.
void print_benefit_stats(const std::vector<BenefitStats>& rows, const HistoryOptions& o) {
    if (o.json) {
        json::array a;
        for (const auto& r : rows)
            a.push_back(json::object{{"business_date", r.business_date},
                                     {"provider", r.provider_id},
                                     {"currency", r.currency},
                                     {"count", r.count},
                                     {"amount", r.amount},
                                     {"cancelled", r.cancelled},
                                     {"cancelled_amount", r.cancelled_amount},
                                     {"credited", r.credited},
                                     {"credited_amount", r.credited_amount},
                                     {"net_amount", r.net_amount()}});
        std::cout << json::serialize(json::object{{"from", o.from}, {"to", o.to}, {"benefit", std::move(a)}}) << "\n";
        return;
    }
    std::vector<std::vector<std::string>> table_rows;
    for (const auto& r : rows)
        table_rows.push_back({r.business_date, r.provider_id, std::to_string(r.count), finance::format_minor(r.amount),
                              std::to_string(r.cancelled), finance::format_minor(r.cancelled_amount),
                              std::to_string(r.credited), finance::format_minor(r.credited_amount),
                              finance::format_minor(r.net_amount()), r.currency});
    std::cout << "Benefit purchases " << (o.from.empty() ? "(start)" : o.from) << " .. " << (o.to.empty() ? "(today)" : o.to)
              << "\n"
              << finance::table({"date", "provider", "count", "amount", "cancelled", "cancelled amount", "credited",
                                 "credited amount", "net", "currency"},
                                table_rows, {false, false, true, true, true, true, true, true, true, false});
}

void run_history(HistoryOptions o) {
    if (o.today) {
        if (!o.from.empty() || !o.to.empty()) usage("--today and --from/--to exclude each other");
        o.from = o.to = local_today();
    }
    check_date("--from", o.from);
    check_date("--to", o.to);
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
    f.limit = o.limit;
    if (!o.state.empty()) {
        f.state = state_from_id(o.state);
        if (!f.state) usage("--state '" + o.state + "' is not a payment state (requested, sent, approved, ...)");
    }
    if (!o.tender.empty()) {
        f.tender = tender_arg(o.tender);
        if (!f.tender) usage("--tender '" + o.tender + "' is not card, cash, commitment or benefit");
    }
    auto l = open_ledger(o.db);
    if (o.stats) {
        auto rows = l->run<std::vector<BenefitStats>>([&](Tx& tx) { return benefit_stats(tx, f.date_from, f.date_to); });
        if (!rows) fail(rows.error());
        return print_benefit_stats(*rows, o);
    }
    auto ps = l->reader()->history(f);
    if (!ps) fail(ps.error());
    print_payments(*ps, o.json);
}

// ---- interim ---------------------------------------------------------------------------------

struct ResolveOptions {
    std::string db, how, operator_id, why;
    std::int64_t id = 0;
    bool json = false;
};

void run_resolve(const ResolveOptions& o) {
    auto how = resolution_from_id(o.how);
    if (!how) usage("--how '" + o.how + "' is not paid_otherwise, retried, reversed or written_off");
    auto l = open_ledger(o.db);
    auto p = l->run<Payment>(
        [&](Tx& tx) { return tx.resolve(PaymentId{o.id}, Resolution{*how, o.operator_id, o.why}); });
    if (!p) fail(p.error());
    if (o.json)
        std::cout << json::serialize(payment_json(*p)) << "\n";
    else
        std::cout << "payment " << p->id.value << " (order " << p->request.order_id << ") resolved: " << o.how
                  << " by " << o.operator_id << "\n";
}

// ---- day-close -------------------------------------------------------------------------------

struct DayCloseOptions {
    std::string db, register_id, terminal, date, operator_id, totals_file, currency = "SEK";
    bool no_terminal_totals = false, show = false, json = false;
};

void print_close(const DayClose& c, bool as_json) {
    if (as_json)
        std::cout << json::serialize(z_report_json(c)) << "\n";
    else
        std::cout << z_report_text(c);
}

void run_day_close(const DayCloseOptions& o) {
    check_date("--date", o.date);
    if (o.show) {
        auto l = open_ledger(o.db);
        auto c = l->run<DayClose>([&](Tx& tx) { return day_close(tx, o.terminal, o.date); });
        if (!c) fail(c.error());
        print_close(*c, o.json);
        return;
    }
    if (o.register_id.empty() || o.operator_id.empty()) usage("day-close needs --register and --operator (or --show)");
    if (o.totals_file.empty() == !o.no_terminal_totals)
        usage("give the terminal's totals with --totals FILE, or --no-terminal-totals (one of them)");
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
    }
    auto l = open_ledger(o.db);
    auto c = l->run<DayClose>([&](Tx& tx) { return close_day(tx, r); });
    if (!c) fail(c.error());
    print_close(*c, o.json);
    if (c->differs) std::cerr << "warning: terminal and ledger totals differ\n";
}

// ---- reconcile -------------------------------------------------------------------------------

struct ReconcileOptions {
    std::string db, register_id, date, operator_id, float_amount = "0", withdrawals = "0", counted,
        difference_account = "3740", currency = "SEK";
    bool json = false;
};

void run_reconcile(const ReconcileOptions& o) {
    check_date("--date", o.date);
    CashCountRequest r;
    r.register_id = o.register_id;
    r.business_date = o.date;
    r.counted_by = o.operator_id;
    r.float_minor = amount_arg("--float", o.float_amount);
    r.withdrawals_minor = amount_arg("--withdrawals", o.withdrawals);
    r.counted_minor = amount_arg("--counted", o.counted);
    r.difference_account = o.difference_account;
    r.currency = o.currency;
    auto l = open_ledger(o.db);
    auto c = l->run<CashCount>([&](Tx& tx) { return reconcile_cash(tx, r); });
    if (!c) fail(c.error());
    if (o.json)
        std::cout << json::serialize(cash_count_json(*c)) << "\n";
    else
        std::cout << cash_count_text(*c);
}

// ---- export ----------------------------------------------------------------------------------

struct ExportOptions {
    std::string db, from, to, out, company = "Paybridge", org_number, generated, series = "A";
    AccountPlan plan;
};

void run_export(const ExportOptions& o, bool sie) {
    check_date("--from", o.from);
    check_date("--to", o.to);
    check_date("--generated", o.generated);
    auto l = open_ledger(o.db);
    Progress bar(sie ? "export sie" : "export csv");
    DayCloseFilter df;
    CashCountFilter cf;
    if (!o.from.empty()) df.date_from = cf.date_from = o.from;
    if (!o.to.empty()) df.date_to = cf.date_to = o.to;
    bar.update(0, 4);
    auto closes = l->run<std::vector<DayClose>>([&](Tx& tx) { return day_closes(tx, df); });
    if (!closes) fail(closes.error());
    bar.update(1, 4);
    auto counts = l->run<std::vector<CashCount>>([&](Tx& tx) { return cash_counts(tx, cf); });
    if (!counts) fail(counts.error());
    bar.update(2, 4);
    const auto vouchers = build_vouchers(*closes, *counts, o.plan, o.series);
    const auto names = account_names(vouchers, o.plan, *closes);
    std::string bytes;
    if (sie) {
        SieOptions so;
        so.company_name = o.company;
        so.org_number = o.org_number;
        so.generated_on = o.generated;
        bytes = export_sie4(vouchers, names, so);
    } else {
        bytes = export_csv(vouchers, names);
    }
    bar.update(3, 4);
    write_output(o.out, bytes, "write");
    bar.update(4, 4);
    if (!o.out.empty() && o.out != "-")
        std::cerr << vouchers.size() << " voucher(s) from " << closes->size() << " day-close(s) and " << counts->size()
                  << " cash count(s) written to " << o.out << "\n";
}

// ---- settlement ------------------------------------------------------------------------------

struct SettlementOptions {
    std::string db, file, from, to;
    int max_lag_days = 7;
    bool json = false;
};

void run_settlement_import(const SettlementOptions& o) {
    const std::string text = read_file(o.file);
    auto l = open_ledger(o.db);
    Progress bar("import");
    bar.update(0, 2);
    auto imp = l->run<SettlementImport>([&](Tx& tx) { return import_settlement(tx, text, o.file); });
    if (!imp) fail(imp.error());
    bar.update(2, 2);
    if (o.json) {
        json::array ds;
        for (const auto& d : imp->deposits)
            ds.push_back(json::object{{"line", d.line},
                                      {"payout_date", d.payout_date},
                                      {"issuer", d.issuer_id},
                                      {"gross_minor", d.gross_minor},
                                      {"fees_minor", d.fees_minor},
                                      {"net_minor", d.net_minor},
                                      {"batch_reference", d.batch_reference}});
        std::cout << json::serialize(json::object{{"event", imp->seq},
                                                  {"sha256", imp->content_sha256},
                                                  {"deposits", std::move(ds)}})
                  << "\n";
    } else {
        std::cout << imp->deposits.size() << " deposit(s) imported from " << o.file << " (event " << imp->seq << ")\n";
    }
}

void run_settlement_match(const SettlementOptions& o) {
    check_date("--from", o.from);
    check_date("--to", o.to);
    auto l = open_ledger(o.db);
    std::optional<std::string> from, to;
    if (!o.from.empty()) from = o.from;
    if (!o.to.empty()) to = o.to;
    auto m = l->run<SettlementMatch>([&](Tx& tx) { return match_settlements(tx, from, to, o.max_lag_days); });
    if (!m) fail(m.error());
    if (o.json)
        std::cout << json::serialize(settlement_match_json(*m)) << "\n";
    else
        std::cout << settlement_match_text(*m);
}

// ---- operators -------------------------------------------------------------------------------

struct OperatorOptions {
    std::string db, id, name, actor, role, rights, operator_id;
    std::vector<std::string> roles;
    bool inactive = false, json = false;
};

void run_operators_list(const OperatorOptions& o) {
    auto l = open_ledger(o.db);
    auto ops = l->reader()->operators();
    if (!ops) fail(ops.error());
    auto roles = l->reader()->roles();
    if (!roles) fail(roles.error());
    if (o.json) {
        json::array a, r;
        for (const auto& op : *ops) {
            json::array rs;
            for (const auto& x : op.roles) rs.push_back(json::string(x));
            a.push_back(json::object{{"id", op.id}, {"name", op.name}, {"active", op.active}, {"roles", rs}});
        }
        for (const auto& role : *roles) {
            json::array rights;
            for (auto x : role.rights) rights.push_back(json::string(right_id(x)));
            r.push_back(json::object{{"name", role.name}, {"rights", rights}});
        }
        std::cout << json::serialize(json::object{{"operators", a}, {"roles", r}}) << "\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& op : *ops) {
        std::string rs;
        for (const auto& x : op.roles) rs += (rs.empty() ? "" : ",") + x;
        rows.push_back({op.id, op.name, op.active ? "yes" : "no", rs});
    }
    std::cout << finance::table({"operator", "name", "active", "roles"}, rows);
    rows.clear();
    for (const auto& role : *roles) {
        std::string rights;
        for (auto x : role.rights) rights += (rights.empty() ? "" : ",") + std::string(right_id(x));
        rows.push_back({role.name, rights});
    }
    std::cout << "\n" << finance::table({"role", "rights"}, rows);
}

void run_operators_add(const OperatorOptions& o) {
    auto l = open_ledger(o.db, true);
    Operator op{o.id, o.name.empty() ? o.id : o.name, o.roles, !o.inactive};
    auto s = l->run<bool>([&](Tx& tx) -> Result<bool> {
        auto r = tx.put_operator(o.actor, op);
        if (!r) return pb::unexpected(r.error());
        return true;
    });
    if (!s) fail(s.error());
    std::cout << "operator " << o.id << " stored\n";
}

void run_operators_grant(const OperatorOptions& o) {
    std::vector<Right> rights;
    if (!o.rights.empty()) {
        std::stringstream in(o.rights);
        std::string item;
        while (std::getline(in, item, ',')) {
            auto r = right_from_id(item);
            if (!r)
                usage("--rights: '" + item +
                      "' is not a right (take_card, take_cash, refund, resolve_interim, close_day, export, administer)");
            rights.push_back(*r);
        }
    }
    if (rights.empty() && o.operator_id.empty()) usage("operators grant needs --rights and/or --operator");
    auto l = open_ledger(o.db, true);
    auto s = l->run<bool>([&](Tx& tx) -> Result<bool> {
        if (!rights.empty()) {
            if (auto r = tx.put_role(o.actor, Role{o.role, rights}); !r) return pb::unexpected(r.error());
        }
        if (!o.operator_id.empty()) {
            auto op = tx.get_operator(o.operator_id);
            if (!op) return pb::unexpected(op.error());
            if (std::find(op->roles.begin(), op->roles.end(), o.role) == op->roles.end()) op->roles.push_back(o.role);
            if (auto r = tx.put_operator(o.actor, *op); !r) return pb::unexpected(r.error());
        }
        return true;
    });
    if (!s) fail(s.error());
    if (!rights.empty()) std::cout << "role " << o.role << " has rights " << o.rights << "\n";
    if (!o.operator_id.empty()) std::cout << "operator " << o.operator_id << " has role " << o.role << "\n";
}

// ---- registration ----------------------------------------------------------------------------

void ledger_option(CLI::App* c, std::string& db) { c->add_option(kLedgerFlag, db, "ledger database file")->required(); }
void json_flag(CLI::App* c, bool& j) { c->add_flag("--json", j, "machine-readable output"); }

void register_finance(CLI::App& app) {
    {
        auto o = std::make_shared<HistoryOptions>();
        auto* c = app.add_subcommand("history", "payments from the ledger, filtered");
        ledger_option(c, o->db);
        c->add_option("--from", o->from, "first business date YYYY-MM-DD");
        c->add_option("--to", o->to, "last business date YYYY-MM-DD");
        c->add_option("--order", o->order, "order id");
        c->add_option("--register", o->register_id, "register id");
        c->add_option("--terminal", o->terminal, "terminal id");
        c->add_option("--operator", o->operator_id, "operator id");
        c->add_option("--issuer", o->issuer, "issuer id");
        c->add_option("--state", o->state, "payment state (approved, aborted, ...)");
        c->add_option("--tender", o->tender, "card, cash, commitment or benefit");
        c->add_flag("--today", o->today, "today's business date (the machine's local date; set TZ like [ledger] timezone)");
        c->add_flag("--stats", o->stats, "benefit statistics per business day and provider: count, amount, cancelled, credited");
        c->add_option("--limit", o->limit, "most rows (default 1000)");
        json_flag(c, o->json);
        c->callback([o] { run_history(*o); });
    }
    {
        auto* interim = app.add_subcommand("interim", "the interim account (aborted / unknown payments)");
        interim->require_subcommand(1);
        auto lo = std::make_shared<HistoryOptions>();
        auto* list = interim->add_subcommand("list", "every payment in the interim account, oldest first");
        ledger_option(list, lo->db);
        json_flag(list, lo->json);
        list->callback([lo] {
            auto l = open_ledger(lo->db);
            auto ps = l->reader()->interim();
            if (!ps) fail(ps.error());
            print_payments(*ps, lo->json);
        });
        auto ro = std::make_shared<ResolveOptions>();
        auto* res = interim->add_subcommand("resolve", "close an interim payment (needs resolve_interim)");
        ledger_option(res, ro->db);
        res->add_option("payment", ro->id, "payment id")->required();
        res->add_option("--how", ro->how, "paid_otherwise | retried | reversed | written_off")->required();
        res->add_option("--operator", ro->operator_id, "who resolves")->required();
        res->add_option("--why", ro->why, "reason, kept in the journal")->required();
        json_flag(res, ro->json);
        res->callback([ro] { run_resolve(*ro); });
    }
    {
        auto o = std::make_shared<DayCloseOptions>();
        auto* c = app.add_subcommand("day-close", "close a terminal's business day and print the Z-report");
        ledger_option(c, o->db);
        c->add_option("--terminal", o->terminal, "terminal id")->required();
        c->add_option("--date", o->date, "business date YYYY-MM-DD")->required();
        c->add_option("--register", o->register_id, "register id");
        c->add_option("--operator", o->operator_id, "who closes (needs close_day)");
        c->add_option("--totals", o->totals_file,
                      "terminal end-of-day totals JSON: [{\"issuer\":\"visa\",\"count\":2,\"amount\":\"150.00\"}]");
        c->add_flag("--no-terminal-totals", o->no_terminal_totals, "the terminal gave no totals: compare nothing");
        c->add_option("--currency", o->currency, "ISO 4217 code");
        c->add_flag("--show", o->show, "print the stored Z-report of that terminal and date, change nothing");
        json_flag(c, o->json);
        c->callback([o] { run_day_close(*o); });
    }
    {
        auto o = std::make_shared<ReconcileOptions>();
        auto* c = app.add_subcommand("reconcile", "cash count of a register: expected against counted");
        ledger_option(c, o->db);
        c->add_option("--register", o->register_id, "register id")->required();
        c->add_option("--date", o->date, "business date YYYY-MM-DD")->required();
        c->add_option("--operator", o->operator_id, "who counted")->required();
        c->add_option("--counted", o->counted, "counted cash, e.g. 1234.50")->required();
        c->add_option("--float", o->float_amount, "opening float (default 0)");
        c->add_option("--withdrawals", o->withdrawals, "cash taken out during the day (default 0)");
        c->add_option("--difference-account", o->difference_account, "account for the difference (default 3740)");
        c->add_option("--currency", o->currency, "ISO 4217 code");
        json_flag(c, o->json);
        c->callback([o] { run_reconcile(*o); });
    }
    {
        auto o = std::make_shared<ExportOptions>();
        auto* e = app.add_subcommand("export", "accounting export of day-closes and cash counts");
        e->require_subcommand(1);
        for (const bool sie : {true, false}) {
            auto* c = e->add_subcommand(sie ? "sie" : "csv", sie ? "SIE 4 (PC8, #KSUMMA)" : "CSV, one row per voucher row");
            ledger_option(c, o->db);
            c->add_option("--from", o->from, "first business date YYYY-MM-DD");
            c->add_option("--to", o->to, "last business date YYYY-MM-DD");
            c->add_option("-o,--out", o->out, "output file (default stdout)");
            c->add_option("--series", o->series, "voucher series (default A)");
            c->add_option("--clearing-account", o->plan.clearing_account, "credited with takings (default 1510)");
            c->add_option("--cash-account", o->plan.cash_account, "the till (default 1910)");
            c->add_option("--withdrawal-account", o->plan.withdrawal_account, "cash withdrawals go to (default 1930)");
            c->add_option("--difference-account", o->plan.card_difference_account,
                          "terminal/ledger card differences (default 3740)");
            c->add_option("--benefit-account", o->plan.benefit_account,
                          "benefit vouchers, receivable from the benefit provider (default 1681)");
            c->add_option("--commitment-account", o->plan.commitment_account,
                          "commitment-card payments, invoiced to the organisation later (default 1518)");
            if (sie) {
                c->add_option("--company", o->company, "#FNAMN company name");
                c->add_option("--org-number", o->org_number, "#ORGNR");
                c->add_option("--generated", o->generated, "#GEN date (default: the newest voucher's date)");
            }
            c->callback([o, sie] { run_export(*o, sie); });
        }
    }
    {
        auto o = std::make_shared<SettlementOptions>();
        auto* s = app.add_subcommand("settlement", "acquirer settlement: import deposits, match them to day-closes");
        s->require_subcommand(1);
        auto* imp = s->add_subcommand("import",
                                      "import a settlement CSV (payout_date,issuer,gross,fees,net,batch_reference)");
        ledger_option(imp, o->db);
        imp->add_option("file", o->file, "settlement CSV file")->required();
        json_flag(imp, o->json);
        imp->callback([o] { run_settlement_import(*o); });
        auto* m = s->add_subcommand("match", "match imported deposits to day-close batches by issuer and date");
        ledger_option(m, o->db);
        m->add_option("--from", o->from, "first business date of day-closes");
        m->add_option("--to", o->to, "last business date of day-closes");
        m->add_option("--max-lag-days", o->max_lag_days, "payout at most this many days after the close (default 7)");
        json_flag(m, o->json);
        m->callback([o] { run_settlement_match(*o); });
    }
    {
        auto o = std::make_shared<OperatorOptions>();
        auto* ops = app.add_subcommand("operators", "operators, roles and rights");
        ops->require_subcommand(1);
        auto* list = ops->add_subcommand("list", "operators with their roles, and the roles' rights");
        ledger_option(list, o->db);
        json_flag(list, o->json);
        list->callback([o] { run_operators_list(*o); });
        auto* add = ops->add_subcommand("add", "add or replace an operator (journaled with the actor)");
        ledger_option(add, o->db);
        add->add_option("id", o->id, "operator id (login / badge)")->required();
        add->add_option("--name", o->name, "display name");
        add->add_option("--role", o->roles, "role (repeatable)");
        add->add_flag("--inactive", o->inactive, "store the operator as inactive");
        add->add_option("--actor", o->actor, "who makes the change (needs administer)")->required();
        add->callback([o] { run_operators_add(*o); });
        auto* grant = ops->add_subcommand("grant", "set a role's rights and/or give the role to an operator");
        ledger_option(grant, o->db);
        grant->add_option("--role", o->role, "role name")->required();
        grant->add_option("--rights", o->rights, "comma-separated rights of the role");
        grant->add_option("--operator", o->operator_id, "operator who gets the role");
        grant->add_option("--actor", o->actor, "who makes the change (needs administer)")->required();
        grant->callback([o] { run_operators_grant(*o); });
    }
}

const Registrar registrar{61, register_finance};

}  // namespace
}  // namespace pb::cli
