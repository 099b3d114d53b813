#include "number_arg.h"

namespace kring::cli {
namespace {

constexpr size_t kMaxDigits = 12;  // far above any range asked for; no overflow in int64_t

bool AllDigits(std::string_view s) {
  if (s.empty() || s.size() > kMaxDigits) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int64_t DigitsValue(std::string_view s) {
  int64_t n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

}  // namespace

std::optional<int64_t> ParseWholeNumber(std::string_view text, int64_t min, int64_t max) {
  if (!AllDigits(text)) return std::nullopt;
  const int64_t n = DigitsValue(text);
  if (n < min || n > max) return std::nullopt;
  return n;
}

std::optional<int64_t> ParseEuroCents(std::string_view text, int64_t max_euros) {
  const size_t mark = text.find_first_of(",.");
  const std::string_view whole = text.substr(0, mark);
  std::string_view fraction;
  if (mark != std::string_view::npos) {
    fraction = text.substr(mark + 1);
    if (fraction.empty() || fraction.size() > 2 || !AllDigits(fraction)) return std::nullopt;
  }
  const std::optional<int64_t> euros = ParseWholeNumber(whole, 0, max_euros);
  if (!euros) return std::nullopt;
  int64_t cents = fraction.empty() ? 0 : DigitsValue(fraction);
  if (fraction.size() == 1) cents *= 10;  // "12,5" is 12 euros 50
  if (*euros == max_euros && cents > 0) return std::nullopt;
  return *euros * 100 + cents;
}

std::string ShowEuros(int64_t cents, bool english) {
  const bool negative = cents < 0;
  // Magnitude in unsigned arithmetic: -INT64_MIN does not fit in int64_t.
  const uint64_t magnitude =
      negative ? uint64_t{0} - static_cast<uint64_t>(cents) : static_cast<uint64_t>(cents);
  std::string whole = std::to_string(magnitude / 100);
  for (size_t i = whole.size(); i > 3; i -= 3) whole.insert(i - 3, english ? "," : ".");
  const uint64_t rest = magnitude % 100;
  const std::string fraction = std::string(rest < 10 ? "0" : "") + std::to_string(rest);
  if (english) return std::string(negative ? "-" : "") + "€" + whole + "." + fraction;
  return std::string("€ ") + (negative ? "-" : "") + whole + "," + fraction;
}

}  // namespace kring::cli
