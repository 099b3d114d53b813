// A local store's log as libkring before store schema 14 kept it: one row per entry in table
// `log` (schema 1-13), for the tests that open stores of older schemas.
#pragma once

#include "kring/common/sqlite.h"

namespace kring::test {

// Turns the log of a closed local store's file (opened here as `db`) back into `log` rows and
// drops log_segments, in one transaction. The caller sets user_version to 13 or lower: the next
// LocalStore::Open then migrates the file as it would a store of that schema.
void LogBackToRows(sql::Database& db);

}  // namespace kring::test
