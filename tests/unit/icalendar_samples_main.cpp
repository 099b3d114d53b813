// Writes sample .ics exports into the folder given as argv[1], for icalendar_check.py to parse
// with an independent parser (Debian's python3-icalendar). The expected values are repeated
// there on purpose: the check must not read them from this code.
#include <fstream>
#include <iostream>
#include <string>

#include "kring/domain/icalendar.h"

using namespace kring::domain;

namespace {

bool Write(const std::string& dir, const std::string& name, const CalendarEvent& e) {
  auto ics = RenderICalendar(e);
  if (!ics.ok()) {
    std::cerr << name << ": " << ics.status().message() << "\n";
    return false;
  }
  std::ofstream out(dir + "/" + name, std::ios::binary);
  out << ics.value();
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: kring_ics_samples <output folder>\n";
    return 2;
  }
  const std::string dir = argv[1];
  CalendarEvent e;
  e.uid = "5f1c0a7e9b2d4c6e8a0b1c2d3e4f5a6b@kring";
  e.sequence = 1;
  e.method = CalendarMethod::kRequest;
  e.start_utc_ms = 1796495400000;  // 2026-12-05T18:30:00Z
  e.end_utc_ms = 1796502600000;    // 2026-12-05T20:30:00Z
  e.summary = "Netwerkberaad met Zoë; koffie, thee";
  e.location = "Café De Eenhoorn\nKerkstraat 1, Dorp";
  std::string description = "Welkom bij het beraad van René.\n";
  for (int i = 0; i < 12; ++i) {
    description += "Wij praten over wonen, geld en school; wie doet wat\\wanneer. ";
  }
  e.description = description;
  e.organizer_name = "Els Jansen (coördinator)";
  e.dtstamp_utc_ms = 1795901400000;  // 2026-11-28T21:30:00Z
  bool ok = Write(dir, "request_v1.ics", e);

  // The update moves the meeting to the night summer time starts: 01:30 CET to 04:30 CEST.
  e.sequence = 2;
  e.start_utc_ms = 1806193800000;    // 2027-03-28T00:30:00Z
  e.end_utc_ms = 1806201000000;      // 2027-03-28T02:30:00Z
  e.dtstamp_utc_ms = 1795905000000;  // 2026-11-28T22:30:00Z
  ok = Write(dir, "request_v2.ics", e) && ok;

  e.sequence = 3;
  e.method = CalendarMethod::kCancel;
  e.dtstamp_utc_ms = 1795908600000;  // 2026-11-28T23:30:00Z
  ok = Write(dir, "cancel_v3.ics", e) && ok;

  CalendarEvent summer;
  summer.uid = "summer-1@kring";
  summer.start_utc_ms = 1782889500000;  // 2026-07-01T07:05:00Z
  summer.end_utc_ms = 1782893100000;    // 2026-07-01T08:05:00Z
  summer.summary = "Zes-wekencheck";
  summer.dtstamp_utc_ms = 1782889500000;
  ok = Write(dir, "summer.ics", summer) && ok;
  return ok ? 0 : 1;
}
