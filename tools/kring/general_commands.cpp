#include "general_commands.h"

#include <algorithm>

#include "messages.h"

namespace kring::cli {
namespace {

bool IsCommandWord(const std::string& word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || ch == '-';
  });
}

// One command line of the usage text: "  member add CASUS ID[:rol]   Voeg iemand toe ...". The
// syntax ends at the first double space (or the line's end); what follows explains it.
bool ParseLine(const std::string& line, GeneralCommand& out) {
  if (line.size() < 3 || line.compare(0, 2, "  ") != 0 || line[2] < 'a' || line[2] > 'z') {
    return false;  // a heading, an option ("  --json"), a continued explanation or a sentence
  }
  const size_t end = line.find("  ", 2);
  const std::string syntax = line.substr(2, end == std::string::npos ? std::string::npos : end - 2);
  std::vector<std::string> tokens;
  for (size_t at = 0; at < syntax.size();) {
    size_t space = syntax.find(' ', at);
    if (space == std::string::npos) space = syntax.size();
    if (space > at) tokens.push_back(syntax.substr(at, space - at));
    at = space + 1;
  }
  out = {};
  out.words.push_back(tokens.front());
  size_t i = 1;
  if (i < tokens.size() && IsCommandWord(tokens[i])) out.words.push_back(tokens[i++]);
  int depth = 0;  // inside [...]: optional
  for (size_t first = i; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    // WIE: an account's id or a person's name (member approve CASUS WIE).
    if (i == first + 1 && out.takes_case && (t.rfind("ID", 0) == 0 || t == "WIE")) {
      out.id_after_case = true;
    }
    const bool optional = depth > 0 || t.front() == '[';
    depth += static_cast<int>(std::count(t.begin(), t.end(), '[')) -
             static_cast<int>(std::count(t.begin(), t.end(), ']'));
    if (i == first && t == (optional ? "[CASUS]" : "CASUS")) {
      (optional ? out.optional_case : out.takes_case) = true;
    }
    if (!optional && t != "...") ++out.required;
  }
  const bool leave = out.words == std::vector<std::string>{"case", "leave"};
  out.case_from_env = out.takes_case && !leave;
  return true;
}

}  // namespace

std::vector<GeneralCommand> GeneralCommands() {
  const std::string usage = DutchText(Msg::kUsage);
  std::vector<GeneralCommand> out;
  for (size_t at = 0; at < usage.size();) {
    size_t end = usage.find('\n', at);
    if (end == std::string::npos) end = usage.size();
    GeneralCommand command;
    if (ParseLine(usage.substr(at, end - at), command)) out.push_back(std::move(command));
    at = end + 1;
  }
  return out;
}

const GeneralCommand* FindGeneralCommand(const std::vector<GeneralCommand>& commands,
                                         const std::vector<std::string>& args) {
  for (const GeneralCommand& c : commands) {
    if (args.size() >= c.words.size() && std::equal(c.words.begin(), c.words.end(), args.begin())) {
      return &c;
    }
  }
  return nullptr;
}

}  // namespace kring::cli
