// kring changes: what changed in the plan since the last look (FollowUp::ChangedSince, F5).
// Lists entity types and field names with their sequence numbers, never their content, so the
// output can go into a script's log; `kring plan show` and friends show the content. The text
// names them with the labels `kring conflicts` uses (words.h); --json with their stored names.
#include <cstdlib>
#include <iostream>
#include <string_view>

#include "kring/domain/follow_up.h"

#include "domain_commands.h"
#include "domain_ctx.h"
#include "words.h"

namespace kring::cli {
namespace {

// A sequence number typed by the user: digits only.
std::optional<uint64_t> ParseSeq(const std::string& text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return std::nullopt;
  }
  return std::strtoull(text.c_str(), nullptr, 10);
}

int Changes(Ctx& ctx) {
  auto since = ParseSeq(ctx.Get("since", "0"));
  if (!since) {
    return BadInput(ctx, "--since: een volgnummer (0 of hoger)",
                    "--since: a sequence number (0 or more)");
  }
  auto list = domain::FollowUp(ctx.client, ctx.case_id).ChangedSince(*since);
  if (!list.ok()) return Fail(list.status());
  // The next --since: the last position this device has confirmed.
  auto confirmed = ctx.client.ConfirmedView(ctx.case_id);
  if (!confirmed.ok()) return Fail(confirmed.status());
  const auto now_seq = static_cast<int64_t>(confirmed->seq());
  if (ctx.json) {
    std::vector<std::string> rows;
    for (const domain::Change& c : *list) {
      std::vector<std::string> fields;
      for (const std::string& f : c.fields) fields.push_back(JStr(f));
      rows.push_back(JObj({{"entity", JId(c.entity_id)},
                           {"type", JStr(c.type)},
                           {"created", JBool(c.created)},
                           {"fields", JArr(fields)},
                           {"seq", JNum(static_cast<int64_t>(c.seq))}}));
    }
    PrintJson(JObj({{"since", JNum(static_cast<int64_t>(*since))},
                    {"seq", JNum(now_seq)},
                    {"changes", JArr(rows)}}));
    return 0;
  }
  if (list->empty()) {
    std::cout << ctx.T("Niets veranderd in het plan sinds volgnummer ",
                       "Nothing changed in the plan since sequence number ")
              << *since << ".\n";
  } else {
    std::cout << ctx.T("Veranderd in het plan sinds volgnummer ",
                       "Changed in the plan since sequence number ")
              << *since << ":\n";
    for (const domain::Change& c : *list) {
      std::cout << "  " << EntityLabel(ctx, c.type) << " " << Hex(c.entity_id) << ": ";
      if (c.created) {
        std::cout << ctx.T("nieuw", "new");
      } else {
        std::cout << ctx.T("aangepast", "changed");
        const char* sep = " (";
        for (const std::string& f : c.fields) {
          std::cout << sep << FieldLabel(ctx, f);
          sep = ", ";
        }
        std::cout << ")";
      }
      std::cout << ctx.T(" [volgnummer ", " [sequence number ") << c.seq << "]\n";
    }
  }
  std::cout << ctx.T("Volgende keer: kring changes --since ", "Next time: kring changes --since ")
            << now_seq << "\n";
  return 0;
}

}  // namespace

const std::vector<Verb>& ChangesVerbs() {
  static const std::vector<Verb> verbs = {
      {"changes",
       "",
       "[--since VOLGNUMMER]",
       "Wat is er in het plan veranderd sinds een volgnummer (zonder: alles)",
       "What changed in the plan since a sequence number (without: everything)",
       {"since"},
       {},
       Changes},
  };
  return verbs;
}

}  // namespace kring::cli
