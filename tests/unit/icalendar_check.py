#!/usr/bin/env python3
"""Parses Kring's .ics exports with an independent parser (Debian's python3-icalendar, which
resolves TZID=Europe/Amsterdam with pytz's copy of the tz database) and checks what a calendar
app would see: the intended instants, UID kept and SEQUENCE increasing across an update, METHOD
and STATUS, non-ASCII and long texts intact, CRLF lines of at most 75 octets, and that our own
VTIMEZONE gives the same offsets as the tz database.

Usage: icalendar_check.py <path to kring_ics_samples>. Exit 0 when every check passes."""

import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

try:
    import icalendar
    import pytz
except ImportError as e:  # a fresh machine gets it from `make deps`
    sys.exit(f"FAIL: {e}: install python3-icalendar (make deps)")

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


UID = "5f1c0a7e9b2d4c6e8a0b1c2d3e4f5a6b@kring"
SUMMARY = "Netwerkberaad met Zoë; koffie, thee"
LOCATION = "Café De Eenhoorn\nKerkstraat 1, Dorp"
DESCRIPTION = "Welkom bij het beraad van René.\n" + (
    "Wij praten over wonen, geld en school; wie doet wat\\wanneer. " * 12)

EXPECTED = {
    # file: (method, sequence, start, end, status)
    "request_v1.ics": ("REQUEST", 1, utc(2026, 12, 5, 18, 30), utc(2026, 12, 5, 20, 30),
                       "CONFIRMED"),
    "request_v2.ics": ("REQUEST", 2, utc(2027, 3, 28, 0, 30), utc(2027, 3, 28, 2, 30),
                       "CONFIRMED"),
    "cancel_v3.ics": ("CANCEL", 3, utc(2027, 3, 28, 0, 30), utc(2027, 3, 28, 2, 30),
                      "CANCELLED"),
}


def raw_checks(name, data):
    text = data.decode("utf-8")  # must be valid UTF-8
    check(data.endswith(b"\r\n"), f"{name}: ends with CRLF")
    lines = data.split(b"\r\n")[:-1]
    for i, line in enumerate(lines):
        check(b"\n" not in line and b"\r" not in line, f"{name}: line {i} has a bare CR/LF")
        check(len(line) <= 75, f"{name}: line {i} is {len(line)} octets")
        line.decode("utf-8")  # every physical line is valid UTF-8 on its own
    return text


def parse(name, data):
    cal = icalendar.Calendar.from_ical(data)
    for comp in cal.walk():
        check(not comp.errors, f"{name}: parser errors in {comp.name}: {comp.errors}")
    check(str(cal["VERSION"]) == "2.0", f"{name}: VERSION")
    check("PRODID" in cal, f"{name}: PRODID")
    events = cal.walk("VEVENT")
    check(len(events) == 1, f"{name}: exactly one VEVENT")
    tzs = cal.walk("VTIMEZONE")
    check(len(tzs) == 1 and str(tzs[0]["TZID"]) == "Europe/Amsterdam", f"{name}: VTIMEZONE")
    return cal, events[0], tzs[0]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: icalendar_check.py <kring_ics_samples>")
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.argv[1], d], check=True)
        files = {p.name: p.read_bytes() for p in Path(d).glob("*.ics")}

    check(set(files) == set(EXPECTED) | {"summer.ics"}, f"sample files: {sorted(files)}")
    sequences = []
    for name, (method, seq, start, end, status) in EXPECTED.items():
        data = files[name]
        raw_checks(name, data)
        cal, ev, vtz = parse(name, data)
        check(str(cal["METHOD"]) == method, f"{name}: METHOD {cal.get('METHOD')}")
        check(str(ev["UID"]) == UID, f"{name}: UID {ev.get('UID')}")
        check(int(ev["SEQUENCE"]) == seq, f"{name}: SEQUENCE")
        sequences.append(int(ev["SEQUENCE"]))
        check(str(ev["STATUS"]) == status, f"{name}: STATUS")
        dtstart, dtend = ev["DTSTART"], ev["DTEND"]
        check(dtstart.params.get("TZID") == "Europe/Amsterdam", f"{name}: DTSTART TZID")
        check(dtstart.dt.tzinfo is not None, f"{name}: DTSTART is zone-aware")
        check(dtstart.dt == start, f"{name}: DTSTART {dtstart.dt} != {start}")
        check(dtend.dt == end, f"{name}: DTEND {dtend.dt} != {end}")
        stamp = ev["DTSTAMP"].dt
        check(stamp.utcoffset() == timedelta(0), f"{name}: DTSTAMP in UTC")
        check(str(ev["SUMMARY"]) == SUMMARY, f"{name}: SUMMARY {str(ev['SUMMARY'])!r}")
        check(str(ev["LOCATION"]) == LOCATION, f"{name}: LOCATION {str(ev['LOCATION'])!r}")
        check(str(ev["DESCRIPTION"]) == DESCRIPTION, f"{name}: DESCRIPTION differs")
        org = ev["ORGANIZER"]
        check(org.params.get("CN") == "Els Jansen (coördinator)", f"{name}: ORGANIZER CN")
        check(str(org) == "mailto:noreply@kring.invalid", f"{name}: ORGANIZER address")

        # Our VTIMEZONE, interpreted by the parser's own RRULE engine, must agree with the tz
        # database every month from 2024 to 2037 and right around each change (pytz's tables,
        # and so this comparison, stop after 2037).
        ours = vtz.to_tz()
        ams = pytz.timezone("Europe/Amsterdam")
        instants = [utc(y, m, 10, 12) for y in range(2024, 2038) for m in range(1, 13)]
        for y in range(2024, 2038):
            for month in (3, 10):
                last = max(utc(y, month, d, 1) for d in range(25, 32)
                           if utc(y, month, d).weekday() == 6)
                instants += [last - timedelta(seconds=1), last, last + timedelta(hours=1)]
        for t in instants:
            check(t.astimezone(ours).utcoffset() == t.astimezone(ams).utcoffset(),
                  f"{name}: VTIMEZONE offset at {t.isoformat()}")
        # Wall-clock text in the file matches the tz database's local time.
        check(dtstart.to_ical().decode() == start.astimezone(ams).strftime("%Y%m%dT%H%M%S"),
              f"{name}: DTSTART wall clock {dtstart.to_ical()!r}")

    check(sequences == sorted(sequences) and len(set(sequences)) == len(sequences),
          f"SEQUENCE increases across updates: {sequences}")

    data = files["summer.ics"]
    raw_checks("summer.ics", data)
    _, ev, _ = parse("summer.ics", data)
    check(ev["DTSTART"].dt == utc(2026, 7, 1, 7, 5), "summer.ics: DTSTART instant")
    check(ev["DTSTART"].to_ical() == b"20260701T090500", "summer.ics: DTSTART wall clock")
    check("ORGANIZER" not in ev and "LOCATION" not in ev, "summer.ics: no empty properties")

    if failures:
        print(f"icalendar_check: {len(failures)} checks failed")
        return 1
    print("icalendar_check: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
