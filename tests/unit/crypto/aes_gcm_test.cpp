// AES-GCM: the published AES-256 vectors (GCM specification test cases,
// NIST CAVP), both directions, and every change that must make open() fail.
#include "rsp/crypto/aes_gcm.hpp"

#include <gtest/gtest.h>

#include "kat.hpp"
#include "rsp/crypto/random.hpp"

namespace rsp::crypto {
namespace {

using test::read_kat;

TEST(AesGcm, PublishedAes256Vectors) {
  const auto kat = read_kat("aes_gcm_256.txt");
  ASSERT_EQ(kat.size(), 16u);
  for (const auto& r : kat) {
    SCOPED_TRACE(r.at("Key") + " / " + r.at("IV"));
    const Bytes sealed = rsp::concat({r.hex("CT"), r.hex("Tag")});
    auto s = aes_gcm_seal(r.hex("Key"), r.hex("IV"), r.hex("AAD"), r.hex("PT"));
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(to_hex(*s), to_hex(sealed));
    auto o = aes_gcm_open(r.hex("Key"), r.hex("IV"), r.hex("AAD"), sealed);
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(to_hex(*o), to_hex(r.hex("PT")));
  }
}

class AesGcmTamper : public ::testing::Test {
 protected:
  DeterministicRandom rng{Bytes{0x47, 0x43, 0x4d}};
  Bytes key = rng.bytes(32), nonce = rng.bytes(12), aad = to_bytes("iccid 89490000000000000120");
  Bytes plaintext = rng.bytes(100);
  Bytes sealed = aes_gcm_seal(key, nonce, aad, plaintext).value();

  void expect_refused(ByteView k, ByteView n, ByteView a, ByteView s) {
    auto r = aes_gcm_open(k, n, a, s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, CryptoError::Code::MacMismatch);
    EXPECT_EQ(r.error().message.find(to_hex(key)), std::string::npos);  // never the key
  }
};

TEST_F(AesGcmTamper, EveryByteOfCiphertextAndTagIsAuthenticated) {
  ASSERT_EQ(sealed.size(), plaintext.size() + kGcmTagSize);
  EXPECT_EQ(*aes_gcm_open(key, nonce, aad, sealed), plaintext);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    Bytes changed = sealed;
    changed[i] ^= 0x01;
    expect_refused(key, nonce, aad, changed);
  }
  // Cut or extended.
  expect_refused(key, nonce, aad, ByteView(sealed).first(sealed.size() - 1));
  expect_refused(key, nonce, aad, rsp::concat({sealed, Bytes{0x00}}));
}

TEST_F(AesGcmTamper, AnotherAadNonceOrKeyIsRefused) {
  Bytes other_aad = aad;
  other_aad.back() ^= 0x01;
  expect_refused(key, nonce, other_aad, sealed);
  expect_refused(key, nonce, {}, sealed);
  Bytes other_nonce = nonce;
  other_nonce[0] ^= 0x80;
  expect_refused(key, other_nonce, aad, sealed);
  Bytes other_key = key;
  other_key[31] ^= 0x01;
  expect_refused(other_key, nonce, aad, sealed);
}

TEST(AesGcm, SizesAreChecked) {
  const Bytes key(32, 1), nonce(12, 2);
  EXPECT_EQ(aes_gcm_seal(Bytes(31, 1), nonce, {}, Bytes{1}).error().code, CryptoError::Code::InvalidInput);
  EXPECT_EQ(aes_gcm_seal(key, Bytes(16, 2), {}, Bytes{1}).error().code, CryptoError::Code::InvalidInput);
  EXPECT_EQ(aes_gcm_open(key, nonce, {}, Bytes(15, 0)).error().code, CryptoError::Code::InvalidInput);
  // 128- and 192-bit keys work too; an empty message still has its tag.
  for (std::size_t n : {16u, 24u}) {
    const Bytes k(n, 3);
    auto s = aes_gcm_seal(k, nonce, to_bytes("a"), {});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->size(), kGcmTagSize);
    EXPECT_TRUE(aes_gcm_open(k, nonce, to_bytes("a"), *s));
  }
}

}  // namespace
}  // namespace rsp::crypto
