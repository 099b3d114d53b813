#!/usr/bin/env python3
"""Reads .ics files with an independent parser (Debian's python3-icalendar, as the unit test
tests/unit/icalendar_check.py does) and prints what a calendar app would take from each, so a C++
integration test can check exports made by real devices.

Usage: ics_fields.py <file.ics>...
Output per file, one line: name, then tab-separated KEY=value pairs (METHOD UID SEQUENCE STATUS
SUMMARY LOCATION DESCRIPTION START END, START/END as UTC epoch seconds), with backslash, tab and
newline escaped as \\\\, \\t and \\n. Exit 1 (with FAIL lines) when a file does not parse cleanly,
has a line over 75 octets or lines not ending in CRLF."""

import sys
from pathlib import Path

try:
    import icalendar
except ImportError as e:
    sys.exit(f"FAIL: {e}: install python3-icalendar (make deps)")


def esc(s):
    return str(s).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def main():
    failed = False
    for arg in sys.argv[1:]:
        path = Path(arg)
        data = path.read_bytes()
        lines = data.split(b"\r\n")
        if lines[-1] != b"" or any(b"\n" in l or b"\r" in l or len(l) > 75 for l in lines):
            print(f"FAIL {path.name}: lines must end in CRLF and be at most 75 octets")
            failed = True
            continue
        cal = icalendar.Calendar.from_ical(data)
        errors = [c.errors for c in cal.walk() if c.errors]
        events = cal.walk("VEVENT")
        if errors or len(events) != 1:
            print(f"FAIL {path.name}: parser errors {errors} or {len(events)} events")
            failed = True
            continue
        ev = events[0]
        fields = {
            "METHOD": cal.get("METHOD", ""),
            "UID": ev.get("UID", ""),
            "SEQUENCE": ev.get("SEQUENCE", ""),
            "STATUS": ev.get("STATUS", ""),
            "SUMMARY": ev.get("SUMMARY", ""),
            "LOCATION": ev.get("LOCATION", ""),
            "DESCRIPTION": ev.get("DESCRIPTION", ""),
            "START": int(ev["DTSTART"].dt.timestamp()),
            "END": int(ev["DTEND"].dt.timestamp()),
        }
        print(path.name + "".join(f"\t{k}={esc(v)}" for k, v in fields.items()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
