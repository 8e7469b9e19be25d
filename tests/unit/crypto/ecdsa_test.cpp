#include "rsp/crypto/ecdsa.hpp"

#include <gtest/gtest.h>

#include "kat.hpp"

namespace rsp::crypto {
namespace {

using test::read_kat;
using Code = CryptoError::Code;

EcKey point_key(Curve curve, const test::KatRecord& r) {
  Bytes point{0x04};
  Bytes x = r.hex("Qx"), y = r.hex("Qy");
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  auto key = EcKey::from_public_point(curve, point);
  EXPECT_TRUE(key) << key.error().message;
  return *key;
}

TEST(Ecdsa, NistCavpSigVerP256Sha256) {
  auto kat = read_kat("ecdsa_sigver_p256_sha256.txt");
  ASSERT_EQ(kat.size(), 7u);
  for (const auto& r : kat) {
    EcKey key = point_key(Curve::NistP256, r);
    Bytes plain = r.hex("R");
    Bytes s = r.hex("S");
    plain.insert(plain.end(), s.begin(), s.end());
    bool expect_pass = r.at("Result")[0] == 'P';
    auto res = verify_plain(key, r.hex("Msg"), plain);
    EXPECT_EQ(res.has_value(), expect_pass) << r.at("Qx") << " " << r.at("Result");
    auto der = plain_to_der(plain);
    ASSERT_TRUE(der);
    EXPECT_EQ(verify_der(key, r.hex("Msg"), *der).has_value(), expect_pass);
  }
}

/// Every case of a Wycheproof ECDSA file: "valid" ones verify, the rest do not.
template <class Verify>
void check_wycheproof(Curve curve, const std::string& file, std::size_t cases, Verify verify) {
  auto kat = read_kat(file);
  ASSERT_EQ(kat.size(), cases);
  for (const auto& r : kat) {
    EcKey key = point_key(curve, r);
    const bool valid = r.at("Result") == "valid";
    EXPECT_EQ(verify(key, r.hex("Msg"), r.hex("Sig")).has_value(), valid) << file << " tcId " << r.at("tcId");
  }
}

TEST(Ecdsa, WycheproofBrainpoolP256r1Sha256) {
  check_wycheproof(Curve::BrainpoolP256r1, "ecdsa_brainpoolp256r1_sha256_p1363.txt", 261, verify_plain);
}

TEST(Ecdsa, WycheproofBrainpoolP256r1Sha256Der) {
  check_wycheproof(Curve::BrainpoolP256r1, "ecdsa_brainpoolp256r1_sha256_der.txt", 485, verify_der);
}

TEST(Ecdsa, WycheproofP256Sha256) {
  check_wycheproof(Curve::NistP256, "ecdsa_secp256r1_sha256_p1363.txt", 262, verify_plain);
}

TEST(Ecdsa, WycheproofP256Sha256Der) {
  check_wycheproof(Curve::NistP256, "ecdsa_secp256r1_sha256_der.txt", 484, verify_der);
}

class EcdsaCurve : public ::testing::TestWithParam<Curve> {};

TEST_P(EcdsaCurve, SignVerifyBothEncodings) {
  auto key = EcKey::generate(GetParam());
  ASSERT_TRUE(key);
  Bytes msg = to_bytes("euiccSigned1");
  auto plain = sign_plain(*key, msg);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->size(), kPlainSignatureSize);
  EXPECT_TRUE(verify_plain(*key, msg, *plain));
  auto der = sign_der(*key, msg);
  ASSERT_TRUE(der);
  EXPECT_TRUE(verify_der(*key, msg, *der));
  auto back = der_to_plain(*der);
  ASSERT_TRUE(back);
  EXPECT_EQ(plain_to_der(*back).value(), *der);

  Bytes other = to_bytes("euiccSigned2");
  auto bad = verify_plain(*key, other, *plain);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::VerifyFailed);

  auto pub = EcKey::from_public_point(GetParam(), key->public_point());
  ASSERT_TRUE(pub);
  EXPECT_TRUE(verify_plain(*pub, msg, *plain));
  EXPECT_EQ(sign_plain(*pub, msg).error().code, Code::InvalidKey);
}

INSTANTIATE_TEST_SUITE_P(Curves, EcdsaCurve,
                         ::testing::Values(Curve::NistP256, Curve::BrainpoolP256r1),
                         [](const auto& tp) { return std::string(short_name(tp.param)); });

Bytes hex(const char* h) { return from_hex(h).value(); }

TEST(EcdsaFormat, StrictDerParsing) {
  // r = 1, s = 0x80 (needs a leading zero byte).
  EXPECT_EQ(to_hex(der_to_plain(hex("3007020101020200 80")).value()),
            std::string(62, '0') + "01" + std::string(62, '0') + "80");
  const char* bad[] = {
      "",
      "3006020101020101",          // too short content? valid: r=1 s=1 -> checked below
      "3007020101020101",          // SEQUENCE length wrong
      "300702010102020001",        // non-minimal s
      "30060201010201ff",          // negative s
      "3006020100020101",          // r = 0
      "308106020101020101",        // long-form length
      "3106020101020101",          // wrong outer tag
      "3006030101020101",          // wrong inner tag
      "30080201010201010000",      // trailing bytes inside
      "300602010102010100",        // trailing bytes outside
  };
  EXPECT_TRUE(der_to_plain(hex("3006020101020101")));
  for (std::size_t i = 0; i < std::size(bad); ++i) {
    if (i == 1) continue;
    auto r = der_to_plain(hex(bad[i]));
    ASSERT_FALSE(r) << bad[i];
    EXPECT_EQ(r.error().code, Code::InvalidSignature);
  }
  // 33 significant bytes are too many for a 256-bit curve.
  Bytes big = hex("3026022101");
  big.insert(big.end(), 32, 0x11);
  big.insert(big.end(), {0x02, 0x01, 0x01});
  EXPECT_FALSE(der_to_plain(big));
}

TEST(EcdsaFormat, PlainToDer) {
  EXPECT_FALSE(plain_to_der(Bytes(63, 1)));
  EXPECT_FALSE(plain_to_der(Bytes(64, 0)));
  Bytes plain(64, 0xff);
  auto der = plain_to_der(plain);
  ASSERT_TRUE(der);
  EXPECT_EQ(der->size(), 72u);
  EXPECT_EQ(der_to_plain(*der).value(), plain);
}

}  // namespace
}  // namespace rsp::crypto
