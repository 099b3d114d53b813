// Helpers for the integration tests of the netwerkberaad domain (organising, the meeting's
// record): people to enter, finding them by name, and the check that every device agrees.
#pragma once

#include <initializer_list>
#include <string>

#include "kring/common/bytes.h"
#include "kring/domain/organising.h"

#include "support/client_fixture.h"

namespace kring::test {

// A person to enter: name, kind and relation, with a phone number and e-mail address if given.
domain::PersonInput NewPerson(const std::string& name, const std::string& kind,
                              const std::string& relation, const std::string& phone = "",
                              const std::string& email = "");

// `p` proposed and approved by `organiser`, linked to `account` (so it has the app); its id.
Bytes AddLinkedPerson(domain::Organising& organiser, domain::PersonInput p, const Bytes& account);

// The id of the person called `name` in the circle as `org` sees it (fails the test if none).
Bytes IdOf(domain::Organising& org, const std::string& name);

// A spoed meeting (no pre-talks needed) fixed by `organiser` at noon on a summer day and in its
// information phase, not yet synced: its id.
Bytes SpoedMeetingInInformation(domain::Organising& organiser);

// The state every device must agree on: the scope-0 entities (no pending edits).
void RequireSameContent(std::initializer_list<Device*> devices, const Bytes& cid);

}  // namespace kring::test
