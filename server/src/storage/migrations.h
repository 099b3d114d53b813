// The kringd SQLite schema as an append-only list of migrations (PRAGMA user_version).
#pragma once

#include <string_view>
#include <vector>

namespace kring::server::storage {

// Never edit a released entry; append a new one.
const std::vector<std::string_view>& Migrations();

}  // namespace kring::server::storage
