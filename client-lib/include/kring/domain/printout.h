// Printable plan (DOMAIN F7): one self-contained HTML page (inline CSS with an A4 @media print
// block; no scripts, no external resources, so it prints the same offline and leaks nothing) and
// a plain-text variant, in plain Dutch (B1) or English, for people without the app. Pure: the
// caller fills PrintablePlan from case state for the person it prints for, leaving out every
// item hidden from that person (P2): PrintoutFor (plan.h) does that, RenderPrintout (exports.h)
// does both steps. Every text is HTML-escaped. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kring/common/status.h"
#include "kring/domain/messages.h"

namespace kring::domain {

// The agreement states of F3, shown in words ("Klaar", "Loopt nog", ...).
enum class PrintAgreementStatus {
  kProposed,
  kAccepted,
  kDone,
  kPartly,
  kNotDone,
  kBlocked,
  kDropped
};

struct PrintAgreement {
  std::string who;                    // the owner's name as the circle knows them
  std::string what;                   // the action; newlines allowed
  std::optional<int64_t> due_utc_ms;  // a date, or
  std::string recurrence;             // words like "elke week" when there is no date
  std::string checker;                // who checks
  PrintAgreementStatus status = PrintAgreementStatus::kProposed;
  // A blocked agreement: due_utc_ms is its new date and first_due_utc_ms the date agreed first
  // (when it had one and it differs), with what is in the way and who removes it.
  std::optional<int64_t> first_due_utc_ms;
  std::string obstacle;        // newlines allowed
  std::string obstacle_owner;  // the name of who removes the obstacle
  bool who_left = false;       // the owner was taken out of the circle since
  // Not in the printed version as it reads now: added or changed since that version, so the
  // paper does not pass it off as part of what was accepted (last: positional initialisers
  // elsewhere stay as they are).
  bool not_in_version = false;
};

struct PrintLifeDomain {
  std::string name;  // e.g. "Wonen", "Geld", "Contact met anderen", "Dagbesteding"
  std::string text;  // newlines allowed
};

struct PrintablePlan {
  std::string resident_first_name;
  uint32_t plan_version = 1;
  int64_t plan_date_utc_ms = 0;
  // False: no version is accepted yet and this one is printed marked "nog niet aangenomen".
  bool accepted = true;
  // The number of a newer version that waits for acceptance (this one is the accepted one), or 0.
  uint32_t newer_version_waiting = 0;
  std::vector<std::string> i_want;  // ik wil
  std::vector<std::string> i_can;   // ik kan
  std::vector<std::string> i_need;  // ik heb nodig
  std::vector<PrintLifeDomain> life_domains;
  // From the referral and the plan; printed only when not empty (many plans have neither).
  std::string bottom_lines;  // voorwaarden; newlines allowed
  std::string answers;       // answers to the referral's questions; newlines allowed
  std::vector<PrintAgreement> agreements;
  std::string contingency;  // als het misgaat; newlines allowed
  std::string contact_person_name;
  std::string contact_person_reach;  // how to reach them, when they agreed to print it
  std::optional<int64_t> review_date_utc_ms;
  // Who took part in the meeting, by name; the section is printed only when one is not empty.
  std::vector<std::string> present;        // was there
  std::vector<std::string> written_views;  // sent their view in writing instead
};

// Limits. Larger input fails with "print.too_long"; invalid UTF-8 or control characters (other
// than newlines in multi-line texts) with "print.bad_text"; dates outside the supported range
// with "print.bad_time".
// At least the plan's own limits (plan.h), so every plan the domain accepts can be printed.
inline constexpr size_t kMaxPrintNameBytes = 200;
inline constexpr size_t kMaxPrintTextBytes = 8 * 1024;
inline constexpr size_t kMaxPrintItems = 200;  // per list

Status ValidatePrintablePlan(const PrintablePlan& plan);

// The whole HTML document (UTF-8). Empty sections print "Nog niet ingevuld." so a reader sees
// the gap instead of a missing heading.
Result<std::string> RenderPlanHtml(const PrintablePlan& plan, Language language = Language::kDutch);

// The same content as plain text (UTF-8, "\n" line ends), for e-mail or a text message.
Result<std::string> RenderPlanText(const PrintablePlan& plan, Language language = Language::kDutch);

// & < > " ' escaped, so the result is safe in element content and in quoted attributes.
std::string HtmlEscape(std::string_view text);

}  // namespace kring::domain
