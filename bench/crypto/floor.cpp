#include "floor.hpp"

#include <time.h>

#include <cstdio>
#include <cstdlib>

#include "rsp/crypto/ecdsa.hpp"
#include "rsp/crypto/ecka.hpp"
#include "rsp/crypto/kdf.hpp"
#include "support/measure.hpp"

namespace rsp::bench {

using crypto::Curve;
using crypto::EcKey;

namespace {

/// Runs `op` repeatedly for about `seconds` of CPU, returns calls per CPU-second.
template <class Op>
double rate(double seconds, Op op) {
  const double start = thread_cpu_seconds();
  long count = 0;
  double now = start;
  do {
    for (int i = 0; i < 8; ++i) op();
    count += 8;
    now = thread_cpu_seconds();
  } while (now - start < seconds);
  return static_cast<double>(count) / (now - start);
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bench: %s failed\n", what);
  std::abort();
}

}  // namespace

CryptoRates measure_crypto_rates(Curve curve, double seconds_per_op) {
  auto key = EcKey::generate(curve);
  auto peer = EcKey::generate(curve);
  if (!key || !peer) die("key generation");
  auto peer_pub = EcKey::from_public_point(curve, peer->public_point());
  if (!peer_pub) die("public key import");
  const Bytes message(200, 0x5a);  // about the size of an SGP.22 signed structure
  auto sig = crypto::sign_plain(*key, message);
  if (!sig) die("signing");
  auto pub = EcKey::from_public_point(curve, key->public_point());
  if (!pub) die("public key import");
  const Bytes shs(32, 0x11), shared_info(26, 0x22);

  CryptoRates r;
  r.sign = rate(seconds_per_op, [&] {
    if (!crypto::sign_plain(*key, message)) die("signing");
  });
  r.verify = rate(seconds_per_op, [&] {
    if (!crypto::verify_plain(*pub, message, *sig)) die("verification");
  });
  r.ecdh = rate(seconds_per_op, [&] {
    if (!crypto::ecka_shared_secret(*key, *peer_pub)) die("ECKA");
  });
  r.keygen = rate(seconds_per_op, [&] {
    if (!EcKey::generate(curve)) die("key generation");
  });
  r.kdf = rate(seconds_per_op, [&] {
    if (!crypto::x963_kdf_sha256(shs, shared_info, 48)) die("KDF");
  });
  return r;
}

double download_floor(const CryptoRates& r) {
  if (r.sign <= 0 || r.keygen <= 0 || r.verify <= 0 || r.ecdh <= 0) return 0;
  return 1.0 / (3.0 / r.sign + 1.0 / r.keygen + 5.0 / r.verify + 1.0 / r.ecdh);
}

DownloadFloor measure_download_floor(Curve curve, double seconds_per_op) {
  DownloadFloor f;
  f.curve = curve;
  f.rates = measure_crypto_rates(curve, seconds_per_op);
  f.downloads_per_second = download_floor(f.rates);
  return f;
}

}  // namespace rsp::bench
