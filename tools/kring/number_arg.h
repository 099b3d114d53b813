// Numbers typed on the command line, and amounts shown on it (a retention in days, a score, a slot
// number, an amount in euros). Only digits count: a sign, a space, an exponent or a trailing letter
// is refused rather than read as 0 or cut short, so "--retention-days 3O" cannot close a case for
// immediate erasure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kring::cli {

// A whole number of at most 12 digits within [min, max].
std::optional<int64_t> ParseWholeNumber(std::string_view text, int64_t min, int64_t max);

// An amount in euros as cents: "250", "12,50" or "12.50" (Dutch or English decimal mark, at most
// two decimals), at most `max_euros`.
std::optional<int64_t> ParseEuroCents(std::string_view text, int64_t max_euros);

// Cents as a Dutch ("€ 1.250,50", "€ -3,00") or English ("€1,250.50", "-€3.00") amount.
std::string ShowEuros(int64_t cents, bool english);

}  // namespace kring::cli
