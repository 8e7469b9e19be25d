// Which SCP80 key set of the ISD-R an SMS wake-up uses (scp80_key_choice.hpp).

#include "rsp/smsr/scp80_key_choice.hpp"

namespace rsp::smsr {

namespace {

bool aes_length(std::size_t n) { return n == 16 || n == 24 || n == 32; }
bool triple_des_length(std::size_t n) { return n == 16 || n == 24; }

/// Higher is preferred: AES over 3DES, then the higher version.
int rank(const m2m::Scp80KeySet& k) {
  return (k.algorithm == m2m::Scp80KeySet::Algorithm::Aes ? 1000 : 0) + k.version;
}

}  // namespace

bool scp80_key_set_usable(const m2m::Scp80KeySet& k) {
  if (k.version < 1 || k.version > 15) return false;  // TS 102 225 §5.1.2: KIc b5-b8
  const auto fits = k.algorithm == m2m::Scp80KeySet::Algorithm::Aes ? aes_length : triple_des_length;
  return fits(k.kic.size()) && fits(k.kid.size());
}

const m2m::Scp80KeySet* choose_scp80_key_set(const m2m::IsdR& isd_r) {
  const m2m::Scp80KeySet* best = nullptr;
  for (const auto& k : isd_r.scp80_key_sets)
    if (scp80_key_set_usable(k) && (!best || rank(k) > rank(*best))) best = &k;
  return best;
}

}  // namespace rsp::smsr
