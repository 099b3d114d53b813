// The receipt signer's rounds (server/src/receipt_signer.h): pushes of a case that share a round
// share one receipt at its highest seq, except a push whose author a push of the same round
// removed at R: its receipt is at R, never past it, or its device would hold a chain hash past its
// removal and read its head at R as a rollback.
#include "receipt_signer.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "kring/common/crypto.h"
#include "kring/common/protocol.h"

namespace kring::server {

struct ReceiptSignerTestAccess {
  // One round, as the signer thread runs it: no timing decides what shares it.
  static void SignRound(const ReceiptSigner& signer, std::vector<ReceiptSigner::Request>& round) {
    signer.SignRound(round);
  }
};

namespace {

Bytes Id(uint8_t b) { return Bytes(crypto::kIdBytes, b); }
Bytes HashAt(uint64_t seq) { return Bytes(32, static_cast<uint8_t>(seq)); }

struct Round {
  crypto::SigningKeyPair key = crypto::NewSigningKeyPair();
  ReceiptSigner signer{key.secret_key};
  std::vector<ReceiptSigner::Request> requests;
  std::vector<v1::Receipt> got;

  // A push by `author` whose highest op is at `seq`, removing `removed` (account, seq) pairs.
  void Push(const Bytes& case_id, const Bytes& author, uint64_t seq,
            std::vector<std::pair<Bytes, uint64_t>> removed = {}) {
    const size_t index = requests.size();
    got.emplace_back();
    ReceiptSigner::Request r{case_id,
                             seq,
                             HashAt(seq),
                             1000 + static_cast<int64_t>(seq),
                             [this, index](const v1::Receipt* receipt) {
                               REQUIRE(receipt != nullptr);
                               got[index] = *receipt;
                             },
                             author,
                             {},
                             false};
    for (const auto& [account, at] : removed) {
      r.removals.push_back({account, at, HashAt(at), 1000 + static_cast<int64_t>(at)});
    }
    requests.push_back(std::move(r));
  }

  void Sign() {
    ReceiptSignerTestAccess::SignRound(signer, requests);
    for (const v1::Receipt& receipt : got) {
      REQUIRE(protocol::VerifyReceipt(receipt, key.public_key));
    }
  }
};

}  // namespace

TEST_CASE("a push sharing a signing round with its author's removal gets a receipt at the removal",
          "[receipts][removal]") {
  Round round;
  const Bytes kase = Id(1), chair = Id(2), member = Id(3), stays = Id(4);
  round.Push(kase, member, 5);                // the member's edit
  round.Push(kase, stays, 6);                 // another member's edit
  round.Push(kase, chair, 8, {{member, 7}});  // RemoveMember at 7, its Rekey at 8
  round.Push(kase, stays, 9);                 // after the removal
  round.Sign();
  CHECK(round.got[0].seq() == 7);  // was 9: a chain hash and head past the member's removal
  CHECK(round.got[0].chain_hash() == ToString(HashAt(7)));
  CHECK(round.got[1].seq() == 9);  // the others keep the round's head
  CHECK(round.got[2].seq() == 9);
  CHECK(round.got[3].seq() == 9);
}

TEST_CASE("a member leaving while another pushes gets a receipt at its leave",
          "[receipts][removal]") {
  Round round;
  const Bytes kase = Id(1), leaver = Id(3), other = Id(4), other_case = Id(9);
  round.Push(kase, leaver, 4, {{leaver, 4}});  // leaving: its own RemoveMember at 4
  round.Push(kase, other, 5);
  round.Push(other_case, leaver, 12);  // another case of the same account is not touched
  round.Sign();
  CHECK(round.got[0].seq() == 4);
  CHECK(round.got[0].chain_hash() == ToString(HashAt(4)));
  CHECK(round.got[1].seq() == 5);
  CHECK(round.got[2].seq() == 12);
}

TEST_CASE("a push after its author's removal and re-adding in one round keeps the round's head",
          "[receipts][removal]") {
  Round round;
  const Bytes kase = Id(1), chair = Id(2), member = Id(3);
  round.Push(kase, member, 3);
  round.Push(kase, chair, 5, {{member, 4}});   // removed at 4
  round.Push(kase, member, 8);                 // re-added at 6-7 (not a removal), pushes at 8
  round.Push(kase, chair, 10, {{member, 9}});  // removed again at 9
  round.Sign();
  CHECK(round.got[0].seq() == 4);  // its first removal, the lowest at or above its seq
  CHECK(round.got[2].seq() == 9);  // its second removal
  CHECK(round.got[1].seq() == 10);
  CHECK(round.got[3].seq() == 10);
}

}  // namespace kring::server

namespace kring::server {

TEST_CASE("a retried push sharing a round with later pushes gets a receipt at its own seq",
          "[receipts][removal]") {
  // The member's edit was stored at 3 before its removal at 4 (an earlier round); its device
  // retries it after that (the answer was lost) while another member pushes at 6.
  Round round;
  const Bytes kase = Id(1), member = Id(3), stays = Id(4);
  round.Push(kase, member, 3);
  round.requests.back().retry = true;
  round.Push(kase, stays, 6);
  round.Sign();
  CHECK(round.got[0].seq() == 3);  // was 6: past its removal at 4
  CHECK(round.got[0].chain_hash() == ToString(HashAt(3)));
  CHECK(round.got[1].seq() == 6);
}

}  // namespace kring::server
