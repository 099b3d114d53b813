// The one rule for text `kring` shows on a terminal (tools/kring/terminal_text.h), byte by byte:
// what a terminal would act on becomes visible, everything else stays as it is.
#include "terminal_text.h"

#include <string>

#include <catch2/catch.hpp>

#include "kring/common/utf8.h"

using kring::cli::AppendTerminalSafe;
using kring::cli::TerminalSafe;
using kring::utf8::IsValid;

TEST_CASE("terminal text keeps ordinary text, newlines and tabs", "[cli]") {
  CHECK(TerminalSafe("Tante Ria\tzus\nCafé 's-Hertogenbosch \\ ok") ==
        "Tante Ria\tzus\nCafé 's-Hertogenbosch \\ ok");
  CHECK(TerminalSafe("\xd8\xb3\xd8\xa7\xd8\xb1\xd8\xa9 \xf0\x9f\x99\x82") ==
        "\xd8\xb3\xd8\xa7\xd8\xb1\xd8\xa9 \xf0\x9f\x99\x82");  // Arabic script, an emoji
}

TEST_CASE("terminal text shows control characters instead of passing them", "[cli]") {
  CHECK(TerminalSafe("\x1b[31mrood\x1b[0m") == "\\x1b[31mrood\\x1b[0m");
  CHECK(TerminalSafe("\x1b]52;c;aGk=\x07") == "\\x1b]52;c;aGk=\\x07");  // OSC 52: the clipboard
  CHECK(TerminalSafe("\x1b]8;;https://x.invalid\x1b\\link") ==
        "\\x1b]8;;https://x.invalid\\x1b\\link");
  CHECK(TerminalSafe("goed\rslecht\b\x7f") == "goed\\x0dslecht\\x08\\x7f");
  CHECK(TerminalSafe(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(TerminalSafe("\xc2\x9b"
                     "2J") == "\\u009b2J");  // C1 CSI
  CHECK(TerminalSafe("\xe2\x80\xae"
                     "kcab\xe2\x80\xac") == "\\u202ekcab\\u202c");
  CHECK(TerminalSafe("\xe2\x81\xa6x\xe2\x81\xa9") == "\\u2066x\\u2069");
  // Bidi marks and other format characters next to the controls stay.
  CHECK(TerminalSafe("\xe2\x80\x8f\xe2\x80\xa9") == "\xe2\x80\x8f\xe2\x80\xa9");
}

TEST_CASE("terminal text replaces invalid UTF-8 byte by byte", "[cli]") {
  const std::string fffd = "\xef\xbf\xbd";
  CHECK(TerminalSafe("a\xff"
                     "b") == "a" + fffd + "b");
  CHECK(TerminalSafe("\xc0\xaf") == fffd + fffd);                        // overlong "/"
  CHECK(TerminalSafe("\xed\xa0\x80") == fffd + fffd + fffd);             // a surrogate
  CHECK(TerminalSafe("\xf4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // above U+10FFFF
  CHECK(TerminalSafe("\xe2\x80") == fffd + fffd);                        // cut short at the end
  CHECK(IsValid("Café \xe2\x80\xae"));
  CHECK_FALSE(IsValid("a\xff"));
  CHECK_FALSE(IsValid("\xe2\x80"));
}

TEST_CASE("terminal text waits for the rest of a character split over two writes", "[cli]") {
  std::string out;
  CHECK(AppendTerminalSafe("ok \xe2\x80", /*final=*/false, out) == 3);
  CHECK(out == "ok ");
  CHECK(AppendTerminalSafe("\xe2\x80\xae!", /*final=*/false, out) == 4);
  CHECK(out == "ok \\u202e!");
}
