#include "kring/domain/icalendar.h"

#include <cstdio>

#include "kring/domain/amsterdam_time.h"

#include "domain/render_text.h"

namespace kring::domain {
namespace {

constexpr size_t kFoldOctets = 75;
constexpr int64_t kMaxSequence = 2147483647;  // RFC 5545 INTEGER is a signed 32-bit value

bool IsUidChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '@' || c == '-';
}

std::string Stamp(int year, int month, int day, int hour, int minute, int second) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d", year, month, day, hour, minute,
                second);
  return buf;
}

// The VTIMEZONE for the EU rule, the same rule amsterdam_time.cpp applies: summer time starts
// on the last Sunday of March at 02:00 CET and ends on the last Sunday of October at 03:00 CEST.
// The DTSTARTs are the first such Sundays after 1970 (29 March and 25 October 1970).
constexpr std::string_view kVTimezone[] = {
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Amsterdam",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
};

// A quoted parameter value may hold anything but control characters and DQUOTE (RFC 5545 3.1);
// a DQUOTE in a name becomes an apostrophe rather than failing the export.
std::string QuoteParam(std::string_view s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? '\'' : c;
  out += '"';
  return out;
}

}  // namespace

std::string EscapeICalText(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case ';':
        out += "\\;";
        break;
      case ',':
        out += "\\,";
        break;
      case '\r':
        if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        out += "\\n";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string FoldICalLine(std::string_view line) {
  std::string out;
  size_t pos = 0;
  // The first physical line holds 75 octets; a continuation holds the leading space plus 74.
  size_t room = kFoldOctets;
  while (line.size() - pos > room) {
    size_t cut = pos + room;
    // Back up to the start of a UTF-8 sequence (continuation bytes are 10xxxxxx).
    while (cut > pos && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    out.append(line.substr(pos, cut - pos));
    out += "\r\n ";
    pos = cut;
    room = kFoldOctets - 1;
  }
  out.append(line.substr(pos));
  out += "\r\n";
  return out;
}

std::string ICalAmsterdamDateTime(int64_t utc_ms) {
  const AmsterdamTime t = ToAmsterdam(utc_ms);
  return Stamp(t.year, t.month, t.day, t.hour, t.minute, t.second);
}

std::string ICalUtcDateTime(int64_t utc_ms) {
  const AmsterdamTime t = UtcCalendarTime(utc_ms);
  return Stamp(t.year, t.month, t.day, t.hour, t.minute, t.second) + "Z";
}

Status ValidateCalendarEvent(const CalendarEvent& e) {
  if (e.uid.size() > kMaxCalendarUidBytes) return InvalidArgument("calendar.too_long");
  if (e.uid.empty()) return InvalidArgument("calendar.bad_uid");
  for (char c : e.uid) {
    if (!IsUidChar(c)) return InvalidArgument("calendar.bad_uid");
  }
  if (e.sequence > kMaxSequence) return InvalidArgument("calendar.bad_sequence");
  if (!IsSupportedUtcMs(e.start_utc_ms) || !IsSupportedUtcMs(e.end_utc_ms) ||
      !IsSupportedUtcMs(e.dtstamp_utc_ms)) {
    return InvalidArgument("calendar.bad_time");
  }
  // Compared in whole seconds, the resolution the export has.
  if (e.end_utc_ms / 1000 <= e.start_utc_ms / 1000 ||
      e.end_utc_ms - e.start_utc_ms > kMaxCalendarDurationMs) {
    return InvalidArgument("calendar.bad_time");
  }
  struct Field {
    std::string_view text;
    size_t max;
    bool newlines;
  };
  const Field fields[] = {
      {e.summary, kMaxCalendarSummaryBytes, false},
      {e.location, kMaxCalendarLocationBytes, true},
      {e.description, kMaxCalendarDescriptionBytes, true},
      {e.organizer_name ? std::string_view(*e.organizer_name) : std::string_view(),
       kMaxCalendarOrganizerBytes, false},
  };
  for (const Field& f : fields) {
    std::string key = render::CheckText(f.text, f.max, f.newlines, "calendar");
    if (!key.empty()) return InvalidArgument(std::move(key));
  }
  if (e.summary.empty()) return InvalidArgument("calendar.empty_summary");
  return {};
}

Result<std::string> RenderICalendar(const CalendarEvent& e) {
  KRING_RETURN_IF_ERROR(ValidateCalendarEvent(e));
  const bool cancel = e.method == CalendarMethod::kCancel;
  std::string out;
  auto line = [&out](std::string_view l) { out += FoldICalLine(l); };
  line("BEGIN:VCALENDAR");
  line("PRODID:-//Kring//Kring netwerkberaad//NL");
  line("VERSION:2.0");
  line("CALSCALE:GREGORIAN");
  line(cancel ? "METHOD:CANCEL" : "METHOD:REQUEST");
  for (std::string_view l : kVTimezone) line(l);
  line("BEGIN:VEVENT");
  line("UID:" + e.uid);
  line("SEQUENCE:" + std::to_string(e.sequence));
  line("DTSTAMP:" + ICalUtcDateTime(e.dtstamp_utc_ms));
  line("DTSTART;TZID=Europe/Amsterdam:" + ICalAmsterdamDateTime(e.start_utc_ms));
  line("DTEND;TZID=Europe/Amsterdam:" + ICalAmsterdamDateTime(e.end_utc_ms));
  line("SUMMARY:" + EscapeICalText(e.summary));
  if (!e.location.empty()) line("LOCATION:" + EscapeICalText(e.location));
  if (!e.description.empty()) line("DESCRIPTION:" + EscapeICalText(e.description));
  if (e.organizer_name) {
    line("ORGANIZER;CN=" + QuoteParam(*e.organizer_name) + ":mailto:noreply@kring.invalid");
  }
  line(cancel ? "STATUS:CANCELLED" : "STATUS:CONFIRMED");
  line("TRANSP:OPAQUE");
  line("END:VEVENT");
  line("END:VCALENDAR");
  return out;
}

}  // namespace kring::domain
