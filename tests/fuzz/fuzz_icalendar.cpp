// The iCalendar export (client-lib/include/kring/domain/icalendar.h) with text a member wrote:
// escaping reads back to the text and leaves no line break or separator bare, folding keeps
// lines at 75 octets without splitting a character, and no text can add or change a property of
// the exported event (a calendar app would act on it).
#include <string>
#include <vector>

#include "kring/domain/icalendar.h"

#include "fuzz_check.h"
#include "utf8_reference.h"

namespace {

namespace domain = kring::domain;

// RFC 5545 3.3.11 read back; false on anything escaping would not have written.
bool Unescape(std::string_view escaped, std::string& out) {
  out.clear();
  for (size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c == '\r' || c == '\n' || c == ';' || c == ',') return false;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i == escaped.size()) return false;
    switch (escaped[i]) {
      case '\\':
      case ';':
      case ',':
        out.push_back(escaped[i]);
        break;
      case 'n':
      case 'N':
        out.push_back('\n');
        break;
      default:
        return false;
    }
  }
  return true;
}

std::string NewlinesAsLf(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The content lines of an .ics text: every physical line ends in CRLF, is at most 75 octets and
// well-formed UTF-8; continuation lines (one leading space) are joined back.
std::vector<std::string> Unfold(std::string_view ics) {
  std::vector<std::string> lines;
  KRING_FUZZ_CHECK(ics.size() >= 2 && ics.substr(ics.size() - 2) == "\r\n");
  size_t at = 0;
  while (at < ics.size()) {
    const size_t end = ics.find("\r\n", at);
    KRING_FUZZ_CHECK(end != std::string_view::npos);
    const std::string_view physical = ics.substr(at, end - at);
    KRING_FUZZ_CHECK(physical.size() <= 75);
    KRING_FUZZ_CHECK(physical.find('\r') == std::string_view::npos);
    KRING_FUZZ_CHECK(physical.find('\n') == std::string_view::npos);
    KRING_FUZZ_CHECK(kring::fuzz::WellFormed(physical));
    if (!physical.empty() && physical[0] == ' ') {
      KRING_FUZZ_CHECK(!lines.empty());
      lines.back().append(physical.substr(1));
    } else {
      lines.emplace_back(physical);
    }
    at = end + 2;
  }
  return lines;
}

std::string NameOf(const std::string& line) { return line.substr(0, line.find_first_of(":;")); }

// The value of the one content line named `name`, unescaped.
std::string TextProperty(const std::vector<std::string>& lines, const std::string& name) {
  const std::string* found = nullptr;
  for (const std::string& l : lines) {
    if (NameOf(l) == name) {
      KRING_FUZZ_CHECK(found == nullptr);
      found = &l;
    }
  }
  KRING_FUZZ_CHECK(found != nullptr);
  std::string value;
  KRING_FUZZ_CHECK(Unescape(std::string_view(*found).substr(found->find(':') + 1), value));
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kring::fuzz::Input in(data, size);
  domain::CalendarEvent e;
  e.uid = "0123456789abcdef@kring";
  e.sequence = static_cast<uint32_t>(in.Int(1));
  e.method = in.Bool() ? domain::CalendarMethod::kRequest : domain::CalendarMethod::kCancel;
  e.start_utc_ms = 1796040000000 + static_cast<int64_t>(in.Int(3)) * 1000;
  e.end_utc_ms = e.start_utc_ms + 1 + static_cast<int64_t>(in.Int(2)) * 60000;
  e.dtstamp_utc_ms = 1796000000000;
  e.summary = std::string(in.Bytes());
  e.location = std::string(in.Bytes());
  if (in.Bool()) e.organizer_name = std::string(in.Bytes());
  e.description = std::string(in.Rest());

  // Escaping alone, on any bytes.
  for (const std::string* text : {&e.summary, &e.location, &e.description}) {
    std::string back;
    KRING_FUZZ_CHECK(Unescape(domain::EscapeICalText(*text), back));
    KRING_FUZZ_CHECK(back == NewlinesAsLf(*text));
  }
  // Folding alone, on a well-formed line without line breaks.
  if (kring::fuzz::WellFormed(e.description) &&
      e.description.find_first_of("\r\n") == std::string::npos) {
    // As in a real .ics, the content line starts with its property's name.
    const std::string line = "DESCRIPTION:" + e.description;
    const std::vector<std::string> lines = Unfold(domain::FoldICalLine(line));
    KRING_FUZZ_CHECK(lines.size() == 1 && lines[0] == line);
  }

  const kring::Status valid = domain::ValidateCalendarEvent(e);
  kring::Result<std::string> ics = domain::RenderICalendar(e);
  KRING_FUZZ_CHECK(ics.ok() == valid.ok());
  if (!ics.ok()) return 0;
  const std::vector<std::string> lines = Unfold(*ics);
  // The same properties, in the same order, as an event whose texts are plain words.
  domain::CalendarEvent plain = e;
  plain.summary = "a";
  plain.location = e.location.empty() ? "" : "b";
  plain.description = e.description.empty() ? "" : "c";
  if (plain.organizer_name) plain.organizer_name = "d";
  kring::Result<std::string> plain_ics = domain::RenderICalendar(plain);
  KRING_FUZZ_CHECK(plain_ics.ok());
  const std::vector<std::string> plain_lines = Unfold(*plain_ics);
  KRING_FUZZ_CHECK(lines.size() == plain_lines.size());
  for (size_t i = 0; i < lines.size(); ++i)
    KRING_FUZZ_CHECK(NameOf(lines[i]) == NameOf(plain_lines[i]));
  KRING_FUZZ_CHECK(TextProperty(lines, "SUMMARY") == e.summary);
  // The organizer's name is a quoted parameter: nothing in it may end the quotes, add a
  // parameter or change the address (RFC 5545 3.2: a quoted value holds no DQUOTE).
  for (const std::string& l : lines) {
    if (NameOf(l) != "ORGANIZER") continue;
    const std::string start = "ORGANIZER;CN=\"";
    const std::string end = "\":mailto:noreply@kring.invalid";
    KRING_FUZZ_CHECK(l.size() >= start.size() + end.size() && l.rfind(start, 0) == 0 &&
                     l.compare(l.size() - end.size(), end.size(), end) == 0);
    KRING_FUZZ_CHECK(l.find('"', start.size()) == l.size() - end.size());
  }
  if (!e.location.empty())
    KRING_FUZZ_CHECK(TextProperty(lines, "LOCATION") == NewlinesAsLf(e.location));
  if (!e.description.empty()) {
    KRING_FUZZ_CHECK(TextProperty(lines, "DESCRIPTION") == NewlinesAsLf(e.description));
  }
  return 0;
}
