// iCalendar (RFC 5545) export of one meeting for one person (DOMAIN O7). Pure: the caller fills
// CalendarEvent from case state for that person, leaving out what is hidden from them (P2):
// e.g. the coarse location text instead of the address when they may not see it (ExportCalendar
// in exports.h does this from Organising::CalendarFor). The output is
// one VCALENDAR with METHOD REQUEST or CANCEL, a VTIMEZONE for Europe/Amsterdam and one VEVENT
// whose DTSTART/DTEND are Amsterdam wall-clock times; CRLF line endings, TEXT escaping and
// folding at 75 octets (never inside a UTF-8 sequence). Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kring/common/status.h"

namespace kring::domain {

enum class CalendarMethod { kRequest, kCancel };

// Limits (bytes). Larger input fails with "calendar.too_long".
inline constexpr size_t kMaxCalendarUidBytes = 255;
inline constexpr size_t kMaxCalendarSummaryBytes = 300;
inline constexpr size_t kMaxCalendarLocationBytes = 1000;
inline constexpr size_t kMaxCalendarDescriptionBytes = 8000;
inline constexpr size_t kMaxCalendarOrganizerBytes = 200;
// A meeting lasts at most this long (a sanity bound against swapped or garbage times).
inline constexpr int64_t kMaxCalendarDurationMs = int64_t{7} * 24 * 3600 * 1000;

struct CalendarEvent {
  // Stable per meeting across updates: [A-Za-z0-9._@-]+, e.g. "<meeting id hex>@kring".
  std::string uid;
  // Bumped on every change the person should see (RFC 5546 sequencing); at most 2^31-1.
  uint32_t sequence = 0;
  CalendarMethod method = CalendarMethod::kRequest;
  int64_t start_utc_ms = 0;
  int64_t end_utc_ms = 0;  // > start
  // UTF-8 text. summary and organizer_name: one line; location and description: newlines allowed.
  std::string summary;
  std::string location;
  std::string description;
  std::optional<std::string> organizer_name;
  int64_t dtstamp_utc_ms = 0;  // when this export was made
};

// Empty status when `event` can be exported; otherwise InvalidArgument with one of the keys
// "calendar.bad_uid", "calendar.bad_time", "calendar.bad_sequence", "calendar.too_long",
// "calendar.bad_text" (invalid UTF-8 or a control character), "calendar.empty_summary".
Status ValidateCalendarEvent(const CalendarEvent& event);

// The .ics text (UTF-8, CRLF) after ValidateCalendarEvent.
//
// ORGANIZER: RFC 5546 wants one on a REQUEST/CANCEL and its value must be a calendar address.
// Kring puts no contact details in exports, so when organizer_name is set the address is
// "mailto:noreply@kring.invalid" (".invalid" is reserved by RFC 2606 and never delivered): a
// reply from a calendar app fails visibly instead of reaching someone. No ATTENDEE is written for
// the same reason.
Result<std::string> RenderICalendar(const CalendarEvent& event);

// RFC 5545 3.3.11 TEXT escaping: backslash, semicolon, comma and newline ("\r\n", "\r", "\n").
std::string EscapeICalText(std::string_view text);

// One content line folded at 75 octets (continuation lines start with one space), never
// splitting a UTF-8 sequence; every physical line ends in CRLF.
std::string FoldICalLine(std::string_view line);

// "20261205T193000" (Amsterdam wall clock) and "20261205T183000Z" (UTC), whole seconds.
std::string ICalAmsterdamDateTime(int64_t utc_ms);
std::string ICalUtcDateTime(int64_t utc_ms);

}  // namespace kring::domain
