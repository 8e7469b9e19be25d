#pragma once
/// Sample profiles the project makes itself, so that the demo, tests and
/// benchmarks work without the TS.48 test profiles: a SAIP package (TCA eUICC
/// Profile Package v3.3.1) with a ProfileHeader (USIM, MILENAGE), an AKA
/// parameter element with a fresh K and OPc, and the End element.

#include <cstddef>
#include <string>

#include "rsp/common/bytes.hpp"

namespace rsp::crypto {
class Random;
}

namespace rsp::smdpp {

struct SampleProfileOptions {
  std::string profile_type = "rsp-sample";
  /// Extra bytes carried in the header's connectivityParameters, to give the
  /// package the size of a real profile (a TS.48 profile is about 12 KB).
  std::size_t filler = 0;
};

/// `iccid` in its 10-byte EF.ICCID form (or plain BCD); the header gets the
/// plain BCD SAIP uses. Keys come from `rng`.
Bytes make_sample_upp(ByteView iccid, crypto::Random& rng, const SampleProfileOptions& options = {});

}  // namespace rsp::smdpp
