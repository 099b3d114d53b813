// kring export: what a person takes out of the app: the meeting as an iCalendar file and the plan
// on paper (HTML). Each is made for one person and leaves out what is hidden from them: the
// readers (Organising::CalendarFor, PrintablePlan) decide, the pure renderers only format.
#include <fstream>
#include <iostream>

// printout.h first: plan.h declares a function with the name of printout.h's struct
// PrintablePlan, which would hide the struct from printout.h's own declarations.
#include "kring/domain/printout.h"
// (separate block so include sorting keeps this order)
#include "kring/domain/icalendar.h"
#include "kring/domain/organising.h"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"  // the same name clash, reported on plan.h
#include "kring/domain/plan.h"
#pragma GCC diagnostic pop

#include "domain_commands.h"
#include "domain_ctx.h"

namespace kring::cli {
namespace {

// Writes to --out FILE, or stdout.
int Emit(Ctx& ctx, const std::string& text) {
  if (!ctx.Has("out")) {
    std::cout << text;
    return 0;
  }
  std::ofstream out(ctx.Get("out"), std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) {
    return BadInput(ctx, "Dit bestand kan ik niet schrijven.", "Cannot write this file.");
  }
  std::cerr << ctx.T("Opgeslagen in ", "Saved to ") << ctx.Get("out") << "\n";
  return 0;
}

int Ics(Ctx& ctx) {
  auto person = ctx.Person(ctx.Get("person", "me"));
  if (!person.ok()) return Fail(person.status());
  domain::Organising org(ctx.client, ctx.case_id);
  auto meeting = org.CurrentMeeting();
  if (!meeting.ok()) return Fail(meeting.status());
  auto data = org.CalendarFor(meeting->meeting_id, *person);
  if (!data.ok()) return Fail(data.status());
  domain::CalendarEvent e;
  e.uid = data->uid;
  e.sequence = static_cast<uint32_t>(data->sequence);
  e.method = data->cancelled ? domain::CalendarMethod::kCancel : domain::CalendarMethod::kRequest;
  e.start_utc_ms = data->start_ms;
  e.end_utc_ms = data->end_ms;
  // No names in a calendar: it is often shared or synced to other services.
  e.summary = "Netwerkberaad";
  e.location = data->location_text;
  e.description = ctx.T("Het netwerkberaad. Kijk in Kring voor de details.",
                        "The family group conference. See Kring for the details.");
  e.organizer_name = "Kring";
  e.dtstamp_utc_ms = NowMs();
  auto ics = domain::RenderICalendar(e);
  if (!ics.ok()) return Fail(ics.status());
  return Emit(ctx, *ics);
}

domain::PrintAgreementStatus PrintStatus(const std::string& s) {
  if (s == "accepted") return domain::PrintAgreementStatus::kAccepted;
  if (s == "done") return domain::PrintAgreementStatus::kDone;
  if (s == "partly") return domain::PrintAgreementStatus::kPartly;
  if (s == "not_done") return domain::PrintAgreementStatus::kNotDone;
  if (s == "blocked") return domain::PrintAgreementStatus::kBlocked;
  if (s == "dropped") return domain::PrintAgreementStatus::kDropped;
  return domain::PrintAgreementStatus::kProposed;
}

int Printout(Ctx& ctx) {
  auto person = ctx.Person(ctx.Get("person", "me"));
  if (!person.ok()) return Fail(person.status());
  auto view = ctx.client.View(ctx.case_id);
  if (!view.ok()) return Fail(view.status());
  const domain::Printout p = domain::PrintablePlan(*view, *person);
  if (!p.has_plan) return Fail(FailedPrecondition("plan.no_plan"));
  // plan.h names the function and printout.h the struct PrintablePlan.
  struct domain::PrintablePlan page;
  auto resident = domain::Organising(ctx.client, ctx.case_id).GetReferral();
  if (resident.ok()) {
    std::string name = ctx.NameOf(resident->resident_person_id);
    page.resident_first_name = name.substr(0, name.find(' '));
  }
  page.plan_version = static_cast<uint32_t>(p.version_number);
  page.plan_date_utc_ms = p.accepted_at_ms != 0 ? p.accepted_at_ms : NowMs();
  for (const auto& s : p.sections) {
    if (s.heading == "plan.heading.ik_wil") {
      page.i_want.push_back(s.text);
    } else if (s.heading == "plan.heading.ik_kan") {
      page.i_can.push_back(s.text);
    } else if (s.heading == "plan.heading.ik_heb_nodig") {
      page.i_need.push_back(s.text);
    } else {
      page.life_domains.push_back({domain::UserText(s.heading, ctx.lang), s.text});
    }
  }
  for (const auto& a : p.agreements) {
    domain::PrintAgreement pa;
    pa.who = a.owner_name;
    pa.what = a.action;
    if (a.due_ms != 0) pa.due_utc_ms = a.due_ms;
    pa.recurrence = a.recurrence;
    pa.checker = a.checker_name;
    pa.status = PrintStatus(a.status);
    page.agreements.push_back(pa);
  }
  page.contingency = p.contingency;
  page.contact_person_name = p.contact_person_name;
  if (p.review_at_ms != 0) page.review_date_utc_ms = p.review_at_ms;
  auto out = ctx.On("text") ? domain::RenderPlanText(page, ctx.lang)
                            : domain::RenderPlanHtml(page, ctx.lang);
  if (!out.ok()) return Fail(out.status());
  return Emit(ctx, *out);
}

}  // namespace

const std::vector<Verb>& ExportVerbs() {
  static const std::vector<Verb> verbs = {
      {"export",
       "ics",
       "[--person PERSOON] [--out BESTAND.ics]",
       "Het netwerkberaad als agenda-bestand, met alleen wat deze persoon mag zien",
       "The meeting as a calendar file, with only what this person may see",
       {"person", "out"},
       {},
       Ics},
      {"export",
       "printout",
       "[--person PERSOON] [--out BESTAND.html] [--text]",
       "Het plan op papier (HTML) voor iemand zonder app, zonder wat voor hem verborgen is",
       "The plan on paper (HTML) for someone without the app, without what is hidden from them",
       {"person", "out"},
       {"text"},
       Printout},
  };
  return verbs;
}

}  // namespace kring::cli
