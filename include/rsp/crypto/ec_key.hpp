#pragma once
/// Elliptic-curve keys on the two curves SGP.22 uses (§2.6.5: NIST P-256 and
/// brainpoolP256r1), wrapping an OpenSSL 3 EVP_PKEY. Private keys never appear
/// in logs or error messages.

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace rsp::crypto {

class Random;

enum class Curve { NistP256, BrainpoolP256r1 };

/// "nist" / "brp", the short names used in SGP.26 file names and on our command line.
const char* short_name(Curve c);
/// OpenSSL group name: "prime256v1" / "brainpoolP256r1".
const char* openssl_name(Curve c);

struct CryptoError {
  enum class Code {
    InvalidKey,        ///< malformed or wrong-curve key material
    UnsupportedCurve,  ///< a curve other than P-256 / brainpoolP256r1
    InvalidSignature,  ///< malformed signature encoding
    VerifyFailed,      ///< well-formed signature that does not verify
    InvalidInput,      ///< wrong lengths, padding, counters ...
    MacMismatch,       ///< a MAC that does not verify
    InvalidPadding,    ///< decrypted data whose padding is malformed
    Internal,          ///< OpenSSL failed for a reason unrelated to the input
  };
  Code code;
  std::string message;  ///< never contains key material
};

template <class T>
using CryptoResult = expected<T, CryptoError>;

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* k) const;
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

/// An EC key pair or public key. Copying shares the underlying key (up-ref).
class EcKey {
 public:
  /// A fresh key pair from the system's CSPRNG.
  static CryptoResult<EcKey> generate(Curve curve);
  /// A key pair whose scalar is drawn from `rng` (rejection sampling), so tests
  /// that inject a DeterministicRandom get reproducible keys.
  static CryptoResult<EcKey> generate(Curve curve, Random& rng);
  /// PEM "PRIVATE KEY" (PKCS#8) or "EC PRIVATE KEY" (SEC 1), or a "PUBLIC KEY".
  static CryptoResult<EcKey> from_pem(std::string_view pem);
  /// DER SubjectPublicKeyInfo.
  static CryptoResult<EcKey> from_spki_der(ByteView der);
  /// An uncompressed point 04||X||Y (65 bytes) on `curve`, as carried in
  /// SGP.22 otPK / euiccOtpk / smdpOtpk fields.
  static CryptoResult<EcKey> from_public_point(Curve curve, ByteView point);
  /// A key pair from the raw private scalar d (32 bytes, big-endian, 0 < d < n);
  /// the public point is computed. For known-answer tests and key import.
  static CryptoResult<EcKey> from_private_scalar(Curve curve, ByteView d);
  /// Adopts an OpenSSL key (checks the curve).
  static CryptoResult<EcKey> adopt(EvpPkeyPtr key);

  Curve curve() const { return curve_; }
  bool has_private() const { return has_private_; }
  /// 04||X||Y (encoded once, when the key is made).
  Bytes public_point() const;
  /// DER SubjectPublicKeyInfo.
  Bytes spki_der() const;
  /// PKCS#8 PEM of the private key (for a KeyStore writing a 0600 file).
  CryptoResult<std::string> private_pem() const;
  /// The raw private scalar d (32 bytes, big-endian), what from_private_scalar
  /// takes back: for sealing a key with its curve kept beside it, without
  /// OpenSSL's encoder lookup that the PEM form costs. The caller wipes it.
  CryptoResult<Bytes> private_scalar() const;
  std::string public_pem() const;

  EVP_PKEY* evp() const { return key_.get(); }

  EcKey(const EcKey& other);
  EcKey& operator=(const EcKey& other);
  EcKey(EcKey&&) noexcept = default;
  EcKey& operator=(EcKey&&) noexcept = default;
  ~EcKey() = default;

 private:
  static constexpr std::size_t kPointBytes = 65;
  using Point = std::array<std::uint8_t, kPointBytes>;
  /// Checks `key` like adopt(); `point` is its public point when the caller
  /// already has it (OpenSSL would otherwise convert it to affine again).
  /// `self_made`: the key was just generated here (or by OpenSSL's key
  /// generation) from a range-checked scalar, so the public and private key
  /// checks would only repeat that work.
  static CryptoResult<EcKey> adopt(EvpPkeyPtr key, const Point* point, bool self_made = false);
  EcKey(EvpPkeyPtr key, Curve curve, bool has_private, const Point& point)
      : key_(std::move(key)), curve_(curve), has_private_(has_private), point_(point) {}
  EvpPkeyPtr key_;
  Curve curve_ = Curve::NistP256;
  bool has_private_ = false;
  Point point_{};
};

}  // namespace rsp::crypto
