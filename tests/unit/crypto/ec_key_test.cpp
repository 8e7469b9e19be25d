#include "rsp/crypto/ec_key.hpp"
#include "rsp/crypto/random.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace rsp::crypto {
namespace {

class EcKeyTest : public ::testing::TestWithParam<Curve> {};

TEST_P(EcKeyTest, GenerateAndRoundTripEveryEncoding) {
  auto key = EcKey::generate(GetParam());
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_TRUE(key->has_private());
  EXPECT_EQ(key->curve(), GetParam());
  Bytes point = key->public_point();
  ASSERT_EQ(point.size(), 65u);
  EXPECT_EQ(point[0], 0x04);

  auto from_point = EcKey::from_public_point(GetParam(), point);
  ASSERT_TRUE(from_point) << from_point.error().message;
  EXPECT_FALSE(from_point->has_private());
  EXPECT_EQ(from_point->public_point(), point);

  auto from_spki = EcKey::from_spki_der(key->spki_der());
  ASSERT_TRUE(from_spki);
  EXPECT_EQ(from_spki->public_point(), point);
  EXPECT_EQ(from_spki->curve(), GetParam());

  auto pem = key->private_pem();
  ASSERT_TRUE(pem);
  auto from_pem = EcKey::from_pem(*pem);
  ASSERT_TRUE(from_pem);
  EXPECT_TRUE(from_pem->has_private());
  EXPECT_EQ(from_pem->public_point(), point);

  auto from_pub_pem = EcKey::from_pem(key->public_pem());
  ASSERT_TRUE(from_pub_pem);
  EXPECT_FALSE(from_pub_pem->has_private());
  EXPECT_FALSE(from_pub_pem->private_pem());

  EcKey copy = *key;
  EXPECT_EQ(copy.public_point(), point);
  EXPECT_EQ(copy.evp(), key->evp());
}

TEST_P(EcKeyTest, PrivateScalarRoundTripsThroughFromPrivateScalar) {
  auto key = EcKey::generate(GetParam());
  ASSERT_TRUE(key) << key.error().message;
  auto d = key->private_scalar();
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->size(), 32u);
  auto again = EcKey::from_private_scalar(GetParam(), *d);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->has_private());
  EXPECT_EQ(again->public_point(), key->public_point());
  auto d_again = again->private_scalar();
  ASSERT_TRUE(d_again);
  EXPECT_EQ(*d_again, *d);

  // A public key has no scalar to give.
  auto pub = EcKey::from_public_point(GetParam(), key->public_point());
  ASSERT_TRUE(pub);
  EXPECT_FALSE(pub->private_scalar());
}

TEST_P(EcKeyTest, RejectsPointsOffTheCurveOrMisencoded) {
  auto key = EcKey::generate(GetParam());
  ASSERT_TRUE(key);
  Bytes point = key->public_point();
  Bytes bad = point;
  bad[64] ^= 0x01;
  EXPECT_EQ(EcKey::from_public_point(GetParam(), bad).error().code, CryptoError::Code::InvalidKey);
  Bytes compressed(point.begin(), point.begin() + 33);
  compressed[0] = 0x02;
  EXPECT_FALSE(EcKey::from_public_point(GetParam(), compressed));
  EXPECT_FALSE(EcKey::from_public_point(GetParam(), Bytes(65, 0)));
  EXPECT_FALSE(EcKey::from_public_point(GetParam(), {}));
  // A point of the other curve, and coordinates that are not below p.
  const Curve other = GetParam() == Curve::NistP256 ? Curve::BrainpoolP256r1 : Curve::NistP256;
  EXPECT_FALSE(EcKey::from_public_point(GetParam(), EcKey::generate(other)->public_point()));
  Bytes big(65, 0xFF);
  big[0] = 0x04;
  EXPECT_FALSE(EcKey::from_public_point(GetParam(), big));
  // Keys made from points are each their own, whatever was made before.
  auto again = EcKey::from_public_point(GetParam(), point);
  auto other_key = EcKey::generate(GetParam());
  ASSERT_TRUE(again && other_key);
  auto second = EcKey::from_public_point(GetParam(), other_key->public_point());
  ASSERT_TRUE(second);
  EXPECT_EQ(again->public_point(), point);
  EXPECT_EQ(second->public_point(), other_key->public_point());
  EXPECT_EQ(again->spki_der(), key->spki_der());
  EXPECT_FALSE(again->has_private());
  Bytes spki = key->spki_der();
  spki.push_back(0);
  EXPECT_FALSE(EcKey::from_spki_der(spki));
  EXPECT_FALSE(EcKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"));
}

INSTANTIATE_TEST_SUITE_P(Curves, EcKeyTest,
                         ::testing::Values(Curve::NistP256, Curve::BrainpoolP256r1),
                         [](const auto& tp) { return std::string(short_name(tp.param)); });

TEST(EcKey, RefusesEncryptedPemWithoutPrompting) {
  auto key = EcKey::generate(Curve::NistP256);
  ASSERT_TRUE(key);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_NE(bio, nullptr);
  char pass[] = "secret";
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, key->evp(), EVP_aes_128_cbc(),
                                     reinterpret_cast<unsigned char*>(pass), 6, nullptr, nullptr),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  ASSERT_NE(pem.find("ENCRYPTED"), std::string::npos);
  auto r = EcKey::from_pem(pem);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, CryptoError::Code::InvalidKey);
}

TEST(EcKey, GenerateFromInjectedRandomIsReproducible) {
  DeterministicRandom a(Bytes{7}), b(Bytes{7});
  auto k1 = EcKey::generate(Curve::BrainpoolP256r1, a);
  auto k2 = EcKey::generate(Curve::BrainpoolP256r1, b);
  ASSERT_TRUE(k1 && k2);
  EXPECT_TRUE(k1->has_private());
  EXPECT_EQ(k1->public_point(), k2->public_point());
  EXPECT_NE(EcKey::generate(Curve::BrainpoolP256r1, a)->public_point(), k1->public_point());
}

TEST(EcKey, RejectsOtherCurves) {
  // A P-384 public key (SubjectPublicKeyInfo) from RFC 9500 §2.3 style test material would do;
  // generating one keeps the test independent of external files.
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp384r1");
  ASSERT_NE(raw, nullptr);
  auto r = EcKey::adopt(EvpPkeyPtr(raw));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, CryptoError::Code::UnsupportedCurve);
}

}  // namespace
}  // namespace rsp::crypto
