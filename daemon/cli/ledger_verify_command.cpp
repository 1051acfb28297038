// `paybridge ledger verify`: walks the audit chain of a ledger file and names the first bad
// event (issue 4). Exit status 0 = intact, 1 = tampered, 2 = cannot open.
#include <CLI/CLI.hpp>

#include <boost/json.hpp>

#include <iostream>
#include <string>

#include "daemon/cli/command.hpp"
#include "ledger/ledger.hpp"

namespace pb::cli {
namespace {

struct VerifyOptions {
    std::string db;
    bool json = false;
};

void run_verify(const VerifyOptions& o) {
    ledger::Options opts;
    opts.storage = ledger::Storage::file;
    opts.path = o.db;
    auto l = ledger::Ledger::open(opts);
    if (!l) throw Failure{2, "cannot open ledger " + o.db + ": " + l.error().message};
    auto report = (*l)->reader()->verify();
    if (!report) throw Failure{2, "verify failed: " + report.error().message};
    if (o.json) {
        boost::json::object out{{"ok", report->ok}, {"events_checked", report->events_checked}};
        if (report->first_bad_seq) out["first_bad_event"] = *report->first_bad_seq;
        if (!report->ok) out["problem"] = report->problem;
        std::cout << boost::json::serialize(out) << "\n";
    } else if (report->ok) {
        std::cout << "ledger " << o.db << ": intact, " << report->events_checked << " events checked\n";
    } else {
        std::cout << "ledger " << o.db << ": TAMPERED at event " << report->first_bad_seq.value_or(0) << ": "
                  << report->problem << "\n";
    }
    if (!report->ok) throw Failure{1, "audit chain broken"};
}

void register_ledger(CLI::App& app) {
    auto* ledger = app.add_subcommand("ledger", "ledger maintenance");
    ledger->require_subcommand(1);
    auto opts = std::make_shared<VerifyOptions>();
    auto* verify = ledger->add_subcommand("verify", "check the audit chain; names the first bad event");
    verify->add_option("--ledger,--db", opts->db, "ledger database file")->required();
    verify->add_flag("--json", opts->json, "machine-readable output");
    verify->callback([opts] { run_verify(*opts); });
}

const Registrar registrar{60, register_ledger};

}  // namespace
}  // namespace pb::cli
