// How a name someone types is matched to a person of the circle: the rule the command line and
// the apps share, so "kees bakker" finds Kees Bakker on every device in the same way.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kring/domain/organising.h"

namespace kring::domain {

// Whether two names are the same name as people read them: letter case does not count, for
// ASCII and for the accented Latin letters of Dutch and other European names (É/é, Ë/ë, Ö/ö,
// Ĳ/ĳ, Ç/ç: Latin-1 Supplement and Latin Extended-A). Nothing else is folded: accents count
// ("Rene" is not "René"), spaces count, and letters of other scripts match only exactly. Text
// that is not UTF-8 matches only itself.
bool SameName(std::string_view a, std::string_view b);

// The people of `circle` (as Organising::Circle returns it) that `name` names by SameName, in
// circle order; declined proposals are never named. People in the circle or still proposed come
// first: someone who left is named only when nobody else has the name (their name stays in the
// history, a new person may carry it). More than one result means the name is ambiguous.
std::vector<const Person*> PeopleNamed(const std::vector<Person>& circle, std::string_view name);

// The person of `circle` a referral's invitee called `name` is already (SubmitReferral): the first
// in circle order with that name by SameName, whatever their status (proposed, approved,
// declined, taken out: a referral sent twice must not bring back someone the resident declined).
// nullptr when nobody has the name.
const Person* AlreadyNamed(const std::vector<Person>& circle, std::string_view name);

}  // namespace kring::domain
