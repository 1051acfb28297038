#pragma once
// Opening a ledger file from a `paybridge` subcommand, and turning ledger errors into the
// command line's exit codes (1 refused or failed, 2 bad input), shared by every area.

#include <memory>
#include <string>

#include "ledger/ledger.hpp"

namespace pb::cli {

/// Opens an existing ledger file; `create` only for bootstrapping operators on a new file.
std::unique_ptr<ledger::Ledger> open_ledger(const std::string& path, bool create = false);
/// Throws Failure: 2 for invalid_argument, 1 otherwise, with the error's id and message.
[[noreturn]] void fail(const ledger::Error& e);

}  // namespace pb::cli
