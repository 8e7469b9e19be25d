/// EcKey over OpenSSL 3 EVP_PKEY (provider API only).

#include "rsp/crypto/ec_key.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>

#include "brainpool_p256r1.hpp"
#include "ossl.hpp"
#include "rsp/crypto/random.hpp"

namespace rsp::crypto {

using detail::BioPtr;
using detail::BnPtr;
using detail::fail;
using detail::PkeyCtxPtr;
using Code = CryptoError::Code;

namespace {

constexpr std::size_t kFieldBytes = 32;

std::optional<Curve> curve_of(EVP_PKEY* key) {
  if (key == nullptr || !EVP_PKEY_is_a(key, "EC")) return std::nullopt;
  std::array<char, 64> name{};
  std::size_t len = 0;
  // Explicit curve parameters: OpenSSL names the curve when p, a, b and G
  // match, whatever the cofactor says. RSP keys name their curve (SGP.22
  // §2.6.5), so a key that spells it out is refused.
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_EC_ENCODING, name.data(), name.size(), &len) == 1 &&
      std::string_view(name.data(), len) == OSSL_PKEY_EC_ENCODING_EXPLICIT) {
    return std::nullopt;
  }
  ERR_clear_error();
  len = 0;
  if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name.data(), name.size(),
                                      &len)) {
    ERR_clear_error();  // explicit curve parameters: no group name
    return std::nullopt;
  }
  std::string_view n(name.data(), len);
  if (n == "prime256v1" || n == "P-256" || n == "secp256r1") return Curve::NistP256;
  if (n == "brainpoolP256r1") return Curve::BrainpoolP256r1;
  return std::nullopt;
}

/// One group object per curve for the whole process: making one computes its
/// Montgomery constants, which cost as much as a key. Only read after creation
/// (EC_POINT_mul takes it const), so threads share it; never freed.
const EC_GROUP* shared_group(Curve curve) {
  static const EC_GROUP* const nist = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  static const EC_GROUP* const brainpool = EC_GROUP_new_by_curve_name(NID_brainpoolP256r1);
  return curve == Curve::NistP256 ? nist : brainpool;
}

/// The public key G on `curve`, imported from its point once.
EVP_PKEY* make_public_template(Curve curve) {
  const EC_GROUP* group = shared_group(curve);
  std::array<std::uint8_t, 65> g{};
  if (!group || EC_POINT_point2oct(group, EC_GROUP_get0_generator(group), POINT_CONVERSION_UNCOMPRESSED, g.data(),
                                   g.size(), nullptr) != g.size())
    return nullptr;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(openssl_name(curve)), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, g.data(), g.size()), OSSL_PARAM_construct_end()};
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1)
    return nullptr;
  return raw;
}

/// A public key on `curve` for from_public_point() to copy and give its own
/// point: importing a point by curve name builds OpenSSL's group again, with
/// its Montgomery constants, which costs more than the rest of the import; a
/// copy of a key copies the group. Only read once made (copies are taken from
/// it, never changes made to it), so threads share it; never freed.
EVP_PKEY* public_template(Curve curve) {
  static EVP_PKEY* const nist = make_public_template(Curve::NistP256);
  static EVP_PKEY* const brainpool = make_public_template(Curve::BrainpoolP256r1);
  return curve == Curve::NistP256 ? nist : brainpool;
}

bool has_private_scalar(EVP_PKEY* key) {
  BIGNUM* priv = nullptr;
  bool ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &priv) == 1 && priv != nullptr;
  BN_clear_free(priv);
  ERR_clear_error();
  return ok;
}

BioPtr mem_bio(std::string_view text) {
  if (text.size() > static_cast<std::size_t>(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

/// Never prompt for a passphrase: encrypted PEM is refused instead of reading
/// the terminal (OpenSSL's default callback would).
int no_passphrase(char*, int, int, void*) { return 0; }

std::string drain(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

const char* short_name(Curve c) { return c == Curve::NistP256 ? "nist" : "brp"; }
const char* openssl_name(Curve c) {
  return c == Curve::NistP256 ? "prime256v1" : "brainpoolP256r1";
}

void EvpPkeyDeleter::operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }

EcKey::EcKey(const EcKey& other)
    : curve_(other.curve_), has_private_(other.has_private_), point_(other.point_) {
  if (other.key_ && EVP_PKEY_up_ref(other.key_.get()) == 1) key_.reset(other.key_.get());
}

EcKey& EcKey::operator=(const EcKey& other) {
  if (this != &other) {
    EcKey copy(other);
    *this = std::move(copy);
  }
  return *this;
}

CryptoResult<EcKey> EcKey::adopt(EvpPkeyPtr key) { return adopt(std::move(key), nullptr); }

CryptoResult<EcKey> EcKey::adopt(EvpPkeyPtr key, const Point* point, bool self_made) {
  if (!key) return fail(Code::InvalidKey, "no key");
  if (!EVP_PKEY_is_a(key.get(), "EC")) return fail(Code::InvalidKey, "not an EC key");
  auto curve = curve_of(key.get());
  if (!curve) return fail(Code::UnsupportedCurve, "curve is not P-256 or brainpoolP256r1");
  // Keep encodings uncompressed whatever form the key arrived in (SGP.22 uses 04||X||Y).
  EVP_PKEY_set_utf8_string_param(key.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                 "uncompressed");
  const bool priv = self_made || has_private_scalar(key.get());
  if (!self_made) {
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!ctx) return fail(Code::Internal, "EVP_PKEY_CTX_new_from_pkey failed");
    // Both curves have cofactor 1, so a point on the curve other than infinity
    // has order n: the quick check (no n*Q multiplication) is a full validation.
    if (EVP_PKEY_public_check_quick(ctx.get()) != 1) return fail(Code::InvalidKey, "public point invalid");
    if (priv && EVP_PKEY_private_check(ctx.get()) != 1) return fail(Code::InvalidKey, "private scalar invalid");
  }
  Point encoded{};
  if (point) {
    encoded = *point;
  } else {
    std::size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, encoded.data(),
                                        encoded.size(), &len) != 1 ||
        len != encoded.size() || encoded[0] != 0x04) {
      ERR_clear_error();
      return fail(Code::InvalidKey, "public point cannot be encoded");
    }
  }
  return EcKey(std::move(key), *curve, priv, encoded);
}

CryptoResult<EcKey> EcKey::generate(Curve curve) {
  if (curve == Curve::BrainpoolP256r1) {
    // Our table-based d·G instead of OpenSSL's generic ladder (brainpool_p256r1.hpp).
    for (int attempt = 0; attempt < 64; ++attempt) {
      brainpool::Scalar d{};
      if (RAND_priv_bytes(d.data(), static_cast<int>(d.size())) != 1)
        return fail(Code::Internal, "no randomness for key generation");
      if (!brainpool::valid_scalar(d)) continue;  // n is close to 2^256: rare
      auto key = from_private_scalar(curve, d);
      OPENSSL_cleanse(d.data(), d.size());
      return key;
    }
    return fail(Code::Internal, "random source produced no valid scalar");
  }
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", openssl_name(curve)));
  if (!key) return fail(Code::Internal, "EC key generation failed");
  return adopt(std::move(key), nullptr, /*self_made=*/true);
}

CryptoResult<EcKey> EcKey::generate(Curve curve, Random& rng) {
  // n is close to 2^256 on both curves, so a retry is rare.
  for (int attempt = 0; attempt < 64; ++attempt) {
    Bytes d = rng.bytes(kFieldBytes);
    auto key = from_private_scalar(curve, d);
    wipe(d);
    if (key || key.error().code != Code::InvalidKey) return key;
  }
  return fail(Code::Internal, "random source produced no valid scalar");
}

CryptoResult<EcKey> EcKey::from_pem(std::string_view pem) {
  auto bio = mem_bio(pem);
  if (!bio) return fail(Code::InvalidKey, "PEM too large");
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, &no_passphrase, nullptr));
  if (!key) {
    bio = mem_bio(pem);
    if (!bio) return fail(Code::Internal, "BIO allocation failed");
    key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, &no_passphrase, nullptr));
  }
  if (!key) return fail(Code::InvalidKey, "no EC key in PEM");
  ERR_clear_error();
  return adopt(std::move(key));
}

CryptoResult<EcKey> EcKey::from_spki_der(ByteView der) {
  if (der.size() > 4096) return fail(Code::InvalidKey, "SubjectPublicKeyInfo too large");
  const unsigned char* p = der.data();
  EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key) return fail(Code::InvalidKey, "malformed SubjectPublicKeyInfo");
  if (p != der.data() + der.size())
    return fail(Code::InvalidKey, "trailing bytes after SubjectPublicKeyInfo");
  return adopt(std::move(key));
}

CryptoResult<EcKey> EcKey::from_public_point(Curve curve, ByteView point) {
  if (point.size() != kPointBytes || point[0] != 0x04)
    return fail(Code::InvalidKey, "public point must be 04||X||Y (65 bytes)");
  EVP_PKEY* tmpl = public_template(curve);
  EvpPkeyPtr key(tmpl ? EVP_PKEY_dup(tmpl) : nullptr);
  if (!key) return fail(Code::Internal, "EC key allocation failed");
  // Decoded as by an import (EC_POINT_oct2point): X and Y below p, the
  // point on the curve, and never the point at infinity (which 04||X||Y
  // cannot spell), so the point passes what adopt()'s
  // EVP_PKEY_public_check_quick would check again (on both curves, with
  // cofactor 1, a full validation). The curve is the template's, the key
  // has no private part, and a copy keeps the template's uncompressed
  // encoding: none of adopt()'s queries would learn anything, and each
  // costs a provider round trip on every eUICC certificate a server reads.
  if (EVP_PKEY_set1_encoded_public_key(key.get(), point.data(), point.size()) != 1) {
    ERR_clear_error();
    return fail(Code::InvalidKey, "point is not on the curve");
  }
  Point known{};
  std::copy(point.begin(), point.end(), known.begin());
  return EcKey(std::move(key), curve, /*has_private=*/false, known);
}

CryptoResult<EcKey> EcKey::from_private_scalar(Curve curve, ByteView d) {
  if (d.size() != kFieldBytes) return fail(Code::InvalidKey, "private scalar must be 32 bytes");
  const EC_GROUP* group = shared_group(curve);
  std::unique_ptr<EC_POINT, decltype(&EC_POINT_free)> pub(nullptr, &EC_POINT_free);
  BnPtr priv(BN_secure_new());
  if (!group || !priv) return fail(Code::Internal, "EC group allocation failed");
  pub.reset(EC_POINT_new(group));
  if (!pub || BN_bin2bn(d.data(), static_cast<int>(d.size()), priv.get()) == nullptr)
    return fail(Code::Internal, "EC allocation failed");
  if (BN_is_zero(priv.get()) || BN_cmp(priv.get(), EC_GROUP_get0_order(group)) >= 0)
    return fail(Code::InvalidKey, "private scalar out of range");
  Point point{};
  if (curve == Curve::BrainpoolP256r1) {
    brainpool::Scalar scalar{};
    std::copy(d.begin(), d.end(), scalar.begin());
    auto computed = brainpool::public_point(scalar);
    OPENSSL_cleanse(scalar.data(), scalar.size());
    if (!computed) return fail(Code::Internal, "public point computation failed");
    point = *computed;
  } else {
    if (EC_POINT_mul(group, pub.get(), priv.get(), nullptr, nullptr, nullptr) != 1)
      return fail(Code::Internal, "public point computation failed");
    if (EC_POINT_point2oct(group, pub.get(), POINT_CONVERSION_UNCOMPRESSED, point.data(),
                           point.size(), nullptr) != point.size())
      return fail(Code::Internal, "point encoding failed");
  }

  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      &OSSL_PARAM_BLD_free);
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, openssl_name(curve),
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1)
    return fail(Code::Internal, "parameter build failed");
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 &OSSL_PARAM_free);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1 || raw == nullptr)
    return fail(Code::InvalidKey, "key import failed");
  return adopt(EvpPkeyPtr(raw), &point, /*self_made=*/true);
}

bool detail::private_scalar(const EcKey& key, std::array<std::uint8_t, 32>& out) {
  if (!key.has_private()) return false;
  BIGNUM* priv = nullptr;
  const bool ok = EVP_PKEY_get_bn_param(key.evp(), OSSL_PKEY_PARAM_PRIV_KEY, &priv) == 1 && priv != nullptr &&
                  BN_bn2binpad(priv, out.data(), static_cast<int>(out.size())) == static_cast<int>(out.size());
  BN_clear_free(priv);
  if (!ok) ERR_clear_error();
  return ok;
}

bool detail::public_point(const EcKey& key, std::array<std::uint8_t, 65>& out) {
  const Bytes point = key.public_point();
  if (point.size() != out.size()) return false;
  std::copy(point.begin(), point.end(), out.begin());
  return true;
}

Bytes EcKey::public_point() const {
  if (!key_) return {};
  return Bytes(point_.begin(), point_.end());
}

Bytes EcKey::spki_der() const {
  unsigned char* der = nullptr;
  int len = key_ ? i2d_PUBKEY(key_.get(), &der) : -1;
  Bytes out;
  if (len > 0) out.assign(der, der + len);
  OPENSSL_free(der);
  return out;
}

CryptoResult<std::string> EcKey::private_pem() const {
  if (!has_private_) return fail(Code::InvalidKey, "public key only");
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio) bio.reset(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1)
    return fail(Code::Internal, "private key encoding failed");
  return drain(bio.get());
}

CryptoResult<Bytes> EcKey::private_scalar() const {
  if (!has_private_) return fail(Code::InvalidKey, "public key only");
  BIGNUM* priv = nullptr;
  if (EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_PRIV_KEY, &priv) != 1 || priv == nullptr) {
    BN_clear_free(priv);
    ERR_clear_error();
    return fail(Code::Internal, "private scalar not readable");
  }
  Bytes d(kFieldBytes);
  const bool ok = BN_bn2binpad(priv, d.data(), static_cast<int>(d.size())) == static_cast<int>(d.size());
  BN_clear_free(priv);
  if (!ok) {
    wipe(d);
    return fail(Code::Internal, "private scalar encoding failed");
  }
  return d;
}

std::string EcKey::public_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !key_ || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    ERR_clear_error();
    return {};
  }
  return drain(bio.get());
}

}  // namespace rsp::crypto
