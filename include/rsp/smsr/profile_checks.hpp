#pragma once
/// The checks a profile function passes before it is accepted (SGP.02 §3.2
/// - §3.4: the profile's state, the POL2 rules, the fallback attribute),
/// shared by ES4 (the MNO calling) and ES3 (the SM-DP calling, §5.4).

#include "rsp/m2m/eis.hpp"
#include "rsp/smsr/error.hpp"

namespace rsp::smsr {

/// EnableProfile: a Disabled profile, and the enabled one may be disabled.
SmsrResult<void> check_enable(const m2m::Eis& eis, const m2m::ProfileInfo& p);
/// DisableProfile: the Enabled profile, POL2 allows it, not the fallback one.
SmsrResult<void> check_disable(const m2m::Eis& eis, const m2m::ProfileInfo& p);
/// DeleteProfile / DeleteISDP: not Enabled, POL2 allows it, not the fallback one.
SmsrResult<void> check_delete(const m2m::Eis& eis, const m2m::ProfileInfo& p);

}  // namespace rsp::smsr
