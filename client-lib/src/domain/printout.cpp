#include "kring/domain/printout.h"

#include <array>
#include <utility>
#include <vector>

#include "kring/domain/amsterdam_time.h"

#include "domain/render_text.h"

namespace kring::domain {
namespace {

// Inline CSS only: the page must print the same without network. Large, plain type and black on
// white for readability; @page fixes A4, and rows/boxes do not break across pages.
constexpr std::string_view kStyle =
    "body{font-family:Verdana,Arial,sans-serif;font-size:13pt;line-height:1.5;color:#000;"
    "background:#fff;max-width:46em;margin:1.5em auto;padding:0 1em}"
    "h1{font-size:20pt;margin:0 0 .2em}"
    "h2{font-size:15pt;border-bottom:2px solid #000;margin:1.4em 0 .4em}"
    "h3{font-size:13pt;margin:.8em 0 .2em}"
    ".meta{margin:0 0 1em}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{border:1px solid #000;padding:.3em .4em;text-align:left;vertical-align:top}"
    "th{background:#eee}"
    ".box{border:2px solid #000;padding:.4em .8em}"
    ".empty{font-style:italic}"
    "footer{margin-top:2em;font-size:11pt}"
    "@page{size:A4;margin:18mm 16mm}"
    "@media print{body{margin:0;max-width:none;font-size:12pt}"
    "h2,h3{break-after:avoid;page-break-after:avoid}"
    "tr,li,.box{break-inside:avoid;page-break-inside:avoid}"
    "thead{display:table-header-group}th{background:none}}";

std::string Label(std::string_view key, Language language) { return UserText(key, language); }

std::string Title(const PrintablePlan& plan, Language language, bool html) {
  std::string t = Label("print.title", language);
  if (html) t = HtmlEscape(t);  // the template's own apostrophe ("{name}'s plan") too
  const std::string name = html ? HtmlEscape(plan.resident_first_name) : plan.resident_first_name;
  const size_t at = t.find("{name}");
  if (at != std::string::npos) t.replace(at, 6, name);
  return t;
}

// Under the version line: whether the printed version is accepted, and whether a newer one waits.
std::vector<std::string> AcceptanceNotes(const PrintablePlan& p, Language language) {
  std::vector<std::string> out;
  if (!p.accepted) out.push_back(Label("print.not_accepted", language));
  if (p.newer_version_waiting != 0) {
    std::string t = Label("print.newer_waiting", language);
    const size_t at = t.find("{n}");
    if (at != std::string::npos) t.replace(at, 3, std::to_string(p.newer_version_waiting));
    out.push_back(std::move(t));
  }
  return out;
}

std::string_view StatusKey(PrintAgreementStatus s) {
  switch (s) {
    case PrintAgreementStatus::kProposed:
      return "print.status.proposed";
    case PrintAgreementStatus::kAccepted:
      return "print.status.accepted";
    case PrintAgreementStatus::kDone:
      return "print.status.done";
    case PrintAgreementStatus::kPartly:
      return "print.status.partly";
    case PrintAgreementStatus::kNotDone:
      return "print.status.not_done";
    case PrintAgreementStatus::kBlocked:
      return "print.status.blocked";
    case PrintAgreementStatus::kDropped:
      return "print.status.dropped";
  }
  return "print.status.proposed";
}

// Sections left out when empty, in print order.
std::array<std::pair<std::string_view, const std::string*>, 2> OptionalSections(
    const PrintablePlan& p) {
  return {{{"print.bottom_lines", &p.bottom_lines}, {"print.answers", &p.answers}}};
}

// The owner's name, and that they left the circle since: the agreement needs a new owner.
std::string WhoText(const PrintAgreement& a, Language language) {
  return a.who_left ? a.who + " (" + Label("print.who_left", language) + ")" : a.who;
}

std::string DueText(const PrintAgreement& a, Language language) {
  if (!a.due_utc_ms) return a.recurrence;
  std::string out = FormatAmsterdamDate(*a.due_utc_ms, language);
  if (a.first_due_utc_ms) {
    out += " (" + Label("print.first_due", language) + " " +
           FormatAmsterdamDate(*a.first_due_utc_ms, language) + ")";
  }
  return out;
}

// Escaped text with its line breaks kept.
std::string HtmlText(std::string_view text) {
  std::string out;
  const std::string norm = render::NormalizeNewlines(text);
  for (char c : HtmlEscape(norm)) {
    if (c == '\n') {
      out += "<br>";
    } else {
      out += c;
    }
  }
  return out;
}

std::string HtmlEmpty(Language language) {
  return "<p class=\"empty\">" + HtmlEscape(Label("print.empty", language)) + "</p>\n";
}

std::string HtmlList(const std::vector<std::string>& items, Language language) {
  if (items.empty()) return HtmlEmpty(language);
  std::string out = "<ul>\n";
  for (const std::string& item : items) out += "<li>" + HtmlText(item) + "</li>\n";
  return out + "</ul>\n";
}

std::string H2(std::string_view key, Language language) {
  return "<h2>" + HtmlEscape(Label(key, language)) + "</h2>\n";
}

// Plain text: a block indented under its label.
std::string Indented(std::string_view text, std::string_view indent) {
  std::string out(indent);
  for (char c : render::NormalizeNewlines(text)) {
    out += c;
    if (c == '\n') out += indent;
  }
  return out;
}

std::string TextList(const std::vector<std::string>& items, Language language) {
  if (items.empty()) return "  " + Label("print.empty", language) + "\n";
  std::string out;
  for (const std::string& item : items) out += "  - " + Indented(item, "    ").substr(4) + "\n";
  return out;
}

std::string TextHeading(std::string_view key, Language language) {
  const std::string label = Label(key, language);
  // One '=' per character, not per UTF-8 byte.
  size_t chars = 0;
  for (char c : label) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return "\n" + label + "\n" + std::string(chars, '=') + "\n";
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Status ValidatePrintablePlan(const PrintablePlan& p) {
  auto check = [](std::string_view text, size_t max, bool newlines) {
    return render::CheckText(text, max, newlines, "print");
  };
  std::string key = check(p.resident_first_name, kMaxPrintNameBytes, false);
  if (key.empty()) key = check(p.contingency, kMaxPrintTextBytes, true);
  if (key.empty()) key = check(p.contact_person_name, kMaxPrintNameBytes, false);
  if (key.empty()) key = check(p.contact_person_reach, kMaxPrintTextBytes, true);
  if (key.empty()) key = check(p.bottom_lines, kMaxPrintTextBytes, true);
  if (key.empty()) key = check(p.answers, kMaxPrintTextBytes, true);
  for (const auto* list : {&p.i_want, &p.i_can, &p.i_need}) {
    if (!key.empty()) break;
    if (list->size() > kMaxPrintItems) key = "print.too_long";
    for (size_t i = 0; key.empty() && i < list->size(); ++i) {
      key = check((*list)[i], kMaxPrintTextBytes, true);
    }
  }
  if (key.empty() && p.life_domains.size() > kMaxPrintItems) key = "print.too_long";
  for (size_t i = 0; key.empty() && i < p.life_domains.size(); ++i) {
    key = check(p.life_domains[i].name, kMaxPrintNameBytes, false);
    if (key.empty()) key = check(p.life_domains[i].text, kMaxPrintTextBytes, true);
  }
  for (const auto* list : {&p.present, &p.written_views}) {
    if (!key.empty()) break;
    if (list->size() > kMaxPrintItems) key = "print.too_long";
    for (size_t i = 0; key.empty() && i < list->size(); ++i) {
      key = check((*list)[i], kMaxPrintNameBytes, false);
    }
  }
  if (key.empty() && p.agreements.size() > kMaxPrintItems) key = "print.too_long";
  for (size_t i = 0; key.empty() && i < p.agreements.size(); ++i) {
    const PrintAgreement& a = p.agreements[i];
    key = check(a.who, kMaxPrintNameBytes, false);
    if (key.empty()) key = check(a.what, kMaxPrintTextBytes, true);
    if (key.empty()) key = check(a.recurrence, kMaxPrintTextBytes, false);
    if (key.empty()) key = check(a.checker, kMaxPrintNameBytes, false);
    if (key.empty()) key = check(a.obstacle, kMaxPrintTextBytes, true);
    if (key.empty()) key = check(a.obstacle_owner, kMaxPrintNameBytes, false);
    if (key.empty() && a.due_utc_ms && !IsSupportedUtcMs(*a.due_utc_ms)) key = "print.bad_time";
    if (key.empty() && a.first_due_utc_ms && !IsSupportedUtcMs(*a.first_due_utc_ms)) {
      key = "print.bad_time";
    }
  }
  if (key.empty() && !IsSupportedUtcMs(p.plan_date_utc_ms)) key = "print.bad_time";
  if (key.empty() && p.review_date_utc_ms && !IsSupportedUtcMs(*p.review_date_utc_ms)) {
    key = "print.bad_time";
  }
  if (!key.empty()) return InvalidArgument(std::move(key));
  return {};
}

Result<std::string> RenderPlanHtml(const PrintablePlan& p, Language lang) {
  KRING_RETURN_IF_ERROR(ValidatePrintablePlan(p));
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"";
  h += lang == Language::kDutch ? "nl" : "en";
  h += "\">\n<head>\n<meta charset=\"utf-8\">\n";
  // Belt and braces next to the escaping: even injected markup could load or run nothing.
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>" + Title(p, lang, true) + "</title>\n";
  h += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";

  h += "<header>\n<h1>" + Title(p, lang, true) + "</h1>\n<p class=\"meta\">";
  h += HtmlEscape(Label("print.version", lang)) + " " + std::to_string(p.plan_version) +
       " &middot; ";
  h += HtmlEscape(Label("print.date", lang)) + ": " +
       HtmlEscape(FormatAmsterdamDate(p.plan_date_utc_ms, lang));
  h += "</p>\n";
  for (const std::string& note : AcceptanceNotes(p, lang)) {
    h += "<p class=\"box\"><strong>" + HtmlEscape(note) + "</strong></p>\n";
  }
  h += "</header>\n<main>\n";

  h += "<section>\n" + H2("print.question", lang);
  h += "<h3>" + HtmlEscape(Label("print.i_want", lang)) + "</h3>\n" + HtmlList(p.i_want, lang);
  h += "<h3>" + HtmlEscape(Label("print.i_can", lang)) + "</h3>\n" + HtmlList(p.i_can, lang);
  h += "<h3>" + HtmlEscape(Label("print.i_need", lang)) + "</h3>\n" + HtmlList(p.i_need, lang);
  h += "</section>\n";

  h += "<section>\n" + H2("print.life_domains", lang);
  if (p.life_domains.empty()) h += HtmlEmpty(lang);
  for (const PrintLifeDomain& d : p.life_domains) {
    h += "<h3>" + HtmlEscape(d.name) + "</h3>\n";
    h += d.text.empty() ? HtmlEmpty(lang) : "<p>" + HtmlText(d.text) + "</p>\n";
  }
  h += "</section>\n";

  for (const auto& [key, text] : OptionalSections(p)) {
    if (!text->empty())
      h += "<section>\n" + H2(key, lang) + "<p>" + HtmlText(*text) + "</p>\n</section>\n";
  }

  h += "<section>\n" + H2("print.agreements", lang);
  if (p.agreements.empty()) {
    h += HtmlEmpty(lang);
  } else {
    h += "<table>\n<thead><tr>";
    for (std::string_view key : {"print.col_who", "print.col_what", "print.col_when",
                                 "print.col_checker", "print.col_status"}) {
      h += "<th scope=\"col\">" + HtmlEscape(Label(key, lang)) + "</th>";
    }
    h += "</tr></thead>\n<tbody>\n";
    for (const PrintAgreement& a : p.agreements) {
      h += "<tr><td>" + HtmlEscape(WhoText(a, lang)) + "</td><td>" + HtmlText(a.what) +
           "</td><td>" + HtmlEscape(DueText(a, lang)) + "</td><td>" + HtmlEscape(a.checker) +
           "</td><td>" + HtmlEscape(Label(StatusKey(a.status), lang));
      if (!a.obstacle.empty()) {
        h += "<br>" + HtmlEscape(Label("print.obstacle", lang)) + ": " + HtmlText(a.obstacle);
      }
      if (!a.obstacle_owner.empty()) {
        h += "<br>" + HtmlEscape(Label("print.obstacle_owner", lang)) + ": " +
             HtmlEscape(a.obstacle_owner);
      }
      if (a.not_in_version) h += "<br>" + HtmlEscape(Label("print.not_in_version", lang));
      h += "</td></tr>\n";
    }
    h += "</tbody>\n</table>\n";
  }
  h += "</section>\n";

  h += "<section>\n" + H2("print.contingency", lang);
  h += p.contingency.empty() ? HtmlEmpty(lang)
                             : "<div class=\"box\"><p>" + HtmlText(p.contingency) + "</p></div>\n";
  h += "</section>\n";

  h += "<section>\n" + H2("print.contact_person", lang);
  if (p.contact_person_name.empty()) {
    h += HtmlEmpty(lang);
  } else {
    h += "<p>" + HtmlEscape(Label("print.contact_intro", lang)) +
         "</p>\n<p class=\"box\"><strong>" + HtmlEscape(p.contact_person_name) + "</strong>";
    if (!p.contact_person_reach.empty()) h += "<br>" + HtmlText(p.contact_person_reach);
    h += "</p>\n";
  }
  h += "</section>\n";

  if (!p.present.empty() || !p.written_views.empty()) {
    h += "<section>\n" + H2("print.attendance", lang);
    if (!p.present.empty()) {
      h +=
          "<h3>" + HtmlEscape(Label("print.present", lang)) + "</h3>\n" + HtmlList(p.present, lang);
    }
    if (!p.written_views.empty()) {
      h += "<h3>" + HtmlEscape(Label("print.written_view", lang)) + "</h3>\n" +
           HtmlList(p.written_views, lang);
    }
    h += "</section>\n";
  }

  h += "<section>\n" + H2("print.review", lang);
  h += p.review_date_utc_ms
           ? "<p>" + HtmlEscape(Label("print.review_intro", lang)) + " <strong>" +
                 HtmlEscape(FormatAmsterdamDate(*p.review_date_utc_ms, lang)) + "</strong>.</p>\n"
           : HtmlEmpty(lang);
  h += "</section>\n</main>\n";

  h += "<footer><p>" + HtmlEscape(Label("print.footer", lang)) + "</p></footer>\n";
  h += "</body>\n</html>\n";
  return h;
}

Result<std::string> RenderPlanText(const PrintablePlan& p, Language lang) {
  KRING_RETURN_IF_ERROR(ValidatePrintablePlan(p));
  std::string t = Title(p, lang, false) + "\n";
  t += Label("print.version", lang) + " " + std::to_string(p.plan_version) + " - " +
       Label("print.date", lang) + ": " + FormatAmsterdamDate(p.plan_date_utc_ms, lang) + "\n";
  for (const std::string& note : AcceptanceNotes(p, lang)) t += note + "\n";

  t += TextHeading("print.question", lang);
  t += Label("print.i_want", lang) + ":\n" + TextList(p.i_want, lang);
  t += Label("print.i_can", lang) + ":\n" + TextList(p.i_can, lang);
  t += Label("print.i_need", lang) + ":\n" + TextList(p.i_need, lang);

  t += TextHeading("print.life_domains", lang);
  if (p.life_domains.empty()) t += "  " + Label("print.empty", lang) + "\n";
  for (const PrintLifeDomain& d : p.life_domains) {
    t += d.name + ":\n";
    t += Indented(d.text.empty() ? Label("print.empty", lang) : d.text, "  ") + "\n";
  }

  for (const auto& [key, text] : OptionalSections(p)) {
    if (!text->empty()) t += TextHeading(key, lang) + Indented(*text, "  ") + "\n";
  }

  t += TextHeading("print.agreements", lang);
  if (p.agreements.empty()) t += "  " + Label("print.empty", lang) + "\n";
  int n = 0;
  for (const PrintAgreement& a : p.agreements) {
    t += std::to_string(++n) + ". " + Label("print.col_what", lang) + ": " +
         Indented(a.what, "   ").substr(3) + "\n";
    t += "   " + Label("print.col_who", lang) + ": " + WhoText(a, lang) + "\n";
    t += "   " + Label("print.col_when", lang) + ": " + DueText(a, lang) + "\n";
    t += "   " + Label("print.col_checker", lang) + ": " + a.checker + "\n";
    t += "   " + Label("print.col_status", lang) + ": " + Label(StatusKey(a.status), lang) + "\n";
    if (!a.obstacle.empty()) {
      t += "   " + Label("print.obstacle", lang) + ": " + Indented(a.obstacle, "   ").substr(3) +
           "\n";
    }
    if (!a.obstacle_owner.empty()) {
      t += "   " + Label("print.obstacle_owner", lang) + ": " + a.obstacle_owner + "\n";
    }
    if (a.not_in_version) t += "   " + Label("print.not_in_version", lang) + "\n";
  }

  t += TextHeading("print.contingency", lang);
  t += Indented(p.contingency.empty() ? Label("print.empty", lang) : p.contingency, "  ") + "\n";

  t += TextHeading("print.contact_person", lang);
  if (p.contact_person_name.empty()) {
    t += "  " + Label("print.empty", lang) + "\n";
  } else {
    t += Label("print.contact_intro", lang) + "\n  " + p.contact_person_name + "\n";
    if (!p.contact_person_reach.empty()) t += Indented(p.contact_person_reach, "  ") + "\n";
  }

  if (!p.present.empty() || !p.written_views.empty()) {
    t += TextHeading("print.attendance", lang);
    if (!p.present.empty()) t += Label("print.present", lang) + ":\n" + TextList(p.present, lang);
    if (!p.written_views.empty()) {
      t += Label("print.written_view", lang) + ":\n" + TextList(p.written_views, lang);
    }
  }

  t += TextHeading("print.review", lang);
  t += p.review_date_utc_ms ? Label("print.review_intro", lang) + " " +
                                  FormatAmsterdamDate(*p.review_date_utc_ms, lang) + ".\n"
                            : "  " + Label("print.empty", lang) + "\n";
  t += "\n" + Label("print.footer", lang) + "\n";
  return t;
}

}  // namespace kring::domain
