#include "support/organising_fixture.h"

#include <optional>

#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

namespace kring::test {

domain::PersonInput NewPerson(const std::string& name, const std::string& kind,
                              const std::string& relation, const std::string& phone,
                              const std::string& email) {
  domain::PersonInput p;
  p.name = name;
  p.kind = kind;
  p.relation = relation;
  p.contact.phone = phone;
  p.contact.email = email;
  return p;
}

Bytes AddLinkedPerson(domain::Organising& organiser, domain::PersonInput p, const Bytes& account) {
  p.has_app = true;
  p.account_id = account;
  auto id = organiser.ProposePerson(p);
  REQUIRE(id.ok());
  REQUIRE(organiser.ApprovePerson(*id).ok());
  return *id;
}

Bytes IdOf(domain::Organising& org, const std::string& name) {
  auto circle = org.Circle();
  REQUIRE(circle.ok());
  for (const auto& p : *circle) {
    if (p.name == name) return p.person_id;
  }
  FAIL("no person " << name);
  return {};
}

Bytes SpoedMeetingInInformation(domain::Organising& organiser) {
  constexpr int64_t kHour = 3600LL * 1000;
  domain::LocationInput venue{
      domain::LocationKind::kVenue, "Buurthuis De Ster", "Sterlaan 1, Utrecht", {}};
  domain::FixOverrides why{"Spoed: geen tijd voor voorgesprekken.", ""};
  const int64_t noon = 1751364000000;
  auto meeting = organiser.FixSpoedMeeting(noon + 4 * kHour, noon + 5 * kHour, venue, why, noon);
  REQUIRE(meeting.ok());
  REQUIRE(organiser.StartPhase(*meeting, domain::Phase::kInformation).ok());
  return *meeting;
}

void RequireSameContent(std::initializer_list<Device*> devices, const Bytes& cid) {
  std::optional<v1::CaseState> first;
  for (Device* d : devices) {
    auto v = (*d)->ConfirmedView(cid);
    REQUIRE(v.ok());
    v1::CaseState s;
    for (const auto& [key, e] : v->entities()) {
      if (e.scope_id() == 0) (*s.mutable_entities())[key] = e;
    }
    if (!first) {
      first = s;
    } else {
      CHECK(google::protobuf::util::MessageDifferencer::Equals(*first, s));
    }
  }
}

}  // namespace kring::test
