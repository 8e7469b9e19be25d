#pragma once
/// The SGP.22 download crypto floor: how many profile downloads per second one
/// core could serve if the SM-DP+ did nothing but the public-key operations a
/// download needs. Per download the SM-DP+ makes 3 signatures (serverSignature1,
/// smdpSignature2, the BPP's signature), 1 one-time key generation, 5
/// verifications (eUICC, EUM and eUICC certificates, euiccSignature1/2) and 1
/// ECKA. Later benchmarks measure it in the same run and report their ratio.

#include "rsp/crypto/ec_key.hpp"

namespace rsp::bench {

/// Operations per CPU-second of the calling thread (one core's rate, robust
/// to other load on the machine).
struct CryptoRates {
  double sign = 0;
  double verify = 0;
  double ecdh = 0;
  double keygen = 0;
  double kdf = 0;  ///< BSP key derivation (X9.63 KDF, 48 bytes)
};

struct DownloadFloor {
  crypto::Curve curve = crypto::Curve::NistP256;
  CryptoRates rates;
  double downloads_per_second = 0;
};

/// Measures each operation for about `seconds_per_op` CPU-seconds.
CryptoRates measure_crypto_rates(crypto::Curve curve, double seconds_per_op = 0.25);

/// 1 / (3/sign + 1/keygen + 5/verify + 1/ecdh).
double download_floor(const CryptoRates& rates);

DownloadFloor measure_download_floor(crypto::Curve curve, double seconds_per_op = 0.25);

}  // namespace rsp::bench
