#pragma once
// Numbered, forward-only schema migrations (style.md point 13). Add a migration by appending
// to the list in migrations.cpp; never edit one that has shipped.

#include <optional>

#include "ledger/ledger.hpp"
#include "ledger/sqlite.hpp"

namespace pb::ledger::detail {

/// Brings `db` to `target` (default: newest). schema_mismatch "expected N, found M" if the
/// file is newer than this build knows. Each migration commits with its version bump.
Status migrate(Db& db, std::optional<int> target);
/// Newest version this build knows.
int schema_version_impl();
/// Version recorded in the file (0 for a fresh file).
int current_version(Db& db);

}  // namespace pb::ledger::detail
