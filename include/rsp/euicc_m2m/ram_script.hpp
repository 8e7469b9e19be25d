#pragma once
/// The card running an expanded remote command script (ETSI TS 102 226 §5.2)
/// on its ISD-R, whichever secure channel brought it (SCP80 over SMS, SCP81
/// over HTTPS): each '22' C-APDU in order; the script stops after the first
/// R-APDU with an error status (SW1 other than '90', '61', '62' or '63'), as
/// §5.2.1 has processing stop at an error. The answer is the response script:
/// '80' the number of executed C-APDUs, then their R-APDUs ('23'). Other
/// command items ('81' immediate action, '82' error action, '83' script
/// chaining) are not supported by the simulator and skipped.

#include <functional>

#include "rsp/euicc_m2m/isd_r.hpp"
#include "rsp/ota/ram.hpp"

namespace rsp::euicc_m2m {

ota::ResponseScript run_script(M2mIsdR& isd_r, const ota::CommandScript& script);
/// The same on any security domain: `execute` takes a C-APDU and answers its R-APDU.
ota::ResponseScript run_script(const std::function<Bytes(ByteView)>& execute, const ota::CommandScript& script);

}  // namespace rsp::euicc_m2m
