/// Prints per-core rates of the RSP public-key operations on both SGP.22
/// curves and the resulting SGP.22 download crypto floor.
///   bench_crypto [seconds-per-operation]

#include <cstdio>
#include <cstdlib>

#include "floor.hpp"

int main(int argc, char** argv) {
  double seconds = 0.5;
  if (argc > 1) {
    seconds = std::strtod(argv[1], nullptr);
    if (!(seconds > 0 && seconds < 60)) {
      std::fprintf(stderr, "usage: %s [seconds-per-operation]\n", argv[0]);
      return 2;
    }
  }
  std::printf("%-6s %12s %12s %12s %12s %12s %16s\n", "curve", "sign/s", "verify/s", "ecdh/s",
              "keygen/s", "kdf/s", "downloads/s/core");
  for (auto curve : {rsp::crypto::Curve::NistP256, rsp::crypto::Curve::BrainpoolP256r1}) {
    auto f = rsp::bench::measure_download_floor(curve, seconds);
    std::printf("%-6s %12.0f %12.0f %12.0f %12.0f %12.0f %16.1f\n",
                rsp::crypto::short_name(curve), f.rates.sign, f.rates.verify, f.rates.ecdh,
                f.rates.keygen, f.rates.kdf, f.downloads_per_second);
  }
  std::printf("floor = 1 / (3/sign + 1/keygen + 5/verify + 1/ecdh), SM-DP+ side per download\n");
  return 0;
}
