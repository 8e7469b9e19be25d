// Our brainpoolP256r1 arithmetic against OpenSSL's generic EC code: same
// public keys, same shared secrets, and signatures each side accepts from
// the other, over random and edge-case scalars.
#include "brainpool_p256r1.hpp"
#include "ossl.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>

#include "rsp/crypto/ecdsa.hpp"
#include "rsp/crypto/ecka.hpp"
#include "rsp/crypto/ec_key.hpp"

namespace rsp::crypto {
namespace {

namespace bp = brainpool;

using detail::BnPtr;
using GroupPtr = std::unique_ptr<EC_GROUP, decltype(&EC_GROUP_free)>;
using PointPtr = std::unique_ptr<EC_POINT, decltype(&EC_POINT_free)>;

// OpenSSL's own operations, called directly: the rsp::crypto functions route
// brainpool to the code under test.

Bytes openssl_derive(const EcKey& own, const EcKey& peer) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(own.evp(), nullptr),
                                                                   &EVP_PKEY_CTX_free);
  Bytes z(32);
  std::size_t len = z.size();
  EXPECT_EQ(EVP_PKEY_derive_init(ctx.get()), 1);
  EXPECT_EQ(EVP_PKEY_derive_set_peer(ctx.get(), peer.evp()), 1);
  EXPECT_EQ(EVP_PKEY_derive(ctx.get(), z.data(), &len), 1);
  EXPECT_EQ(len, 32u);
  return z;
}

bp::Signature openssl_sign(const EcKey& key, const Bytes& message) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  Bytes der(kMaxDerSignatureSize);
  std::size_t len = der.size();
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.evp()), 1);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), der.data(), &len, message.data(), message.size()), 1);
  der.resize(len);
  auto plain = der_to_plain(der).value();
  bp::Signature out{};
  std::copy(plain.begin(), plain.end(), out.begin());
  return out;
}

bool openssl_verifies(const EcKey& key, const Bytes& message, const bp::Signature& sig) {
  auto der = plain_to_der(ByteView(sig.data(), sig.size())).value();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EXPECT_EQ(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.evp()), 1);
  return EVP_DigestVerify(ctx.get(), der.data(), der.size(), message.data(), message.size()) == 1;
}

class Brainpool : public ::testing::Test {
 protected:
  GroupPtr group{EC_GROUP_new_by_curve_name(NID_brainpoolP256r1), &EC_GROUP_free};

  BnPtr order() const { return BnPtr(BN_dup(EC_GROUP_get0_order(group.get()))); }

  bp::Scalar from_bn(const BIGNUM* v) const {
    bp::Scalar s{};
    EXPECT_EQ(BN_bn2binpad(v, s.data(), static_cast<int>(s.size())), 32);
    return s;
  }

  /// n - delta
  bp::Scalar n_minus(unsigned long delta) const {
    auto n = order();
    BN_sub_word(n.get(), delta);
    return from_bn(n.get());
  }

  bp::Scalar random_scalar() const {
    BnPtr v(BN_new());
    BN_rand_range(v.get(), EC_GROUP_get0_order(group.get()));
    if (BN_is_zero(v.get())) BN_one(v.get());
    return from_bn(v.get());
  }

  /// d·G by OpenSSL.
  bp::Point openssl_public(const bp::Scalar& d) const {
    BnPtr k(BN_bin2bn(d.data(), 32, nullptr));
    PointPtr p(EC_POINT_new(group.get()), &EC_POINT_free);
    EXPECT_EQ(EC_POINT_mul(group.get(), p.get(), k.get(), nullptr, nullptr, nullptr), 1);
    bp::Point out{};
    EXPECT_EQ(EC_POINT_point2oct(group.get(), p.get(), POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(),
                                 nullptr),
              out.size());
    return out;
  }
};

TEST_F(Brainpool, PublicKeysMatchOpenSsl) {
  std::vector<bp::Scalar> scalars;
  bp::Scalar one{}, two{}, fifteen{}, sixteen{}, high{};
  one[31] = 1;
  two[31] = 2;
  fifteen[31] = 15;
  sixteen[31] = 16;
  high[0] = 0x80;  // 2^255
  scalars = {one, two, fifteen, sixteen, high, n_minus(1), n_minus(2), n_minus(16)};
  for (int i = 0; i < 64; ++i) scalars.push_back(random_scalar());
  for (const auto& d : scalars) {
    auto ours = bp::public_point(d);
    ASSERT_TRUE(ours);
    EXPECT_EQ(*ours, openssl_public(d));
    EXPECT_TRUE(bp::valid_point(*ours));
  }
}

TEST_F(Brainpool, ScalarRangeIsChecked) {
  bp::Scalar zero{};
  EXPECT_FALSE(bp::valid_scalar(zero));
  EXPECT_FALSE(bp::public_point(zero));
  EXPECT_FALSE(bp::valid_scalar(n_minus(0)));
  EXPECT_FALSE(bp::public_point(n_minus(0)));
  bp::Scalar all_ff;
  all_ff.fill(0xFF);
  EXPECT_FALSE(bp::valid_scalar(all_ff));
  EXPECT_TRUE(bp::valid_scalar(n_minus(1)));
}

TEST_F(Brainpool, InvalidPointsAreRejected) {
  auto q = bp::public_point(random_scalar()).value();
  auto off = q;
  off[64] ^= 0x01;  // y changed: off the curve
  EXPECT_FALSE(bp::valid_point(off));
  auto compressed = q;
  compressed[0] = 0x02;
  EXPECT_FALSE(bp::valid_point(compressed));
  bp::Point big{};
  big[0] = 0x04;
  std::fill(big.begin() + 1, big.end(), 0xFF);  // coordinates >= p
  EXPECT_FALSE(bp::valid_point(big));
  bp::Point zero{};
  zero[0] = 0x04;  // (0, 0) is not on the curve (b != 0)
  EXPECT_FALSE(bp::valid_point(zero));
  std::array<std::uint8_t, 32> digest{};
  auto sig = bp::sign(random_scalar(), digest).value();
  EXPECT_FALSE(bp::verify(off, digest, sig));
  EXPECT_FALSE(bp::shared_secret(random_scalar(), off));
}

TEST_F(Brainpool, SharedSecretsMatchOpenSsl) {
  for (int i = 0; i < 32; ++i) {
    const auto da = random_scalar(), db = random_scalar();
    auto a = EcKey::from_private_scalar(Curve::BrainpoolP256r1, Bytes(da.begin(), da.end())).value();
    auto b = EcKey::from_private_scalar(Curve::BrainpoolP256r1, Bytes(db.begin(), db.end())).value();
    // OpenSSL's derivation (EVP) against ours, both directions.
    bp::Point qb{};
    auto pb = b.public_point();
    std::copy(pb.begin(), pb.end(), qb.begin());
    auto ours = bp::shared_secret(da, qb);
    ASSERT_TRUE(ours);
    EXPECT_EQ(Bytes(ours->begin(), ours->end()), openssl_derive(a, b));
    bp::Point qa{};
    auto pa = a.public_point();
    std::copy(pa.begin(), pa.end(), qa.begin());
    EXPECT_EQ(bp::shared_secret(db, qa), ours);
  }
}

// Small scalars and n - 1 leave the first windows of the variable-base
// multiplication at infinity, which the doubling must keep.
TEST_F(Brainpool, SharedSecretWithEdgeScalars) {
  bp::Scalar one{};
  one[31] = 1;
  const auto g = bp::public_point(one).value();
  std::vector<bp::Scalar> scalars{one, n_minus(1), n_minus(2)};
  for (int v : {2, 3, 15, 16, 17, 255, 256}) {
    bp::Scalar d{};
    d[31] = static_cast<std::uint8_t>(v & 0xFF);
    d[30] = static_cast<std::uint8_t>(v >> 8);
    scalars.push_back(d);
  }
  for (const auto& d : scalars) {
    const auto expected = openssl_public(d);
    auto z = bp::shared_secret(d, g);
    ASSERT_TRUE(z);
    EXPECT_TRUE(std::equal(z->begin(), z->end(), expected.begin() + 1));
  }
}

TEST_F(Brainpool, SignaturesInteroperateWithOpenSsl) {
  for (int i = 0; i < 32; ++i) {
    const auto d = random_scalar();
    auto key = EcKey::from_private_scalar(Curve::BrainpoolP256r1, Bytes(d.begin(), d.end())).value();
    bp::Point q{};
    auto pq = key.public_point();
    std::copy(pq.begin(), pq.end(), q.begin());
    Bytes message(100 + i, static_cast<std::uint8_t>(i));
    std::array<std::uint8_t, 32> digest{};
    SHA256(message.data(), message.size(), digest.data());

    // ours -> OpenSSL
    auto sig = bp::sign(d, digest);
    ASSERT_TRUE(sig);
    EXPECT_TRUE(bp::verify(q, digest, *sig));
    EXPECT_TRUE(openssl_verifies(key, message, *sig));

    // OpenSSL -> ours
    auto theirs = openssl_sign(key, message);
    EXPECT_TRUE(bp::verify(q, digest, theirs));

    // tampering
    auto bad = *sig;
    bad[63] ^= 0x01;
    EXPECT_FALSE(bp::verify(q, digest, bad));
    auto other = digest;
    other[0] ^= 0x80;
    EXPECT_FALSE(bp::verify(q, other, *sig));
  }
}

TEST_F(Brainpool, SignatureComponentsOutOfRangeAreRejected) {
  const auto d = random_scalar();
  const auto q = bp::public_point(d).value();
  std::array<std::uint8_t, 32> digest{};
  digest[5] = 7;
  auto sig = bp::sign(d, digest).value();
  auto n = n_minus(0);
  auto r_zero = sig;
  std::fill(r_zero.begin(), r_zero.begin() + 32, 0);
  EXPECT_FALSE(bp::verify(q, digest, r_zero));
  auto s_zero = sig;
  std::fill(s_zero.begin() + 32, s_zero.end(), 0);
  EXPECT_FALSE(bp::verify(q, digest, s_zero));
  auto s_n = sig;
  std::copy(n.begin(), n.end(), s_n.begin() + 32);
  EXPECT_FALSE(bp::verify(q, digest, s_n));
  auto r_n = sig;
  std::copy(n.begin(), n.end(), r_n.begin());
  EXPECT_FALSE(bp::verify(q, digest, r_n));
}

TEST_F(Brainpool, FreshNonceEverySignature) {
  const auto d = random_scalar();
  std::array<std::uint8_t, 32> digest{};
  EXPECT_NE(bp::sign(d, digest), bp::sign(d, digest));
}

}  // namespace
}  // namespace rsp::crypto
