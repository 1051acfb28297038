#include "daemon/cli/ledger_access.hpp"

#include <filesystem>

#include "daemon/cli/command.hpp"

namespace pb::cli {

std::unique_ptr<ledger::Ledger> open_ledger(const std::string& path, bool create) {
    std::error_code ec;
    if (!create && !std::filesystem::exists(path, ec)) throw Failure{1, "no ledger at " + path};
    ledger::Options o;
    o.storage = ledger::Storage::file;
    o.path = path;
    auto l = ledger::Ledger::open(o);
    if (!l) throw Failure{1, "cannot open ledger " + path + ": " + l.error().message};
    return std::move(*l);
}

void fail(const ledger::Error& e) {
    throw Failure{e.code == ledger::Errc::invalid_argument ? 2 : 1,
                  std::string(ledger::errc_id(e.code)) + ": " + e.message};
}

}  // namespace pb::cli
