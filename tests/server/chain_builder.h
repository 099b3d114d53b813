// An account's chain built link by link as its devices build it, for tests of PublishChain
// (publish_chain_test.cpp against kringd, publish_plan_test.cpp against its steps).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"
#include "kring/v1/account.pb.h"

#include "server/server_test_util.h"

namespace kring::test {

using Fill = std::function<void(v1::LinkBody&)>;

// An account's chain as its devices build it: every link the tests made, in order.
struct Chain {
  TestAccount a;
  std::vector<v1::ChainLink> links;
  uint32_t generation = 1;  // the user key generation of the newest link made

  explicit Chain(TestAccount account) : a(std::move(account)), links{a.root} {}

  // The link after `after` (default: the last one made), of kind `fill`, signed by `signer`
  // (default: the first device); not added to `links`.
  v1::ChainLink Make(const Fill& fill, const crypto::SigningKeyPair* signer = nullptr,
                     const crypto::SigningKeyPair* countersigner = nullptr,
                     const v1::ChainLink* after = nullptr) const {
    const v1::ChainLink& prev = after != nullptr ? *after : links.back();
    v1::LinkBody prev_body;
    REQUIRE(prev_body.ParseFromString(prev.body()));
    if (signer == nullptr) signer = &a.signing;
    v1::LinkBody body;
    body.set_version(1);
    body.set_index(prev_body.index() + 1);
    body.set_prev_link_hash(ToString(protocol::LinkHash(View(prev.body()))));
    body.set_signer_device_id(ToString(protocol::DeviceId(signer->public_key)));
    body.set_created_at_ms(1);
    fill(body);
    v1::ChainLink link;
    link.set_body(body.SerializeAsString());
    const Bytes input = protocol::LinkSignInput(View(link.body()));
    link.set_signature(ToString(crypto::Sign(signer->secret_key, input)));
    if (countersigner != nullptr) {
      link.set_new_device_signature(ToString(crypto::Sign(countersigner->secret_key, input)));
    }
    return link;
  }

  Fill Rotate() { return Rotation(++generation); }
  Fill Rotation(uint32_t gen) const {
    return [this, gen](v1::LinkBody& body) { FillRotateUserKey(body, a, gen); };
  }

  grpc::Status Publish(Client& c, const std::vector<v1::ChainLink>& send,
                       uint64_t* length = nullptr) const {
    v1::PublishChainRequest req;
    req.set_account_id(ToString(a.account_id));
    for (const v1::ChainLink& link : send) *req.add_links() = link;
    v1::PublishChainResponse resp;
    grpc::Status s = c.account->PublishChain(Ctx().get(), req, &resp);
    if (length != nullptr) *length = resp.length();
    return s;
  }

  // Makes `n` rotation links and publishes them, at most 64 per request; REQUIREs success.
  void Grow(Client& c, size_t n) {
    while (n > 0) {
      std::vector<v1::ChainLink> batch;
      for (; n > 0 && batch.size() < 64; --n) {
        links.push_back(Make(Rotate()));
        batch.push_back(links.back());
      }
      uint64_t length = 0;
      REQUIRE(Publish(c, batch, &length).error_message() == "");
      REQUIRE(length == links.size());
    }
  }

  // The links [from, to) made so far.
  std::vector<v1::ChainLink> Slice(size_t from, size_t to) const {
    return {links.begin() + static_cast<std::ptrdiff_t>(from),
            links.begin() + static_cast<std::ptrdiff_t>(to)};
  }
};

}  // namespace kring::test
