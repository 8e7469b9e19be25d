#pragma once
// The SCP03 key set of the M2M card's security domains: random per open, so
// no terminal can open SCP03 to them; the SM-SR reaches the ISD-R through
// SCP80 / SCP81 (M2mIsdR::execute), and the ECASD is read without SCP03.

#include "rsp/card/secure_channel.hpp"
#include "rsp/crypto/random.hpp"

namespace rsp::euicc_m2m::detail {

inline card::Scp03KeySet unreachable_scp03_keys() {
  crypto::SystemRandom random;
  card::Scp03KeySet k;
  k.keys.enc = random.bytes(16);
  k.keys.mac = random.bytes(16);
  return k;
}

}  // namespace rsp::euicc_m2m::detail
