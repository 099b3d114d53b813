// The kringd SQLite schema as an append-only list of migrations (PRAGMA user_version).
#pragma once

#include <string_view>
#include <vector>

#include "kring/common/sqlite.h"
#include "kring/common/status.h"

namespace kring::server::storage {

// Never edit a released entry; append a new one.
const std::vector<std::string_view>& Migrations();

// After migration 10: while `case_removals_backfill` holds its row, fills `case_removals` from
// the stored control ops (for each case, the last RemoveMember naming an account that is not a
// member now; an AddMember after it clears it) and deletes the row, in one transaction. Reads the
// public header and control body of every stored op once; a no-op later.
Status BackfillRemovals(sql::Database& db);

}  // namespace kring::server::storage
