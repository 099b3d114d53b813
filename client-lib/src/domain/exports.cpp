#include "kring/domain/exports.h"

#include <chrono>
#include <cstdint>
#include <limits>

#include "kring/domain/icalendar.h"
#include "kring/domain/plan.h"
#include "kring/domain/printout.h"

#include "domain/render_text.h"

namespace kring::domain {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::string> ExportCalendar(const Organising& organising, const Bytes& meeting_id,
                                   const Bytes& person_id, Language language, int64_t now_ms) {
  KRING_ASSIGN_OR_RETURN(CalendarData data, organising.CalendarFor(meeting_id, person_id));
  // RFC 5545 allows SEQUENCE up to 2^31-1; a meeting cannot honestly change that often.
  if (data.sequence < 0 || data.sequence > std::numeric_limits<int32_t>::max()) {
    return FailedPrecondition("calendar.not_exportable");
  }
  CalendarEvent event;
  event.uid = data.uid;
  event.sequence = static_cast<uint32_t>(data.sequence);
  event.method = data.cancelled ? CalendarMethod::kCancel : CalendarMethod::kRequest;
  event.start_utc_ms = data.start_ms;
  event.end_utc_ms = data.end_ms;
  event.summary =
      UserText(data.cancelled ? "calendar.summary_cancelled" : "calendar.summary", language);
  event.description = UserText(
      data.cancelled ? "calendar.description_cancelled" : "calendar.description", language);
  // The kind of place first (at home, a venue, online): the coarse text alone may not say it,
  // and for an online meeting there is nowhere to travel to.
  const std::string kind =
      UserText(std::string("calendar.location_") + LocationKindName(data.location_kind), language);
  const std::string where =
      render::WithoutControlChars(data.location_text, /*allow_newlines=*/true);
  event.location = where.empty() ? kind : kind + ": " + where;
  event.organizer_name = UserText("calendar.organizer", language);
  event.dtstamp_utc_ms = now_ms != 0 ? now_ms : NowMs();
  return RenderICalendar(event);
}

Result<std::string> RenderPrintout(const v1::CaseState& state, const Bytes& reader_person_id,
                                   Language language, int64_t now_ms) {
  KRING_ASSIGN_OR_RETURN(PrintablePlan plan,
                         PrintoutFor(state, reader_person_id, language, now_ms));
  return RenderPlanHtml(plan, language);
}

}  // namespace kring::domain
