// Printable plan: self-contained HTML (no scripts, no external resources, A4 print CSS), every
// text escaped, Dutch B1 labels with English available, and the plain-text variant.
#include "kring/domain/printout.h"

#include <string>

#include <catch2/catch.hpp>

#include "kring/domain/amsterdam_time.h"

using namespace kring;
using namespace kring::domain;

namespace {

constexpr int64_t kPlanDate = 1796495400000;  // zaterdag 5 december 2026
constexpr int64_t kDue = 1798891200000;       // 2027-01-02T12:00Z, zaterdag 2 januari 2027
constexpr int64_t kReview = 1800100800000;    // 2027-01-16T12:00Z, zaterdag 16 januari 2027

PrintablePlan Sample() {
  PrintablePlan p;
  p.resident_first_name = "Zoë";
  p.plan_version = 3;
  p.plan_date_utc_ms = kPlanDate;
  p.i_want = {"Weer naar school gaan.", "Rust in huis."};
  p.i_can = {"Zelf op tijd opstaan."};
  p.i_need = {"Hulp bij geld."};
  p.life_domains = {{"Wonen", "Het huis is te klein.\nWe zoeken iets anders."},
                    {"Geld", "Er zijn schulden."}};
  p.agreements = {
      {"Oma Ria", "Brengt Zoë op maandag naar school.", std::nullopt, "elke week", "Piet",
       PrintAgreementStatus::kAccepted, std::nullopt, "", ""},
      {"René", "Belt de schuldhulp.", kDue, "", "Els", PrintAgreementStatus::kDone, std::nullopt,
       "", ""},
      {"Buurvrouw", "Kookt op woensdag.", std::nullopt, "", "", PrintAgreementStatus::kBlocked,
       std::nullopt, "", ""},
  };
  p.contingency = "Bel oma Ria.\nLukt dat niet? Bel Piet.";
  p.contact_person_name = "Piet";
  p.contact_person_reach = "Bel 's avonds.";
  p.review_date_utc_ms = kReview;
  return p;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

std::string Html(const PrintablePlan& p, Language l = Language::kDutch) {
  auto r = RenderPlanHtml(p, l);
  REQUIRE(r.ok());
  return r.value();
}

std::string KeyOf(const PrintablePlan& p) {
  auto r = RenderPlanHtml(p);
  auto t = RenderPlanText(p);
  CHECK(r.ok() == t.ok());
  return r.ok() ? "" : r.status().message();
}

}  // namespace

TEST_CASE("the page is self-contained: inline CSS for A4 print, no scripts or links",
          "[printout]") {
  const std::string h = Html(Sample());
  CHECK(h.rfind("<!DOCTYPE html>\n<html lang=\"nl\">", 0) == 0);
  CHECK(h.find("<meta charset=\"utf-8\">") != std::string::npos);
  CHECK(h.find("default-src 'none'") != std::string::npos);
  CHECK(h.find("@media print") != std::string::npos);
  CHECK(h.find("@page{size:A4") != std::string::npos);
  CHECK(h.substr(h.size() - 8) == "</html>\n");
  for (const char* banned : {"<script", "<link", "<img", "<iframe", "@import", "url(",
                             "http:", "https:", "src=", "href=", "javascript:"}) {
    INFO(banned);
    CHECK(h.find(banned) == std::string::npos);
  }
  // Balanced structure for the elements the page opens.
  for (const char* tag : {"section", "table", "ul", "li", "h2", "h3", "tr", "td", "p"}) {
    INFO(tag);
    CHECK(Count(h, std::string("<") + tag + ">") + Count(h, std::string("<") + tag + " ") ==
          Count(h, std::string("</") + tag + ">"));
  }
}

TEST_CASE("the page shows every part of the plan in plain Dutch", "[printout]") {
  const std::string h = Html(Sample());
  for (const char* text :
       {"<title>Het plan van Zoë</title>",
        "<h1>Het plan van Zoë</h1>",
        "Versie 3",
        "zaterdag 5 december 2026",
        "<h2>Mijn vraag</h2>",
        "<h3>Ik wil</h3>",
        "<li>Weer naar school gaan.</li>",
        "<h3>Ik kan</h3>",
        "<h3>Ik heb nodig</h3>",
        "<li>Hulp bij geld.</li>",
        "<h3>Wonen</h3>",
        "Het huis is te klein.<br>We zoeken iets anders.",
        "<h2>Afspraken</h2>",
        "<th scope=\"col\">Wie kijkt of het gebeurt</th>",
        "<td>Oma Ria</td><td>Brengt Zoë op maandag naar school.</td><td>elke week</td>"
        "<td>Piet</td><td>Afgesproken</td>",
        "<td>zaterdag 2 januari 2027</td><td>Els</td><td>Klaar</td>",
        "<td>Loopt vast</td>",
        "<h2>Als het misgaat</h2>",
        "Bel oma Ria.<br>Lukt dat niet? Bel Piet.",
        "<h2>Contactpersoon</h2>",
        "<strong>Piet</strong><br>Bel &#39;s avonds.",
        "We kijken samen hoe het gaat op <strong>zaterdag 16 januari 2027</strong>",
        "Bewaar het goed."}) {
    INFO(text);
    CHECK(h.find(text) != std::string::npos);
  }
  CHECK(h.find("Nog niet ingevuld.") == std::string::npos);
}

TEST_CASE("English is available", "[printout]") {
  const std::string h = Html(Sample(), Language::kEnglish);
  CHECK(h.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0) == 0);
  for (const char* text : {"<h1>Zoë&#39;s plan</h1>", "<h3>I want</h3>", "<h3>I need</h3>",
                           "<h2>If things go wrong</h2>", "Saturday 2 January 2027",
                           "<td>Done</td>", "<td>Agreed</td>"}) {
    INFO(text);
    CHECK(h.find(text) != std::string::npos);
  }
}

TEST_CASE("every text is HTML-escaped", "[printout]") {
  const std::string evil = "<script>alert(\"x\")</script>'&";
  const std::string escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;";
  CHECK(HtmlEscape(evil) == escaped);
  PrintablePlan p = Sample();
  p.resident_first_name = evil;
  p.i_want = {evil};
  p.i_can = {evil};
  p.i_need = {evil};
  p.life_domains = {{evil, evil}};
  p.agreements = {{evil, evil, std::nullopt, evil, evil, PrintAgreementStatus::kBlocked,
                   std::nullopt, evil, evil}};
  p.contingency = evil;
  p.contact_person_name = evil;
  p.contact_person_reach = evil;
  const std::string h = Html(p);
  CHECK(h.find("<script") == std::string::npos);
  CHECK(h.find("alert(\"") == std::string::npos);
  CHECK(h.find("'&") == std::string::npos);
  // 15 text fields (with the obstacle and who solves it); the name shows twice (title and
  // heading).
  CHECK(Count(h, escaped) == 16);
  // Quotes cannot break out of an attribute either.
  CHECK(HtmlEscape("\" onload=\"x") == "&quot; onload=&quot;x");
}

TEST_CASE("empty parts say so instead of disappearing", "[printout]") {
  PrintablePlan p;
  p.resident_first_name = "Sam";
  p.plan_date_utc_ms = kPlanDate;
  const std::string h = Html(p);
  // ik wil, ik kan, ik heb nodig, life domains, agreements, contingency, contact, review.
  CHECK(Count(h, "Nog niet ingevuld.") == 8);
  CHECK(h.find("<table>") == std::string::npos);
  const std::string t = RenderPlanText(p).value();
  CHECK(Count(t, "Nog niet ingevuld.") == 8);
}

TEST_CASE("bottom lines and answers print only when there are some", "[printout]") {
  PrintablePlan p = Sample();
  CHECK(Html(p).find("Voorwaarden") == std::string::npos);
  CHECK(Html(p).find("Antwoorden op de vragen") == std::string::npos);
  p.bottom_lines = "De kinderen zijn veilig <thuis>.";
  p.answers = "Ja, er is\nelke dag iemand.";
  const std::string h = Html(p);
  CHECK(h.find("<h2>Voorwaarden</h2>\n<p>De kinderen zijn veilig &lt;thuis&gt;.</p>") !=
        std::string::npos);
  CHECK(h.find("<h2>Antwoorden op de vragen</h2>\n<p>Ja, er is<br>elke dag iemand.</p>") !=
        std::string::npos);
  CHECK(h.find("Voorwaarden") < h.find("Afspraken"));
  const std::string t = RenderPlanText(p).value();
  CHECK(t.find("Voorwaarden\n===========\n  De kinderen zijn veilig <thuis>.") !=
        std::string::npos);
  CHECK(Html(p, Language::kEnglish).find("<h2>Bottom lines</h2>") != std::string::npos);
  p.answers = std::string(kMaxPrintTextBytes + 1, 'a');
  CHECK(KeyOf(p) == "print.too_long");
  p.answers = "bad \x1B";
  CHECK(KeyOf(p) == "print.bad_text");
}

TEST_CASE("plain-text variant holds the same content, unescaped", "[printout]") {
  auto r = RenderPlanText(Sample());
  REQUIRE(r.ok());
  const std::string& t = r.value();
  CHECK(t.rfind("Het plan van Zoë\nVersie 3 - Datum: zaterdag 5 december 2026\n", 0) == 0);
  for (const char* text :
       {"Mijn vraag\n==========\n", "Ik wil:\n  - Weer naar school gaan.\n  - Rust in huis.\n",
        "Wonen:\n  Het huis is te klein.\n  We zoeken iets anders.\n",
        "1. Wat: Brengt Zoë op maandag naar school.\n   Wie: Oma Ria\n   Wanneer: elke "
        "week\n   Wie kijkt of het gebeurt: Piet\n   Hoe staat het: Afgesproken\n",
        "   Wanneer: zaterdag 2 januari 2027\n",
        "Als het misgaat\n===============\n  Bel oma Ria.\n  Lukt dat niet? Bel Piet.\n",
        "  Piet\n  Bel 's avonds.\n",
        "We kijken samen hoe het gaat op zaterdag 16 januari 2027.\n"}) {
    INFO(text);
    CHECK(t.find(text) != std::string::npos);
  }
  CHECK(t.find('<') == std::string::npos);
  CHECK(t.find("&") == std::string::npos);
  CHECK(t.find('\r') == std::string::npos);
}

TEST_CASE("invalid plans are rejected with their key", "[printout]") {
  CHECK(KeyOf(Sample()).empty());
  PrintablePlan p;
  p = Sample(), p.resident_first_name = std::string(kMaxPrintNameBytes + 1, 'a');
  CHECK(KeyOf(p) == "print.too_long");
  p = Sample(), p.contingency = std::string(kMaxPrintTextBytes + 1, 'a');
  CHECK(KeyOf(p) == "print.too_long");
  p = Sample(), p.i_need.assign(kMaxPrintItems + 1, "x");
  CHECK(KeyOf(p) == "print.too_long");
  p = Sample(), p.agreements.resize(kMaxPrintItems + 1);
  CHECK(KeyOf(p) == "print.too_long");
  p = Sample(), p.life_domains.resize(kMaxPrintItems + 1);
  CHECK(KeyOf(p) == "print.too_long");
  p = Sample(), p.resident_first_name = "two\nlines";
  CHECK(KeyOf(p) == "print.bad_text");
  p = Sample(), p.i_can = {"bad \xFF byte"};
  CHECK(KeyOf(p) == "print.bad_text");
  p = Sample(), p.agreements[1].who = std::string("nul\0byte", 8);
  CHECK(KeyOf(p) == "print.bad_text");
  p = Sample(), p.life_domains[0].text = "escape \x1B[31m";
  CHECK(KeyOf(p) == "print.bad_text");
  p = Sample(), p.agreements[0].due_utc_ms = -1;
  CHECK(KeyOf(p) == "print.bad_time");
  p = Sample(), p.review_date_utc_ms = kMaxSupportedUtcMs;
  CHECK(KeyOf(p) == "print.bad_time");
  p = Sample(), p.plan_date_utc_ms = -86'400'000;
  CHECK(KeyOf(p) == "print.bad_time");
  // Multi-line texts may use CRLF; it prints as one break.
  p = Sample(), p.contingency = "a\r\nb";
  CHECK(Html(p).find("a<br>b") != std::string::npos);
}

TEST_CASE("every label and key the printout uses has Dutch and English text", "[printout]") {
  for (const char* key : {"print.too_long",        "print.bad_text",       "print.bad_time",
                          "print.title",           "print.version",        "print.date",
                          "print.question",        "print.i_want",         "print.i_can",
                          "print.i_need",          "print.life_domains",   "print.agreements",
                          "print.col_who",         "print.col_what",       "print.col_when",
                          "print.col_checker",     "print.col_status",     "print.status.proposed",
                          "print.status.accepted", "print.status.done",    "print.status.partly",
                          "print.status.not_done", "print.status.blocked", "print.status.dropped",
                          "print.contingency",     "print.contact_person", "print.contact_intro",
                          "print.review",          "print.review_intro",   "print.empty",
                          "print.footer",          "print.bottom_lines",   "print.answers"}) {
    INFO(key);
    CHECK(HasUserText(key));
  }
}

TEST_CASE("a blocked agreement is printed with its new date, the first date and the obstacle",
          "[printout]") {
  PrintablePlan p = Sample();
  PrintAgreement& blocked = p.agreements[1];
  blocked.status = PrintAgreementStatus::kBlocked;
  blocked.due_utc_ms = kReview;  // the new date
  blocked.first_due_utc_ms = kDue;
  blocked.obstacle = "De schuldhulp belt niet terug.";
  blocked.obstacle_owner = "Piet";
  auto text = RenderPlanText(p);
  REQUIRE(text.ok());
  CHECK(text->find("   Wanneer: zaterdag 16 januari 2027 (eerst: zaterdag 2 januari 2027)\n") !=
        std::string::npos);
  CHECK(text->find("   Wat in de weg zit: De schuldhulp belt niet terug.\n") != std::string::npos);
  CHECK(text->find("   Wie dat oplost: Piet\n") != std::string::npos);
  const std::string h = Html(p);
  CHECK(h.find("zaterdag 16 januari 2027 (eerst: zaterdag 2 januari 2027)") != std::string::npos);
  CHECK(h.find("Wat in de weg zit: De schuldhulp belt niet terug.") != std::string::npos);
  auto en = RenderPlanText(p, Language::kEnglish);
  REQUIRE(en.ok());
  CHECK(en->find("What is in the way: De schuldhulp belt niet terug.") != std::string::npos);
  blocked.obstacle = "bad \x1B";
  CHECK(KeyOf(p) == "print.bad_text");
}
