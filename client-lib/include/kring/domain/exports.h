// What a person takes out of the app (DOMAIN O7, F7): the meeting as a calendar file and the
// plan on paper. Each joins a reader of case state that leaves out what is hidden from the person
// (Organising::CalendarFor, PrintoutFor) to its pure renderer (icalendar.h, printout.h), so the
// restriction rules live in one place and the renderers never see what they must not print.
//
// Thread-safety: as thread-safe as the Client behind the Organising; RenderPrintout is pure.
#pragma once

#include <cstdint>
#include <string>

#include "kring/common/bytes.h"
#include "kring/common/status.h"
#include "kring/domain/messages.h"
#include "kring/domain/organising.h"
#include "kring/v1/model.pb.h"

namespace kring::domain {

// The meeting as an RFC 5545 file (.ics, UTF-8, CRLF) for `person_id`, made on this device:
//   METHOD:REQUEST, or METHOD:CANCEL (STATUS:CANCELLED) once the meeting is cancelled;
//   UID the meeting's own, stable across every change; SEQUENCE the meeting's, bumped by every
//   change of time, place or cancellation, so a calendar app replaces the earlier invitation;
//   LOCATION what that person may see: the coarse description, plus the exact address only for a
//   confirmed person it is not hidden from (and only if this device can read it);
//   SUMMARY "Netwerkberaad" and a fixed DESCRIPTION in `language`: no names, since a calendar is
//   often shared or synced to other services; ORGANIZER "Kring" with an undeliverable address.
// dtstamp is now_ms (0 = the clock). Errors: Organising::CalendarFor's, the renderer's
// "calendar.*" keys, and "calendar.not_exportable" for a sequence beyond what RFC 5545 allows.
Result<std::string> ExportCalendar(const Organising& organising, const Bytes& meeting_id,
                                   const Bytes& person_id, Language language = Language::kDutch,
                                   int64_t now_ms = 0);

// The plan on paper for `reader_person_id` as one self-contained HTML page (RenderPlanHtml over
// PrintoutFor): without the agreements and plan parts hidden from that person or sealed to a
// scope they are not in. "plan.no_plan" before a plan version this person may see exists;
// "print.*" keys when a text cannot be printed (e.g. a control character).
Result<std::string> RenderPrintout(const v1::CaseState& state, const Bytes& reader_person_id,
                                   Language language = Language::kDutch, int64_t now_ms = 0);

}  // namespace kring::domain
