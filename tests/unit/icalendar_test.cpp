// iCalendar export: structure, escaping, folding and validation. The independent parse with
// Debian's python3-icalendar is in icalendar_check.py (ctest "icalendar_independent_parser").
#include "kring/domain/icalendar.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/utf8.h"
#include "kring/domain/messages.h"

using namespace kring;
using namespace kring::domain;

namespace {

CalendarEvent Sample() {
  CalendarEvent e;
  e.uid = "0123456789abcdef0123456789abcdef@kring";
  e.sequence = 3;
  e.method = CalendarMethod::kRequest;
  e.start_utc_ms = 1796495400000;  // 2026-12-05T18:30Z = 19:30 in Amsterdam
  e.end_utc_ms = 1796502600000;    // 20:30Z = 21:30
  e.summary = "Netwerkberaad";
  e.location = "Bij Anna thuis";
  e.description = "Welkom.\nWe praten over het plan.";
  e.dtstamp_utc_ms = 1795901400000;  // 2026-11-28T21:30Z
  return e;
}

std::vector<std::string> PhysicalLines(const std::string& ics) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < ics.size()) {
    const size_t end = ics.find("\r\n", pos);
    REQUIRE(end != std::string::npos);  // every line ends in CRLF
    lines.push_back(ics.substr(pos, end - pos));
    pos = end + 2;
  }
  return lines;
}

// RFC 5545 3.1 unfolding: CRLF followed by one space disappears.
std::vector<std::string> LogicalLines(const std::string& ics) {
  std::vector<std::string> out;
  for (const std::string& l : PhysicalLines(ics)) {
    if (!l.empty() && l[0] == ' ') {
      REQUIRE_FALSE(out.empty());
      out.back() += l.substr(1);
    } else {
      out.push_back(l);
    }
  }
  return out;
}

bool HasLine(const std::vector<std::string>& lines, const std::string& line) {
  for (const auto& l : lines) {
    if (l == line) return true;
  }
  return false;
}

std::string Key(const CalendarEvent& e) {
  auto r = RenderICalendar(e);
  return r.ok() ? "" : r.status().message();
}

}  // namespace

TEST_CASE("a REQUEST has the RFC 5545 structure with Amsterdam local times", "[icalendar]") {
  auto r = RenderICalendar(Sample());
  REQUIRE(r.ok());
  const std::string& ics = r.value();
  CHECK(ics.rfind("BEGIN:VCALENDAR\r\n", 0) == 0);
  CHECK(ics.size() > 17);
  CHECK(ics.substr(ics.size() - 15) == "END:VCALENDAR\r\n");
  // No bare LF or CR anywhere.
  for (size_t i = 0; i < ics.size(); ++i) {
    if (ics[i] == '\n') CHECK((i > 0 && ics[i - 1] == '\r'));
    if (ics[i] == '\r') CHECK((i + 1 < ics.size() && ics[i + 1] == '\n'));
  }
  const auto lines = LogicalLines(ics);
  const std::vector<std::string> expected = {
      "BEGIN:VCALENDAR",
      "PRODID:-//Kring//Kring netwerkberaad//NL",
      "VERSION:2.0",
      "CALSCALE:GREGORIAN",
      "METHOD:REQUEST",
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
      "BEGIN:VEVENT",
      "UID:0123456789abcdef0123456789abcdef@kring",
      "SEQUENCE:3",
      "DTSTAMP:20261128T213000Z",
      "DTSTART;TZID=Europe/Amsterdam:20261205T193000",
      "DTEND;TZID=Europe/Amsterdam:20261205T213000",
      "SUMMARY:Netwerkberaad",
      "LOCATION:Bij Anna thuis",
      "DESCRIPTION:Welkom.\\nWe praten over het plan.",
      "STATUS:CONFIRMED",
      "TRANSP:OPAQUE",
      "END:VEVENT",
      "END:VCALENDAR",
  };
  CHECK(lines == expected);
}

TEST_CASE("a CANCEL keeps the UID and says CANCELLED", "[icalendar]") {
  CalendarEvent e = Sample();
  e.method = CalendarMethod::kCancel;
  e.sequence = 4;
  auto r = RenderICalendar(e);
  REQUIRE(r.ok());
  const auto lines = LogicalLines(r.value());
  CHECK(HasLine(lines, "METHOD:CANCEL"));
  CHECK(HasLine(lines, "STATUS:CANCELLED"));
  CHECK(HasLine(lines, "SEQUENCE:4"));
  CHECK(HasLine(lines, "UID:" + e.uid));
  CHECK_FALSE(HasLine(lines, "METHOD:REQUEST"));
  CHECK_FALSE(HasLine(lines, "STATUS:CONFIRMED"));
}

TEST_CASE("local times follow summer time and its edges", "[icalendar]") {
  CalendarEvent e = Sample();
  e.start_utc_ms = 1774747800000;  // 2026-03-29T01:30Z: 03:30 CEST, just after the jump
  e.end_utc_ms = e.start_utc_ms + 3'600'000;
  auto lines = LogicalLines(RenderICalendar(e).value());
  CHECK(HasLine(lines, "DTSTART;TZID=Europe/Amsterdam:20260329T033000"));
  CHECK(HasLine(lines, "DTEND;TZID=Europe/Amsterdam:20260329T043000"));
  e.start_utc_ms = 1774744200000;  // 00:30Z: 01:30 CET, just before
  e.end_utc_ms = e.start_utc_ms + 3'600'000;
  lines = LogicalLines(RenderICalendar(e).value());
  CHECK(HasLine(lines, "DTSTART;TZID=Europe/Amsterdam:20260329T013000"));
  CHECK(HasLine(lines, "DTEND;TZID=Europe/Amsterdam:20260329T033000"));  // 01:30Z = 03:30 CEST
  CHECK(ICalUtcDateTime(1796495400000) == "20261205T183000Z");
  CHECK(ICalAmsterdamDateTime(1782889500000) == "20260701T090500");
}

TEST_CASE("TEXT escaping", "[icalendar]") {
  CHECK(EscapeICalText("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne");
  CHECK(EscapeICalText("x\r\ny\rz") == "x\\ny\\nz");
  CHECK(EscapeICalText("Zoë: café") == "Zoë: café");  // ':' needs no escape in TEXT
  CalendarEvent e = Sample();
  e.summary = "Beraad; met Zoë, Anna\\Piet";
  e.location = "Straat 1\nDorp";
  const auto lines = LogicalLines(RenderICalendar(e).value());
  CHECK(HasLine(lines, "SUMMARY:Beraad\\; met Zoë\\, Anna\\\\Piet"));
  CHECK(HasLine(lines, "LOCATION:Straat 1\\nDorp"));
}

TEST_CASE("folding at 75 octets never splits a UTF-8 sequence", "[icalendar]") {
  for (const std::string unit : {"a", "ë", "€", "\xF0\x9F\x98\x80"}) {
    for (size_t lead = 0; lead < 4; ++lead) {
      std::string line = "DESCRIPTION:" + std::string(lead, 'x');
      for (int i = 0; i < 120; ++i) line += unit;
      const std::string folded = FoldICalLine(line);
      INFO("unit bytes " << unit.size() << " lead " << lead);
      std::string unfolded;
      bool first = true;
      for (const std::string& l : PhysicalLines(folded)) {
        CHECK(l.size() <= 75);
        CHECK(kring::utf8::IsValid(l));
        if (!first) {
          REQUIRE_FALSE(l.empty());
          CHECK(l[0] == ' ');
          unfolded += l.substr(1);
        } else {
          unfolded += l;
        }
        first = false;
      }
      CHECK(unfolded == line);
    }
  }
  CHECK(FoldICalLine(std::string(75, 'a')) == std::string(75, 'a') + "\r\n");
  CHECK(FoldICalLine(std::string(76, 'a')) == std::string(75, 'a') + "\r\n a\r\n");
}

TEST_CASE("long texts fold in the whole export and survive unfolding", "[icalendar]") {
  CalendarEvent e = Sample();
  std::string description;
  for (int i = 0; i < 60; ++i) description += "Zoë en René praten over café-afspraken. ";
  e.description = description;
  auto r = RenderICalendar(e);
  REQUIRE(r.ok());
  for (const std::string& l : PhysicalLines(r.value())) {
    CHECK(l.size() <= 75);
    CHECK(kring::utf8::IsValid(l));
  }
  CHECK(HasLine(LogicalLines(r.value()), "DESCRIPTION:" + EscapeICalText(description)));
}

TEST_CASE("organizer: display name only, placeholder address that is never delivered",
          "[icalendar]") {
  CalendarEvent e = Sample();
  e.organizer_name = "Els \"de coördinator\" Jansen";
  const auto lines = LogicalLines(RenderICalendar(e).value());
  CHECK(
      HasLine(lines, "ORGANIZER;CN=\"Els 'de coördinator' Jansen\":mailto:noreply@kring.invalid"));
  e.organizer_name.reset();
  for (const auto& l : LogicalLines(RenderICalendar(e).value())) {
    CHECK(l.rfind("ORGANIZER", 0) == std::string::npos);
  }
}

TEST_CASE("invalid events are rejected with their key", "[icalendar]") {
  CHECK(Key(Sample()).empty());
  CalendarEvent e;

  e = Sample(), e.uid = "";
  CHECK(Key(e) == "calendar.bad_uid");
  for (const char* uid : {"a b", "a/b", "caf\xC3\xA9", "a:b", "a\r\nb", "a;b"}) {
    e = Sample(), e.uid = uid;
    CHECK(Key(e) == "calendar.bad_uid");
  }
  e = Sample(), e.uid = std::string(256, 'a');
  CHECK(Key(e) == "calendar.too_long");
  e = Sample(), e.uid = std::string(255, 'a');
  CHECK(Key(e).empty());

  e = Sample(), e.sequence = 2147483648u;
  CHECK(Key(e) == "calendar.bad_sequence");
  e = Sample(), e.sequence = 2147483647u;
  CHECK(Key(e).empty());

  e = Sample(), e.end_utc_ms = e.start_utc_ms;
  CHECK(Key(e) == "calendar.bad_time");
  e = Sample(), e.end_utc_ms = e.start_utc_ms + 999;  // the same whole second
  CHECK(Key(e) == "calendar.bad_time");
  e = Sample(), e.end_utc_ms = e.start_utc_ms - 3'600'000;
  CHECK(Key(e) == "calendar.bad_time");
  e = Sample(), e.end_utc_ms = e.start_utc_ms + kMaxCalendarDurationMs + 1;
  CHECK(Key(e) == "calendar.bad_time");
  e = Sample(), e.start_utc_ms = -5'000'000, e.end_utc_ms = -1'000'000;
  CHECK(Key(e) == "calendar.bad_time");
  e = Sample(), e.dtstamp_utc_ms = -1;
  CHECK(Key(e) == "calendar.bad_time");

  e = Sample(), e.summary = std::string(kMaxCalendarSummaryBytes + 1, 'a');
  CHECK(Key(e) == "calendar.too_long");
  e = Sample(), e.location = std::string(kMaxCalendarLocationBytes + 1, 'a');
  CHECK(Key(e) == "calendar.too_long");
  e = Sample(), e.description = std::string(kMaxCalendarDescriptionBytes + 1, 'a');
  CHECK(Key(e) == "calendar.too_long");
  e = Sample(), e.organizer_name = std::string(kMaxCalendarOrganizerBytes + 1, 'a');
  CHECK(Key(e) == "calendar.too_long");

  e = Sample(), e.summary = "two\nlines";
  CHECK(Key(e) == "calendar.bad_text");
  e = Sample(), e.summary = "bell\a";
  CHECK(Key(e) == "calendar.bad_text");
  e = Sample(), e.description = "bad \xC3\x28 utf8";
  CHECK(Key(e) == "calendar.bad_text");
  e = Sample(), e.location = "overlong \xC0\xAF";
  CHECK(Key(e) == "calendar.bad_text");
  e = Sample(), e.description = "truncated \xE2\x82";
  CHECK(Key(e) == "calendar.bad_text");
  e = Sample(), e.organizer_name = std::string("tab\there");
  CHECK(Key(e) == "calendar.bad_text");
  e = Sample(), e.summary = "";
  CHECK(Key(e) == "calendar.empty_summary");

  for (const char* key : {"calendar.bad_uid", "calendar.bad_sequence", "calendar.bad_time",
                          "calendar.too_long", "calendar.bad_text", "calendar.empty_summary"}) {
    CHECK(HasUserText(key));
  }
}
