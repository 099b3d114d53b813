// The numbers a user types for `kring` (tools/kring/number_arg.h): plain digits within range, and
// euro amounts with a Dutch or English decimal mark. Anything else is refused, never read as 0 or
// cut short ("3O" days, "abc" euros).
#include "number_arg.h"

#include <cstdint>
#include <limits>
#include <optional>

#include <catch2/catch.hpp>

using kring::cli::AllDigits;
using kring::cli::ParseEuroCents;
using kring::cli::ParseWholeNumber;
using kring::cli::ShowEuros;

TEST_CASE("A whole number is plain digits within its range", "[cli][number]") {
  CHECK(ParseWholeNumber("30", 0, 3650) == std::optional<int64_t>(30));
  CHECK(ParseWholeNumber("0", 0, 10) == std::optional<int64_t>(0));
  CHECK(ParseWholeNumber("007", 0, 10) == std::optional<int64_t>(7));
  for (const char* bad :
       {"", "3O", "abc", "-1", "+3", " 3", "3 ", "1e3", "3.0", "3,0", "0x10", "1234567890123"}) {
    INFO(bad);
    CHECK_FALSE(ParseWholeNumber(bad, 0, std::numeric_limits<int64_t>::max()).has_value());
  }
  CHECK_FALSE(ParseWholeNumber("11", 0, 10).has_value());
  CHECK_FALSE(ParseWholeNumber("0", 1, 10).has_value());
}

TEST_CASE("An amount in euros takes a Dutch or English decimal mark", "[cli][number]") {
  CHECK(ParseEuroCents("250", 10'000) == std::optional<int64_t>(25'000));
  CHECK(ParseEuroCents("12,50", 10'000) == std::optional<int64_t>(1'250));
  CHECK(ParseEuroCents("12.50", 10'000) == std::optional<int64_t>(1'250));
  CHECK(ParseEuroCents("12,5", 10'000) == std::optional<int64_t>(1'250));
  CHECK(ParseEuroCents("0,05", 10'000) == std::optional<int64_t>(5));
  CHECK(ParseEuroCents("10000", 10'000) == std::optional<int64_t>(1'000'000));
  for (const char* bad : {"", "abc", "5abc", "12,", ",50", "12,505", "12,5a", "1.250,50", "-3",
                          "12 50", "10000,01", "10001"}) {
    INFO(bad);
    CHECK_FALSE(ParseEuroCents(bad, 10'000).has_value());
  }
}

TEST_CASE("Amounts are shown in the user's language", "[cli][number]") {
  CHECK(ShowEuros(125'050, false) == "€ 1.250,50");
  CHECK(ShowEuros(125'050, true) == "€1,250.50");
  CHECK(ShowEuros(-300, false) == "€ -3,00");
  CHECK(ShowEuros(-300, true) == "-€3.00");
  CHECK(ShowEuros(5, false) == "€ 0,05");
  // The most negative amount has no positive counterpart in int64_t: shown, not overflowed.
  CHECK(ShowEuros(std::numeric_limits<int64_t>::min(), true) == "-€92,233,720,368,547,758.08");
}

TEST_CASE("AllDigits takes 1 to max digits and nothing else", "[cli][number]") {
  CHECK(AllDigits("0", 1));
  CHECK(AllDigits("123456", 6));
  CHECK_FALSE(AllDigits("1234567", 6));
  CHECK_FALSE(AllDigits("", 6));
  CHECK_FALSE(AllDigits("12a", 6));
  CHECK_FALSE(AllDigits("١٢", 6));  // Arabic-Indic digits are not ASCII digits
}
