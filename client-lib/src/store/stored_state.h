// The stored form of a case's confirmed state (v1::StoredCaseState). A note's text is already in
// the verified local log, in the ciphertext of the op that wrote it; keeping it a second time in
// the sealed state made a cold sync write the case's content twice. So a large text or blob
// value that a log op wrote is left out of the stored state, and a reference says which op and
// which of its SetFields gave it. What libkring holds in memory is the full state, unchanged.
#pragma once

#include <cstddef>
#include <functional>

#include "kring/common/bytes.h"
#include "kring/common/status.h"
#include "kring/v1/local.pb.h"
#include "kring/v1/model.pb.h"

#include "model/reducer.h"

namespace kring::client {

// From this size on a value is left out: a reference costs about 70 bytes of the stored state
// and one log entry to open when the state is read. The fold records the source of such values.
inline constexpr size_t kMinLeftOutValueBytes = model::kMinSourcedValueBytes;

// The plaintext of the stored form of `state`. Values written by a log op (seq > 0) in fields
// and conflicts are left out; pending values (seq 0) and everything else stay in. A left-out
// field's value is named by the op digest and SetField index its fold recorded
// (FieldState.source_mutation and source_op_digest_lo/hi) when it has them, else (and for
// conflicts) by a digest of the value. The left-out values and those sources are swapped out of
// `state` and back (O(1) each): `state` is as it was when this returns, but nothing else may read
// it while this runs.
// The plaintext comes with `before` bytes free in front of it and `after` behind it, for the
// store to seal it where it is (AtRest::SealInPlace). The buffer is not wiped: a caller seals it
// or wipes it.
Bytes SerializeStoredState(v1::CaseState& state, size_t before = 0, size_t after = 0);

// A content op of the case's verified local log, opened, and the digest of its envelope as the
// log holds it (protocol::OpDigest).
struct LogContent {
  v1::ContentOp content;
  Bytes op_digest;
};
// The content op at `seq` of the case's verified local log; DataLoss when it is missing or does
// not open.
using OpenLogContent = std::function<Result<LogContent>(uint64_t seq)>;

// Parses a stored form and puts every left-out value back, opening each log op it names once,
// in seq order. A reference that does not give back its value (a digest that is not the op's or
// the value's, no such SetField) is DataLoss, never an empty value. A field named by its op gets
// its source back.
Result<v1::CaseState> ParseStoredState(ByteView plain, const OpenLogContent& open);

}  // namespace kring::client
