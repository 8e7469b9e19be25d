#include "rsp/smsr/profile_checks.hpp"

namespace rsp::smsr {

using m2m::PolicyAction;
using m2m::ProfileState;
namespace codes = m2m::codes;

SmsrResult<void> check_enable(const m2m::Eis& eis, const m2m::ProfileInfo& p) {
  if (p.state != ProfileState::Disabled)
    return smsr_error(codes::kProfileInvalidTransition, "only a Disabled profile can be enabled");
  // Enabling disables the profile enabled now: its POL2 must allow that
  // (SGP.02 §3.2, "disable not allowed").
  for (const auto& other : eis.profiles)
    if (other.state == ProfileState::Enabled && m2m::pol2_forbids(other, PolicyAction::Disable))
      return smsr_error(codes::kPol2Refused, "the POL2 of the enabled profile does not allow disabling it");
  return {};
}

SmsrResult<void> check_disable(const m2m::Eis&, const m2m::ProfileInfo& p) {
  if (p.state != ProfileState::Enabled)
    return smsr_error(codes::kProfileInvalidTransition, "only the Enabled profile can be disabled");
  if (m2m::pol2_forbids(p, PolicyAction::Disable))
    return smsr_error(codes::kPol2Refused, "POL2 does not allow disabling this profile");
  // SGP.02 §3.4: disabling enables the profile with the fallback attribute;
  // that profile itself cannot be disabled.
  if (p.fallback_attribute)
    return smsr_error(codes::kProfileInvalidTransition, "the profile with the fallback attribute cannot be disabled");
  return {};
}

SmsrResult<void> check_delete(const m2m::Eis&, const m2m::ProfileInfo& p) {
  if (p.state == ProfileState::Enabled)
    return smsr_error(codes::kProfileInvalidTransition, "the Enabled profile cannot be deleted");
  if (m2m::pol2_forbids(p, PolicyAction::Delete))
    return smsr_error(codes::kPol2Refused, "POL2 does not allow deleting this profile");
  if (p.fallback_attribute)
    return smsr_error(codes::kProfileInvalidTransition, "the profile with the fallback attribute cannot be deleted");
  return {};
}

}  // namespace rsp::smsr
