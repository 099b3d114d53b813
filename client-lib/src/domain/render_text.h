// Checks shared by the pure renderers (calendar, printout): every text they accept is valid UTF-8
// of bounded size without control characters, so output is well-formed in every format.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kring::domain::render {

// Whether `s` holds a C0 control character or DEL; a newline ("\n", "\r\n" or "\r") is allowed
// when `allow_newlines`.
bool HasControlChars(std::string_view s, bool allow_newlines);

// Case content made fit for an export: each control character (HasControlChars, newlines kept
// when `allow_newlines`) becomes U+FFFD, a tab a space. Another member's text must not stop
// someone's calendar or printout (the checks below would refuse it), and a format without an
// escape for control characters (RFC 5545 TEXT, HTML) cannot carry them.
std::string WithoutControlChars(std::string_view s, bool allow_newlines);

// "\r\n" and lone "\r" become "\n".
std::string NormalizeNewlines(std::string_view s);

// The checks above in one call: empty string when fine, else `prefix` + ".too_long" or
// `prefix` + ".bad_text" (the message keys of the caller's area).
std::string CheckText(std::string_view s, size_t max_bytes, bool allow_newlines,
                      std::string_view prefix);

}  // namespace kring::domain::render
