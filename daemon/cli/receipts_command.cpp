// `paybridge receipts purge`: deletes, for good, the e-receipts past their retention
// (ledger/receipts.hpp): documents, phone numbers and e-mail addresses, the terminal slips, and
// the bodies of the outbox messages that carried them. paybridged does the same at start and
// daily; this is for a ledger whose daemon is not running (or to do it now).
// Exit status: 0 done; 1 failed (no ledger); 2 usage.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include "daemon/cli/command.hpp"
#include "daemon/cli/ledger_access.hpp"
#include "ledger/receipts.hpp"

namespace pb::cli {
namespace {

struct PurgeOptions {
    std::string db;
    int retention_days = 30;
};

void register_receipts(CLI::App& app) {
    auto* receipts = app.add_subcommand("receipts", "e-receipts kept in the ledger (issue 7)");
    receipts->require_subcommand(1);
    auto o = std::make_shared<PurgeOptions>();
    auto* purge = receipts->add_subcommand("purge", "delete e-receipts past their deletion date, for good");
    purge->add_option("--ledger,--db", o->db, "ledger database file")->required();
    purge->add_option("--retention-days", o->retention_days,
                      "terminal slips of payments without a receipt are kept this long (default 30)")
        ->check(CLI::Range(1, 3650));
    purge->callback([o] {
        auto l = open_ledger(o->db);
        using namespace std::chrono;
        const std::int64_t now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
        const std::int64_t cutoff = now - std::int64_t{o->retention_days} * 86'400'000;
        auto n = l->run<std::int64_t>([now, cutoff](ledger::Tx& tx) { return ledger::receipts_purge(tx, now, cutoff); });
        if (!n) fail(n.error());
        std::cout << *n << " receipt(s) deleted\n";
    });
}

const Registrar registrar{75, register_receipts};

}  // namespace
}  // namespace pb::cli
