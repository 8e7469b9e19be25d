#include <gtest/gtest.h>

#include "kat.hpp"
#include "rsp/crypto/ecka.hpp"
#include "rsp/crypto/kdf.hpp"

namespace rsp::crypto {
namespace {

using test::read_kat;

Bytes point(const Bytes& x, const Bytes& y) {
  Bytes p{0x04};
  p.insert(p.end(), x.begin(), x.end());
  p.insert(p.end(), y.begin(), y.end());
  return p;
}

TEST(Ecka, NistCavpCdhP256) {
  auto kat = read_kat("ecc_cdh_p256.txt");
  ASSERT_EQ(kat.size(), 2u);
  for (const auto& r : kat) {
    auto own = EcKey::from_private_scalar(Curve::NistP256, r.hex("dIUT"));
    ASSERT_TRUE(own) << own.error().message;
    Bytes own_point = own->public_point();
    EXPECT_EQ(Bytes(own_point.begin() + 1, own_point.begin() + 33), r.hex("QIUTx"));
    if (r.has("QIUTy")) {
      EXPECT_EQ(Bytes(own_point.begin() + 33, own_point.end()), r.hex("QIUTy"));
    }
    auto peer = EcKey::from_public_point(Curve::NistP256, point(r.hex("QCAVSx"), r.hex("QCAVSy")));
    ASSERT_TRUE(peer);
    auto z = ecka_shared_secret(*own, *peer);
    ASSERT_TRUE(z) << z.error().message;
    EXPECT_EQ(*z, r.hex("ZIUT"));
  }
}

TEST(Ecka, Rfc7027BrainpoolP256r1) {
  auto kat = read_kat("ecka_brainpoolp256r1_rfc7027.txt");
  ASSERT_EQ(kat.size(), 1u);
  const auto& r = kat[0];
  auto a = EcKey::from_private_scalar(Curve::BrainpoolP256r1, r.hex("dA"));
  auto b = EcKey::from_private_scalar(Curve::BrainpoolP256r1, r.hex("dB"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->public_point(), point(r.hex("x_qA"), r.hex("y_qA")));
  EXPECT_EQ(b->public_point(), point(r.hex("x_qB"), r.hex("y_qB")));
  auto qb = EcKey::from_public_point(Curve::BrainpoolP256r1, b->public_point());
  auto qa = EcKey::from_public_point(Curve::BrainpoolP256r1, a->public_point());
  ASSERT_TRUE(qa && qb);
  EXPECT_EQ(ecka_shared_secret(*a, *qb).value(), r.hex("x_Z"));
  EXPECT_EQ(ecka_shared_secret(*b, *qa).value(), r.hex("x_Z"));
}

/// Wycheproof's private scalars are minimal big-endian integers, at times
/// with a sign byte: left-pad or strip to 32 bytes.
Bytes scalar32(Bytes d) {
  while (d.size() > 32 && d.front() == 0) d.erase(d.begin());
  if (d.size() < 32) d.insert(d.begin(), 32 - d.size(), 0);
  return d;
}

// The peer key arrives as a SubjectPublicKeyInfo: invalid ones (off the curve,
// wrong or explicit curves, bad encodings) must be refused at import or at
// the derivation; valid ones must give Wycheproof's shared secret.
void check_wycheproof_ecdh(Curve curve, const std::string& file, std::size_t cases) {
  auto kat = read_kat(file);
  ASSERT_EQ(kat.size(), cases);
  for (const auto& r : kat) {
    auto own = EcKey::from_private_scalar(curve, scalar32(r.hex("Private")));
    ASSERT_TRUE(own) << file << " tcId " << r.at("tcId");
    auto peer = EcKey::from_spki_der(r.hex("Public"));
    CryptoResult<Bytes> z = peer ? ecka_shared_secret(*own, *peer) : unexpected(peer.error());
    const std::string& result = r.at("Result");
    if (result == "valid") {
      ASSERT_TRUE(z) << file << " tcId " << r.at("tcId") << ": " << z.error().message;
      EXPECT_EQ(*z, r.hex("Shared")) << file << " tcId " << r.at("tcId");
    } else if (result == "invalid") {
      EXPECT_FALSE(z) << file << " tcId " << r.at("tcId");
    } else if (z) {  // acceptable: refusing is fine, a wrong secret is not
      EXPECT_EQ(*z, r.hex("Shared")) << file << " tcId " << r.at("tcId");
    }
  }
}

TEST(Ecka, WycheproofBrainpoolP256r1) {
  check_wycheproof_ecdh(Curve::BrainpoolP256r1, "ecdh_brainpoolp256r1_wycheproof.txt", 804);
}

TEST(Ecka, WycheproofP256) { check_wycheproof_ecdh(Curve::NistP256, "ecdh_secp256r1_wycheproof.txt", 612); }

TEST(Ecka, RejectsMismatchedOrPublicOnlyKeys) {
  auto nist = EcKey::generate(Curve::NistP256);
  auto brp = EcKey::generate(Curve::BrainpoolP256r1);
  ASSERT_TRUE(nist && brp);
  EXPECT_FALSE(ecka_shared_secret(*nist, *brp));
  auto pub = EcKey::from_public_point(Curve::NistP256, nist->public_point());
  EXPECT_FALSE(ecka_shared_secret(*pub, *nist));
  EXPECT_FALSE(EcKey::from_private_scalar(Curve::NistP256, Bytes(32, 0)));
  EXPECT_FALSE(EcKey::from_private_scalar(Curve::NistP256, Bytes(32, 0xff)));
}

TEST(X963Kdf, NistCavpSha256) {
  auto kat = read_kat("x963_kdf_sha256.txt");
  ASSERT_EQ(kat.size(), 3u);
  for (const auto& r : kat) {
    Bytes expected = r.hex("key_data");
    auto out = x963_kdf_sha256(r.hex("Z"), r.hex("SharedInfo"), expected.size());
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(to_hex(*out), to_hex(expected));
  }
  EXPECT_FALSE(x963_kdf_sha256(Bytes(32, 1), {}, 0));
}

}  // namespace
}  // namespace rsp::crypto
