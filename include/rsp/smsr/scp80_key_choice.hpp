#pragma once
/// Which of the ISD-R's SCP80 key sets (EIS, SGP.02 §5.1.1.2.x) secures an
/// SMS wake-up.
///
/// A key set is usable when its version fits the 4-bit key index of KIc and
/// KID (ETSI TS 102 225 §5.1.2, §5.1.3: b5-b8; so 1..15, 0 is not a key
/// set) and its keys have a length the algorithm allows (AES 16/24/32 bytes;
/// triple DES 16 or 24, two or three keys, TS 102 225 §5.1.2 "3DES outer-CBC";
/// single DES is not offered for an ISD-R here). Of the usable sets AES
/// comes first and 3DES is taken only when the EIS has no usable AES set
/// (deployed cards are keyed with either, TS 102 225 defines both); within
/// one algorithm the highest version, the set loaded last (GlobalPlatform
/// key version numbers grow with each PUT KEY). This order is our reading:
/// neither SGP.02 nor TS 102 225 says which of several valid sets a sender
/// must use.

#include "rsp/m2m/eis.hpp"

namespace rsp::smsr {

/// True when `k` can secure a command packet (see above).
bool scp80_key_set_usable(const m2m::Scp80KeySet& k);

/// The key set to use, or null when the ISD-R has no usable one.
const m2m::Scp80KeySet* choose_scp80_key_set(const m2m::IsdR& isd_r);

}  // namespace rsp::smsr
