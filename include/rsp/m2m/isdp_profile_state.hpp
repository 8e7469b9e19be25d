#pragma once
/// An ISD-P's GlobalPlatform life-cycle state (as the card reports it) as the
/// EIS's profile state, for whoever builds an EIS from a card: the SM-SR's
/// AuditEIS and `rsp euicc create --m2m`.

#include "rsp/m2m/eis.hpp"
#include "rsp/m2m/isdr_commands.hpp"

namespace rsp::m2m {

/// SGP.02 §2.2.1.2: an ISD-P is Created until its profile is enabled or disabled.
inline ProfileState profile_state_of(IsdpState s) {
  switch (s) {
    case IsdpState::kEnabled: return ProfileState::Enabled;
    case IsdpState::kDisabled: return ProfileState::Disabled;
    default: return ProfileState::Created;
  }
}

}  // namespace rsp::m2m
