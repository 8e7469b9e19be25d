#pragma once
// The ISD-R's platform operations as pure functions on the card state
// (SGP.02 §3.2 - §3.6, §4.1.1): the rules of isd_r.hpp without I/O, so the
// ISD-R saves the changed state once per command.

#include <cstdint>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/euicc_m2m/state.hpp"
#include "rsp/m2m/isdr_commands.hpp"

namespace rsp::euicc_m2m::detail {

/// What an operation answers: response data and whether the state changed.
struct Outcome {
  Bytes data;
  bool changed = false;
};

/// What the card knows besides its state.
struct CardFacts {
  ByteView eid;  ///< 16 bytes
};

/// Applies `command` to `state` (changed only on success).
expected<Outcome, m2m::StatusWord> apply(M2mState& state, const m2m::IsdrCommand& command, const CardFacts& facts);

/// Applies `command` to `scratch`, a copy the caller drops on failure (which
/// may leave it half changed): apply() without its own copy.
expected<Outcome, m2m::StatusWord> apply_to(M2mState& scratch, const m2m::IsdrCommand& command,
                                            const CardFacts& facts);

/// Enables the fallback profile instead of the enabled one (SGP.02 §3.6);
/// false when there is nothing to fall back to.
bool fall_back(M2mState& state);

/// Queues a notification of `type` naming `aid`.
void notify(M2mState& state, m2m::NotificationType type, ByteView aid);

}  // namespace rsp::euicc_m2m::detail
