// kring poll / meeting: choosing the date, fixing the meeting with its (restricted) location, the
// meeting's phases with the network's private time (DOMAIN step 3 and the meeting itself), and
// its record: who attended, short notes, and closing it.
#include <cstdlib>
#include <iostream>
#include <optional>

#include "kring/domain/organising.h"

#include "domain_commands.h"
#include "domain_ctx.h"
#include "number_arg.h"
#include "words.h"

namespace kring::cli {
namespace {

using domain::Organising;

constexpr int64_t kMinuteMs = 60'000;

// --poll ID, or the case's current poll (Organising::CurrentPoll).
Result<Bytes> PollId(Ctx& ctx) {
  if (ctx.Has("poll")) {
    auto id = ParseId(ctx.Get("poll"));
    if (!id) return InvalidArgument(std::string("--poll: ") + Text(Msg::kBadId));
    return *id;
  }
  KRING_ASSIGN_OR_RETURN(domain::Poll poll, Organising(ctx.client, ctx.case_id).CurrentPoll());
  return poll.poll_id;
}

// A meeting's start typed for option --name: a date alone would be midnight without a word, so
// it needs the time of day. Otherwise as OptionTime.
Result<int64_t> StartTime(const Ctx& ctx, const std::string& name, const std::string& text) {
  if (IsDateOnly(text)) {
    return UsageError("--" + name +
                      ctx.T(": geef ook de tijd, bijvoorbeeld 5-12-2026 19:30.",
                            ": give the time too, for example 5-12-2026 19:30."));
  }
  return OptionTime(name, text);
}

// --meeting ID, or the current meeting.
Result<Bytes> MeetingId(Ctx& ctx) {
  if (ctx.Has("meeting")) {
    auto id = ParseId(ctx.Get("meeting"));
    if (!id) return InvalidArgument(std::string("--meeting: ") + Text(Msg::kBadId));
    return *id;
  }
  KRING_ASSIGN_OR_RETURN(domain::Meeting m, Organising(ctx.client, ctx.case_id).CurrentMeeting());
  return m.meeting_id;
}

// A slot by its number in the poll (1, 2 ...) or its id. What names no slot of the poll is
// refused with the slot as typed (a number or an id; other words are not echoed, they may be a
// name) and the numbers the poll has.
Result<Bytes> SlotId(Ctx& ctx, const Bytes& poll_id, const std::string& ref) {
  KRING_ASSIGN_OR_RETURN(domain::Poll poll, Organising(ctx.client, ctx.case_id).GetPoll(poll_id));
  const std::optional<Bytes> id = ParseId(ref);
  if (id) {
    for (const domain::Slot& s : poll.slots) {
      if (s.slot_id == *id) return *id;
    }
  }
  const std::optional<int64_t> n =
      id ? std::nullopt : ParseWholeNumber(ref, 1, static_cast<int64_t>(poll.slots.size()));
  if (n) return poll.slots[static_cast<size_t>(*n - 1)].slot_id;
  const bool number =
      !ref.empty() && ref.size() <= 9 && ref.find_first_not_of("0123456789") == std::string::npos;
  const std::string named = number || id ? ref : "?";
  const std::string count = std::to_string(poll.slots.size());
  return InvalidArgument(
      ctx.english()
          ? "SLOT " + named + ": this slot is not in the poll. Give its number, 1 to " + count +
                " (kring poll show), or its id."
          : "MOMENT " + named + ": dit moment staat niet in de prikker. Geef het nummer, 1 tot " +
                "en met " + count + " (kring poll show), of de id.");
}

// The kind of place in the user's words (thuis, locatie, online), as --kind takes them.
std::string LocationKindText(const Ctx& ctx, domain::LocationKind kind) {
  return ShowWord(ctx, kLocationKinds, domain::LocationKindName(kind));
}

Result<domain::LocationInput> Location(Ctx& ctx) {
  domain::LocationInput l;
  // Only the listed words: another word taken as "home" would put the meeting in the wrong place.
  const std::optional<std::string> kind = TypedWord(kLocationKinds, ctx.Get("kind", "home"));
  if (!kind) {
    const std::string choices = WordChoices(ctx, kLocationKinds);
    return UsageError(ctx.T("--kind: kies ", "--kind: choose ") + choices + ".");
  }
  l.kind = *kind == "venue"    ? domain::LocationKind::kVenue
           : *kind == "online" ? domain::LocationKind::kOnline
                               : domain::LocationKind::kHome;
  l.coarse = ctx.Get("coarse");
  l.exact = ctx.Get("exact");
  KRING_ASSIGN_OR_RETURN(l.hidden_from, ctx.People(ctx.All("hidden-from")));
  return l;
}

int PollCreate(Ctx& ctx) {
  domain::PollInput in;
  int64_t minutes = std::atoll(ctx.Get("minutes", "120").c_str());
  if (minutes < 15 || minutes > 24 * 60)
    return BadInput(ctx, "--minutes: 15 tot 1440", "--minutes: 15 to 1440");
  for (const std::string& s : ctx.All("slot")) {
    auto start = StartTime(ctx, "slot", s);
    if (!start.ok()) return Fail(start.status());
    // A poll asks when people can come: a moment already past cannot be one of the answers.
    if (*start < NowMs()) {
      return BadInput(ctx, "--slot: dit moment is al voorbij. Kies een moment later dan nu.",
                      "--slot: this moment has passed. Choose a moment after now.");
    }
    in.slots.push_back({{}, *start, *start + minutes * kMinuteMs});
  }
  auto required = ctx.People(ctx.All("required"));
  if (!required.ok()) return Fail(required.status());
  in.required = *required;
  // Without --deadline the poll closes in two days, or at the first moment if that comes sooner.
  // A date alone: people can answer until the end of that day.
  const bool deadline_given = ctx.Has("deadline");
  auto deadline = ctx.DueTime("deadline", "now+2d");
  if (!deadline.ok()) return Fail(deadline.status());
  in.deadline_ms = *deadline;
  if (!deadline_given) {
    for (const auto& slot : in.slots) in.deadline_ms = std::min(in.deadline_ms, slot.start_ms);
  }
  in.replace = ctx.On("vervang") || ctx.On("replace");
  Organising org(ctx.client, ctx.case_id);
  // Asked before: after it, the new poll is the current one.
  const bool had_poll = org.CurrentPoll().ok();
  auto id = org.CreatePoll(in);
  if (!id.ok() && id.status().message() == "poll.open_has_answers") {
    // A question to the user, not a failure: the same command with --vervang does it.
    return BadInput(ctx,
                    "Er is al een open prikker en mensen hebben daarop geantwoord. Een nieuwe "
                    "prikker vervangt hem: die antwoorden tellen dan niet meer. Wil je dat? "
                    "Geef dezelfde opdracht dan met --vervang. Bekijk de antwoorden met: kring "
                    "poll answers",
                    "There is already an open poll and people have answered it. A new poll "
                    "replaces it: those answers no longer count. Is that what you want? Then give "
                    "the same command with --replace. See the answers with: kring poll answers");
  }
  if (!id.ok()) return Fail(id.status());
  // Said before the sync: `poll show`, `poll answer` and `poll fix` now mean the new poll.
  if (had_poll) std::cerr << domain::UserText("poll.replaced_earlier", ctx.lang) << "\n";
  return ctx.Made("poll", *id, "Prikker gemaakt. Iedereen kan nu zeggen wanneer hij kan.",
                  "Poll created. Everyone can now say when they can come.");
}

int PollShow(Ctx& ctx) {
  auto id = PollId(ctx);
  if (!id.ok()) return Fail(id.status());
  Organising org(ctx.client, ctx.case_id);
  auto poll = org.GetPoll(*id);
  if (!poll.ok()) return Fail(poll.status());
  // The meeting fixed from this poll, if one was (the newest meeting; a later poll's replaces it).
  std::optional<domain::Meeting> meeting;
  if (auto current = org.CurrentMeeting(); current.ok() && current->poll_id == poll->poll_id) {
    meeting = *current;
  }
  if (ctx.json) {
    std::vector<std::string> slots;
    for (const auto& s : poll->slots) {
      slots.push_back(JObj(
          {{"id", JId(s.slot_id)}, {"start_ms", JNum(s.start_ms)}, {"end_ms", JNum(s.end_ms)}}));
    }
    std::string fixed = "null";
    if (meeting) {
      fixed = JObj({{"id", JId(meeting->meeting_id)},
                    {"slot", JId(meeting->slot_id)},
                    {"start_ms", JNum(meeting->start_ms)},
                    {"cancelled", JBool(meeting->cancelled)},
                    {"location_kind", JStr(domain::LocationKindName(meeting->location_kind))},
                    {"coarse_location", JStr(meeting->coarse_location)}});
    }
    PrintJson(JObj({{"id", JId(poll->poll_id)},
                    {"slots", JArr(slots)},
                    {"deadline_ms", JNum(poll->deadline_ms)},
                    {"meeting", fixed}}));
    return 0;
  }
  int n = 1;
  for (const auto& s : poll->slots) std::cout << n++ << ". " << ShowTime(ctx, s.start_ms) << "\n";
  if (!meeting) {
    std::cout << ctx.T("Antwoord graag voor ", "Please answer before ")
              << ShowTime(ctx, poll->deadline_ms) << "\n";
    return 0;
  }
  // Fixed from this poll: when and where it is, not a deadline that no longer matters.
  std::cout << (meeting->cancelled
                    ? ctx.T("Het netwerkberaad stond vast op ", "The meeting was fixed for ")
                    : ctx.T("Het netwerkberaad staat vast: ", "The meeting is fixed: "))
            << ShowTime(ctx, meeting->start_ms)
            << (meeting->cancelled ? ctx.T(" (afgezegd)", " (cancelled)") : "") << "\n"
            << ctx.T("Waar: ", "Where: ") << meeting->coarse_location << " ("
            << LocationKindText(ctx, meeting->location_kind) << ")\n";
  return 0;
}

int PollAnswer(Ctx& ctx) {
  auto id = PollId(ctx);
  if (!id.ok()) return Fail(id.status());
  auto person = ctx.Person(ctx.Get("person", "me"));
  if (!person.ok()) return Fail(person.status());
  if (ctx.positional.size() != 2) return ctx.Usage();
  auto slot = SlotId(ctx, *id, ctx.Pos(0));
  if (!slot.ok()) return Fail(slot.status());
  // "if need be" is "als het moet" (DOMAIN.md), in any case ("Ja"); "misschien" and "maybe",
  // the words of earlier versions, are still taken so older scripts keep working.
  static constexpr Word kOlderWords[] = {{"if_need_be", "misschien", "maybe"}};
  std::optional<std::string> typed = TypedWord(kPollAnswers, ctx.positional[1]);
  if (!typed) typed = TypedWord(kOlderWords, ctx.positional[1]);
  if (!typed) {
    const std::string choices = WordChoices(ctx, kPollAnswers);
    return BadInput(ctx, "Kies: " + choices + ".", "Choose: " + choices + ".");
  }
  const domain::Answer answer = *typed == "yes"          ? domain::Answer::kYes
                                : *typed == "if_need_be" ? domain::Answer::kIfNeedBe
                                                         : domain::Answer::kNo;
  Status s = Organising(ctx.client, ctx.case_id).AnswerPoll(*id, *person, *slot, answer);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Antwoord opgeslagen.", "Answer saved.");
}

// The answers this device may see: everyone's for the chair and coordinator, else one's own.
int PollAnswers(Ctx& ctx) {
  auto id = PollId(ctx);
  if (!id.ok()) return Fail(id.status());
  Organising org(ctx.client, ctx.case_id);
  auto answers = org.Answers(*id);
  if (!answers.ok()) return Fail(answers.status());
  auto poll = org.GetPoll(*id);
  if (!poll.ok()) return Fail(poll.status());
  auto slot_number = [&](const Bytes& slot) {
    for (size_t i = 0; i < poll->slots.size(); ++i) {
      if (poll->slots[i].slot_id == slot) return static_cast<int64_t>(i + 1);
    }
    return int64_t{0};
  };
  auto word = [&](domain::Answer a) {
    return a == domain::Answer::kYes        ? ctx.T("ja", "yes")
           : a == domain::Answer::kIfNeedBe ? ctx.T("als het moet", "if need be")
                                            : ctx.T("nee", "no");
  };
  std::vector<std::string> rows;
  for (const domain::PollAnswer& a : *answers) {
    if (ctx.json) {
      rows.push_back(JObj({{"person", JId(a.person_id)},
                           {"slot", JId(a.slot_id)},
                           {"number", JNum(slot_number(a.slot_id))},
                           {"answer", JStr(a.answer == domain::Answer::kYes        ? "yes"
                                           : a.answer == domain::Answer::kIfNeedBe ? "maybe"
                                                                                   : "no")}}));
      continue;
    }
    std::cout << ctx.NameOf(a.person_id) << ": " << slot_number(a.slot_id) << ". " << word(a.answer)
              << "\n";
  }
  if (ctx.json) PrintJson(JArr(rows));
  if (!ctx.json && answers->empty())
    std::cout << ctx.T("Nog geen antwoorden die jij mag zien.", "No answers you may see yet.")
              << "\n";
  return 0;
}

int PollTally(Ctx& ctx) {
  auto id = PollId(ctx);
  if (!id.ok()) return Fail(id.status());
  Organising org(ctx.client, ctx.case_id);
  auto tally = org.Tally(*id);
  if (!tally.ok()) return Fail(tally.status());
  auto poll = org.GetPoll(*id);
  if (!poll.ok()) return Fail(poll.status());
  std::vector<std::string> rows;
  int n = 1;
  for (const auto& t : *tally) {
    int64_t start = 0;
    for (const auto& s : poll->slots) {
      if (s.slot_id == t.slot_id) start = s.start_ms;
    }
    std::vector<std::string> req_no;
    for (const Bytes& p : t.required_no) req_no.push_back(JId(p));
    if (ctx.json) {
      rows.push_back(JObj({{"slot", JId(t.slot_id)},
                           {"start_ms", JNum(start)},
                           {"yes", JNum(t.yes)},
                           {"if_need_be", JNum(t.if_need_be)},
                           {"no", JNum(t.no)},
                           {"required_no", JArr(req_no)}}));
      continue;
    }
    std::cout << n++ << ". " << ShowTime(ctx, start) << ": " << t.yes << ctx.T(" ja, ", " yes, ")
              << t.if_need_be << ctx.T(" als het moet, ", " if need be, ") << t.no
              << ctx.T(" nee", " no");
    for (const Bytes& p : t.required_no)
      std::cout << ctx.T("  (kan niet: ", "  (cannot: ") << ctx.NameOf(p) << ")";
    std::cout << "\n";
  }
  if (ctx.json) PrintJson(JArr(rows));
  return 0;
}

int PollFix(Ctx& ctx) {
  auto id = PollId(ctx);
  if (!id.ok()) return Fail(id.status());
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto slot = SlotId(ctx, *id, ctx.Pos(0));
  if (!slot.ok()) return Fail(slot.status());
  auto location = Location(ctx);
  if (!location.ok()) return Fail(location.status());
  domain::FixOverrides overrides{ctx.Get("no-pretalk-reason"), ctx.Get("required-no-reason")};
  auto meeting = Organising(ctx.client, ctx.case_id).FixMeeting(*id, *slot, *location, overrides);
  if (!meeting.ok()) return Fail(meeting.status());
  return ctx.Made("meeting", *meeting, "Het netwerkberaad staat vast.", "The meeting is fixed.");
}

std::string PhaseText(const Ctx& ctx, domain::Phase p) {
  return ShowWord(ctx, kMeetingPhases, domain::PhaseName(p));
}

std::string AttendanceText(const Ctx& ctx, domain::Attendance a) {
  switch (a) {
    case domain::Attendance::kPresent:
      return ctx.T("was er", "was there");
    case domain::Attendance::kWrittenView:
      return ctx.T("gaf een mening op papier", "sent a written view");
    case domain::Attendance::kAbsent:
      return ctx.T("was er niet", "was absent");
  }
  return "";
}

// The name of the person linked to an account, or "?".
std::string NameOfAccount(const Ctx& ctx, const Bytes& account) {
  auto circle = Organising(ctx.client, ctx.case_id).Circle();
  if (circle.ok()) {
    for (const domain::Person& p : *circle) {
      if (!p.account_id.empty() && p.account_id == account) return p.name;
    }
  }
  return "?";
}

int MeetingShow(Ctx& ctx) {
  auto m = Organising(ctx.client, ctx.case_id).CurrentMeeting();
  if (!m.ok()) return Fail(m.status());
  if (ctx.json) {
    PrintJson(JObj({{"id", JId(m->meeting_id)},
                    {"start_ms", JNum(m->start_ms)},
                    {"end_ms", JNum(m->end_ms)},
                    {"spoed", JBool(m->spoed)},
                    {"cancelled", JBool(m->cancelled)},
                    {"location_kind", JStr(domain::LocationKindName(m->location_kind))},
                    {"coarse_location", JStr(m->coarse_location)},
                    {"exact_location", JStr(m->exact_location)},
                    {"phase", JStr(domain::PhaseName(m->phase))},
                    {"sequence", JNum(m->sequence)},
                    {"draft_released", JBool(m->draft_released)},
                    {"finished_at_ms", JNum(m->finished_at_ms)}}));
    return 0;
  }
  std::cout << ctx.T("Netwerkberaad: ", "Meeting: ") << ShowTime(ctx, m->start_ms)
            << (m->cancelled ? ctx.T(" (afgezegd)", " (cancelled)") : "") << "\n"
            << ctx.T("Waar: ", "Where: ") << m->coarse_location << "\n"
            << ctx.T("Soort plek: ", "Kind of place: ") << LocationKindText(ctx, m->location_kind)
            << "\n";
  if (!m->exact_location.empty())
    std::cout << ctx.T("Adres: ", "Address: ") << m->exact_location << "\n";
  std::cout << ctx.T("Fase: ", "Phase: ") << PhaseText(ctx, m->phase);
  // Released, still in private time: what is left is the plan, whose release ends it.
  if (m->phase == domain::Phase::kPrivateTime && m->draft_released) {
    std::cout << ctx.T(
        " (vrijgegeven; de eigen tijd is voorbij zodra het plan is vrijgegeven: "
        "kring plan release)",
        " (released; private time is over once the plan is released: kring plan "
        "release)");
  }
  std::cout << "\n";
  if (m->finished())
    std::cout << ctx.T("Afgerond: ", "Finished: ") << ShowTime(ctx, m->finished_at_ms) << "\n";
  for (const domain::AttendanceEntry& a : m->attendance)
    std::cout << "  " << ctx.NameOf(a.person_id) << ": " << AttendanceText(ctx, a.attendance)
              << "\n";
  return 0;
}

int Attend(Ctx& ctx) {
  if (ctx.positional.size() != 2) return ctx.Usage();
  auto person = ctx.Person(ctx.Pos(0));
  if (!person.ok()) return Fail(person.status());
  const std::optional<std::string> a = TypedWord(kAttendances, ctx.positional[1]);
  if (!a) {
    return BadInput(ctx, "Kies: aanwezig, schriftelijk of afwezig.",
                    "Choose: present, written or absent.");
  }
  const domain::Attendance attendance = *a == "present"   ? domain::Attendance::kPresent
                                        : *a == "written" ? domain::Attendance::kWrittenView
                                                          : domain::Attendance::kAbsent;
  auto id = MeetingId(ctx);
  if (!id.ok()) return Fail(id.status());
  Status s = Organising(ctx.client, ctx.case_id).RecordAttendance(*id, *person, attendance);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Aanwezigheid opgeslagen.", "Attendance saved.");
}

int AttendanceList(Ctx& ctx) {
  auto id = MeetingId(ctx);
  if (!id.ok()) return Fail(id.status());
  auto m = Organising(ctx.client, ctx.case_id).GetMeeting(*id);
  if (!m.ok()) return Fail(m.status());
  std::vector<std::string> rows;
  for (const domain::AttendanceEntry& a : m->attendance) {
    if (ctx.json) {
      rows.push_back(JObj({{"person", JId(a.person_id)},
                           {"attendance", JStr(domain::AttendanceName(a.attendance))}}));
      continue;
    }
    std::cout << ctx.NameOf(a.person_id) << ": " << AttendanceText(ctx, a.attendance) << "\n";
  }
  if (ctx.json) PrintJson(JArr(rows));
  if (!ctx.json && m->attendance.empty())
    std::cout << ctx.T("Nog niet bijgehouden wie er was.", "No attendance recorded yet.") << "\n";
  return 0;
}

int Note(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  auto id = MeetingId(ctx);
  if (!id.ok()) return Fail(id.status());
  auto note = Organising(ctx.client, ctx.case_id).AddMeetingNote(*id, ctx.Pos(0));
  if (!note.ok()) return Fail(note.status());
  auto scope = ctx.client.ScopeOf(ctx.case_id, *note);
  if (scope.ok() && *scope != 0) {
    return ctx.Made(
        "note", *note,
        "Aantekening opgeslagen. Alleen het netwerk leest dit, tot het netwerk het plan vrijgeeft. "
        "Daarna leest iedereen het.",
        "Note saved. Only the network reads it, until the network releases the plan. After "
        "that everyone reads it.");
  }
  return ctx.Made("note", *note, "Aantekening opgeslagen.", "Note saved.");
}

int Notes(Ctx& ctx) {
  auto id = MeetingId(ctx);
  if (!id.ok()) return Fail(id.status());
  auto notes = Organising(ctx.client, ctx.case_id).MeetingNotes(*id);
  if (!notes.ok()) return Fail(notes.status());
  std::vector<std::string> rows;
  for (const domain::MeetingNote& n : *notes) {
    if (ctx.json) {
      rows.push_back(JObj({{"id", JId(n.note_id)},
                           {"author", JId(n.author_account_id)},
                           {"written_at_ms", JNum(n.written_at_ms)},
                           {"phase", JStr(domain::PhaseName(n.phase))},
                           {"private_time", JBool(n.private_time)},
                           {"text", JStr(n.text)}}));
      continue;
    }
    std::cout << ShowTime(ctx, n.written_at_ms) << ", " << NameOfAccount(ctx, n.author_account_id)
              << (n.private_time ? ctx.T(" (eigen tijd)", " (private time)") : "") << ":\n"
              << n.text << "\n";
  }
  if (ctx.json) PrintJson(JArr(rows));
  if (!ctx.json && notes->empty())
    std::cout << ctx.T("Nog geen aantekeningen die jij mag zien.", "No notes you may see yet.")
              << "\n";
  return 0;
}

int Finish(Ctx& ctx) {
  auto id = MeetingId(ctx);
  if (!id.ok()) return Fail(id.status());
  Status s = Organising(ctx.client, ctx.case_id).FinishMeeting(*id);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Het beraad is afgerond. Er kan nu niets meer aan veranderen.",
                  "The meeting is finished. Nothing about it can change now.");
}

int MeetingPhase(Ctx& ctx) {
  if (ctx.positional.size() != 1) return ctx.Usage();
  // The three phases this command starts (private time has its own command).
  const std::string p = DomainWord(kMeetingPhases, ctx.positional[0]);
  domain::Phase phase = p == "information"         ? domain::Phase::kInformation
                        : p == "plan_presentation" ? domain::Phase::kPlanPresentation
                        : p == "acceptance"        ? domain::Phase::kAcceptance
                                                   : domain::Phase::kNotStarted;
  if (phase == domain::Phase::kNotStarted) {
    return BadInput(ctx,
                    "Kies: informatie, plan-voorstellen of plan-aannemen (de eigen tijd: "
                    "kring meeting private-time).",
                    "Choose: information, plan-presentation or acceptance (private time: kring "
                    "meeting private-time).");
  }
  auto id = MeetingId(ctx);
  if (!id.ok()) return Fail(id.status());
  Status s = Organising(ctx.client, ctx.case_id).StartPhase(*id, phase);
  if (!s.ok()) return Fail(s);
  // Named in the words this command takes, so the user sees which phase they set.
  const std::string nl = "Deze fase is begonnen: " + ShowWord(ctx, kMeetingPhases, p) + ".";
  const std::string en = "This phase has started: " + ShowWord(ctx, kMeetingPhases, p) + ".";
  return ctx.Done(nl.c_str(), en.c_str());
}

int PrivateTime(Ctx& ctx) {
  auto id = MeetingId(ctx);
  if (!id.ok()) return Fail(id.status());
  auto scope = Organising(ctx.client, ctx.case_id).StartPrivateTime(*id);
  if (!scope.ok()) return Fail(scope.status());
  const char* nl =
      "Eigen tijd: alleen het netwerk leest nu wat het schrijft. De gespreksleider en de "
      "professionals lezen het pas als het netwerk het vrijgeeft (kring meeting release).";
  const char* en =
      "Private time: only the network reads what it writes now. The coordinator and the "
      "professionals read it only once the network releases it (kring meeting release).";
  // The scope's number means nothing to a person: only --json gives it, for scripts.
  if (!ctx.json) return ctx.Done(nl, en);
  return ctx.Made("scope", std::to_string(*scope), JNum(*scope), nl, en);
}

// What the release makes readable for the coordinator and professionals, told before it happens:
// it cannot be taken back.
int ReleasePreview(Ctx& ctx, Organising& org, const Bytes& meeting) {
  auto what = org.WhatReleaseShares(meeting);
  if (!what.ok()) return Fail(what.status());
  const std::string notes = std::to_string(what->notes);
  const std::string agreements = std::to_string(what->agreements);
  // The counts are this device's view; the release fetches the case first and shares what it
  // then holds. Run again after the release, it shares what reached this device since.
  auto m = org.GetMeeting(meeting);
  const bool again = m.ok() && m->draft_released;
  std::string nl =
      std::string(again ? "Het netwerk gaf al vrij; nu gaat het om wat dit apparaat daarna nog "
                          "ontving. "
                        : "Je hebt nog niet vrijgegeven. ") +
      "Na het vrijgeven lezen ook de gespreksleider en de "
      "professionals wat het netwerk in de eigen tijd schreef:\n"
      "- aantekeningen: " +
      notes +
      " (iedereen in de kring leest ze)\n"
      "- afspraken: " +
      agreements +
      " (een professional leest alleen de afspraken die hij of zij uitvoert of controleert, "
      "tenzij de hoofdpersoon meer toestaat)\n";
  std::string en =
      std::string(again ? "The network released already; this is about what reached this device "
                          "since. "
                        : "Nothing is released yet. ") +
      "After the release the coordinator and the professionals also "
      "read what the network wrote in private time:\n"
      "- notes: " +
      notes +
      " (everyone in the circle reads them)\n"
      "- agreements: " +
      agreements +
      " (a professional reads only the agreements they carry out or check, unless the resident "
      "allows more)\n";
  if (what->drafts > 0) {
    nl +=
        "Het concept blijft bij het netwerk, tot iemand het plan vrijgeeft (kring plan release). "
        "Daarmee is de eigen tijd voorbij.\n";
    en +=
        "The draft stays with the network until someone releases the plan (kring plan release). "
        "That ends private time.\n";
  }
  nl += "Dit kun je niet terugdraaien. Geef vrij met: kring meeting release --yes";
  en += "This cannot be undone. Release with: kring meeting release --yes";
  // Nothing changed: exit 2, as for a confirmation left out elsewhere (case erase).
  if (ctx.json) {
    PrintJson(JObj({{"released", JBool(false)},
                    {"notes", JNum(static_cast<int64_t>(what->notes))},
                    {"agreements", JNum(static_cast<int64_t>(what->agreements))},
                    {"drafts", JNum(static_cast<int64_t>(what->drafts))}}));
  } else {
    std::cout << (ctx.english() ? en : nl) << "\n";
  }
  return 2;
}

int Release(Ctx& ctx) {
  auto id = MeetingId(ctx);
  if (!id.ok()) return Fail(id.status());
  Organising org(ctx.client, ctx.case_id);
  if (!ctx.On("yes")) return ReleasePreview(ctx, org, *id);
  Status s = org.ReleaseDraft(*id);
  if (!s.ok()) return Fail(s);
  // The notes the release shared: the circle's copies of private-time notes.
  size_t shared = 0;
  auto notes = org.MeetingNotes(*id);
  if (notes.ok()) {
    for (const domain::MeetingNote& n : *notes) shared += n.private_time ? 1 : 0;
  }
  // What is left of the release: the plan itself, whose version ends private time.
  const std::string next_nl =
      " Geef nu het plan vrij: kring plan release CONCEPT (kring plan drafts). Daarmee is de "
      "eigen tijd voorbij.";
  const std::string next_en =
      " Now release the plan: kring plan release DRAFT (kring plan drafts). That ends private "
      "time.";
  if (shared == 0) {
    return ctx.Done(("Het netwerk geeft vrij wat het in de eigen tijd maakte." + next_nl).c_str(),
                    ("The network releases what it made in private time." + next_en).c_str());
  }
  const std::string n = std::to_string(shared);
  const std::string nl =
      "Het netwerk geeft vrij wat het in de eigen tijd maakte. Iedereen kan nu ook de "
      "aantekeningen uit de eigen tijd lezen (" +
      n + ")." + next_nl;
  const std::string en =
      "The network releases what it made in private time. Everyone can now also read the notes "
      "from private time (" +
      n + ")." + next_en;
  return ctx.Done(nl.c_str(), en.c_str());
}

int SetLocationCmd(Ctx& ctx) {
  auto id = MeetingId(ctx);
  if (!id.ok()) return Fail(id.status());
  auto location = Location(ctx);
  if (!location.ok()) return Fail(location.status());
  Status s = Organising(ctx.client, ctx.case_id).SetLocation(*id, *location);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Nieuwe plek opgeslagen.", "New location saved.");
}

// A spoedberaad: the same day, without a poll (the referral must be spoed).
int Spoed(Ctx& ctx) {
  auto start = StartTime(ctx, "start", ctx.Get("start"));
  if (!start.ok()) return Fail(start.status());
  int64_t minutes = std::atoll(ctx.Get("minutes", "120").c_str());
  if (minutes < 15 || minutes > 24 * 60) {
    return BadInput(ctx, "--minutes: 15 tot 1440", "--minutes: 15 to 1440");
  }
  auto location = Location(ctx);
  if (!location.ok()) return Fail(location.status());
  domain::FixOverrides overrides{ctx.Get("no-pretalk-reason"), ""};
  auto meeting = Organising(ctx.client, ctx.case_id)
                     .FixSpoedMeeting(*start, *start + minutes * kMinuteMs, *location, overrides);
  if (!meeting.ok()) return Fail(meeting.status());
  return ctx.Made("meeting", *meeting, "Het spoedberaad staat vast.",
                  "The urgent meeting is fixed.");
}

int Cancel(Ctx& ctx) {
  auto id = MeetingId(ctx);
  if (!id.ok()) return Fail(id.status());
  Status s = Organising(ctx.client, ctx.case_id).CancelMeeting(*id);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Het netwerkberaad is afgezegd.", "The meeting is cancelled.");
}

int Reschedule(Ctx& ctx) {
  auto id = MeetingId(ctx);
  if (!id.ok()) return Fail(id.status());
  auto start = StartTime(ctx, "start", ctx.Get("start"));
  if (!start.ok()) return Fail(start.status());
  int64_t minutes = std::atoll(ctx.Get("minutes", "120").c_str());
  if (minutes < 15 || minutes > 24 * 60)
    return BadInput(ctx, "--minutes: 15 tot 1440", "--minutes: 15 to 1440");
  Status s =
      Organising(ctx.client, ctx.case_id).Reschedule(*id, *start, *start + minutes * kMinuteMs);
  if (!s.ok()) return Fail(s);
  return ctx.Done("Nieuwe tijd opgeslagen.", "New time saved.");
}

}  // namespace

const std::vector<Verb>& MeetingVerbs() {
  static const std::vector<Verb> verbs = {
      {"poll",
       "create",
       "--slot TIJD ... [--minutes 120] [--required PERSOON ...] [--deadline DATUM]\n"
       "      [--vervang]",
       "Maak een prikker voor de datum (TIJD met de tijd erbij: 2026-12-05T19:30, now+3d;\n"
       "      --deadline 5-12-2026: tot het eind van die dag). De nieuwe prikker vervangt de\n"
       "      vorige; heeft iemand op een open prikker geantwoord, dan alleen met --vervang",
       "Create a date poll (TIME with the time of day: 2026-12-05T19:30, now+3d; --deadline\n"
       "      5-12-2026: until the end of that day). The new poll replaces the previous one;\n"
       "      if someone answered an open poll, only with --replace",
       {"slot", "minutes", "required", "deadline"},
       {"vervang", "replace"},
       PollCreate},
      {"poll",
       "show",
       "[--poll ID]",
       "Toon de momenten van de prikker",
       "Show the poll's slots",
       {"poll"},
       {},
       PollShow},
      {"poll",
       "answer",
       "MOMENT ja|als-het-moet|nee [--person PERSOON] [--poll ID]",
       "Geef je antwoord (of voor iemand zonder app)",
       "Answer (or for someone without the app)",
       {"person", "poll"},
       {},
       PollAnswer,
       2},
      {"poll",
       "answers",
       "[--poll ID]",
       "Toon de antwoorden (gespreksleider: iedereen; anderen: hun eigen)",
       "Show the answers (coordinator: everyone's; others: their own)",
       {"poll"},
       {},
       PollAnswers},
      {"poll",
       "tally",
       "[--poll ID]",
       "Telling per moment (hoofdpersoon, gespreksleider)",
       "Count per slot (resident, coordinator)",
       {"poll"},
       {},
       PollTally},
      {"poll",
       "fix",
       "MOMENT --coarse T [--exact T] [--kind thuis|locatie|online] [--hidden-from PERSOON ...]\n"
       "      [--no-pretalk-reason T] [--required-no-reason T] [--poll ID]",
       "Zet het netwerkberaad vast; het precieze adres alleen voor wie bevestigde",
       "Fix the meeting; the exact address only for those who confirmed",
       {"poll", "coarse", "exact", "kind", "hidden-from", "no-pretalk-reason",
        "required-no-reason"},
       {},
       PollFix,
       1},
      {"meeting", "show", "", "Toon het netwerkberaad", "Show the meeting", {}, {}, MeetingShow},
      {"meeting",
       "phase",
       "informatie|plan-voorstellen|plan-aannemen [--meeting ID]",
       "Begin de volgende fase",
       "Start the next phase",
       {"meeting"},
       {},
       MeetingPhase,
       1},
      {"meeting",
       "private-time",
       "[--meeting ID]",
       "Begin de eigen tijd van het netwerk (door de hoofdpersoon of de gespreksleider)",
       "Start the network's private time (by the resident or the coordinator)",
       {"meeting"},
       {},
       PrivateTime},
      {"meeting",
       "release",
       "[--yes] [--meeting ID]",
       "Het netwerk geeft de eigen tijd vrij. Zonder --yes: toon eerst wat iedereen dan leest",
       "The network releases private time. Without --yes: first show what everyone then reads",
       {"meeting"},
       {"yes"},
       Release},
      {"meeting",
       "location",
       "--coarse T [--exact T] [--kind K] [--hidden-from PERSOON ...]",
       "Zet een nieuwe plek",
       "Set a new location",
       {"meeting", "coarse", "exact", "kind", "hidden-from"},
       {},
       SetLocationCmd},
      {"meeting",
       "reschedule",
       "--start TIJD [--minutes 120]",
       "Verzet het netwerkberaad",
       "Reschedule the meeting",
       {"meeting", "start", "minutes"},
       {},
       Reschedule},
      {"meeting",
       "spoed",
       "--start TIJD [--minutes 120] --coarse T [--exact T] [--kind K] [--hidden-from PERSOON "
       "...]\n"
       "      [--no-pretalk-reason T]",
       "Zet een spoedberaad vast, vandaag nog, zonder prikker",
       "Fix an urgent meeting, today, without a poll",
       {"start", "minutes", "coarse", "exact", "kind", "hidden-from", "no-pretalk-reason"},
       {},
       Spoed},
      {"meeting",
       "attend",
       "PERSOON aanwezig|schriftelijk|afwezig [--meeting ID]",
       "Houd bij wie er was (hoofdpersoon, gespreksleider)",
       "Record who was there (resident, coordinator)",
       {"meeting"},
       {},
       Attend,
       2},
      {"meeting",
       "attendance",
       "[--meeting ID]",
       "Toon wie er was",
       "Show who was there",
       {"meeting"},
       {},
       AttendanceList},
      {"meeting",
       "note",
       "TEKST [--meeting ID]",
       "Schrijf een korte aantekening. In de eigen tijd: alleen het netwerk leest dit, tot het "
       "netwerk het plan vrijgeeft. Daarna leest iedereen het.",
       "Write a short note. In private time: only the network reads it, until the network "
       "releases the plan. After that everyone reads it.",
       {"meeting"},
       {},
       Note,
       1},
      {"meeting",
       "notes",
       "[--meeting ID]",
       "Toon de aantekeningen die jij mag zien",
       "Show the notes you may see",
       {"meeting"},
       {},
       Notes},
      {"meeting",
       "finish",
       "[--meeting ID]",
       "Rond het beraad af; daarna verandert er niets meer",
       "Finish the meeting; after that nothing changes",
       {"meeting"},
       {},
       Finish},
      {"meeting",
       "cancel",
       "[--meeting ID]",
       "Zeg het netwerkberaad af",
       "Cancel the meeting",
       {"meeting"},
       {},
       Cancel},
  };
  return verbs;
}

}  // namespace kring::cli
