// kring export: what a person takes out of the app: the meeting as an iCalendar file and the plan
// on paper (HTML or text). Each is made for one person and leaves out what is hidden from them:
// exports.h (ExportCalendar, RenderPrintout over PrintoutFor) decides, this file only writes.
#include <fstream>
#include <iostream>

#include "kring/domain/exports.h"
#include "kring/domain/organising.h"
#include "kring/domain/plan.h"
#include "kring/domain/printout.h"

#include "domain_commands.h"
#include "domain_ctx.h"
#include "terminal_text.h"

namespace kring::cli {
namespace {

// Writes to --out FILE as it is, or to stdout. On stdout the printout passes the terminal filter
// like all other text; the calendar needs its CRLF line ends and has no control characters
// (RenderICalendar refuses them), so it goes as it is.
int Emit(Ctx& ctx, const std::string& text, bool raw = false) {
  if (!ctx.Has("out")) {
    (raw ? RawOut() : std::cout) << text;
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
  auto ics = domain::ExportCalendar(org, meeting->meeting_id, *person, ctx.lang);
  if (!ics.ok()) return Fail(ics.status());
  return Emit(ctx, *ics, /*raw=*/true);
}

int Printout(Ctx& ctx) {
  auto person = ctx.Person(ctx.Get("person", "me"));
  if (!person.ok()) return Fail(person.status());
  auto view = ctx.client.View(ctx.case_id);
  if (!view.ok()) return Fail(view.status());
  if (!ctx.On("text")) {
    auto html = domain::RenderPrintout(*view, *person, ctx.lang);
    if (!html.ok()) return Fail(html.status());
    return Emit(ctx, *html);
  }
  auto page = domain::PrintoutFor(*view, *person, ctx.lang);
  if (!page.ok()) return Fail(page.status());
  auto text = domain::RenderPlanText(*page, ctx.lang);
  if (!text.ok()) return Fail(text.status());
  return Emit(ctx, *text);
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
