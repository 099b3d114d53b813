// Structured logs: one JSON object per line on stderr. Callers pass only ids, counts, sizes and
// status codes: never plaintext, keys, tokens, names or contact details.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace kring::log {

enum class Level { kDebug, kInfo, kWarn, kError };

using FieldValue = std::variant<std::string, int64_t, uint64_t, bool>;
struct Field {
  std::string_view key;
  FieldValue value;
};

void SetMinLevel(Level level);
// Whether Write at `level` writes anything: a caller on a hot path checks it before building
// fields that allocate (a hex id per push), which Write would only drop.
bool Enabled(Level level);
void Write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void Info(std::string_view e, std::initializer_list<Field> f = {}) {
  Write(Level::kInfo, e, f);
}
inline void Warn(std::string_view e, std::initializer_list<Field> f = {}) {
  Write(Level::kWarn, e, f);
}
inline void Error(std::string_view e, std::initializer_list<Field> f = {}) {
  Write(Level::kError, e, f);
}

}  // namespace kring::log
