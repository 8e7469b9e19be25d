#include "rsp/crypto/aes.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "kat.hpp"
#include "rsp/crypto/random.hpp"

namespace rsp::crypto {
namespace {

using test::read_kat;

// OpenSSL's own CMAC and ciphers, called directly: the independent reference
// our AES code is compared with.
Bytes openssl_cmac(ByteView key, ByteView data) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  const char* cipher = key.size() == 16 ? "AES-128-CBC" : key.size() == 24 ? "AES-192-CBC" : "AES-256-CBC";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, const_cast<char*>(cipher), 0),
                         OSSL_PARAM_construct_end()};
  Bytes out(16);
  std::size_t len = 0;
  const bool ok = EVP_MAC_init(ctx, key.data(), key.size(), params) == 1 &&
                  EVP_MAC_update(ctx, data.data(), data.size()) == 1 &&
                  EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1 && len == 16;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return ok ? out : Bytes{};
}

/// "CBC" or "ECB" (iv empty) under a key of any AES size, no padding.
Bytes openssl_cipher(const std::string& mode, ByteView key, ByteView iv, ByteView data, bool encrypt) {
  const std::string name = "AES-" + std::to_string(key.size() * 8) + "-" + mode;
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, name.c_str(), nullptr);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  Bytes out(data.size() + 16);
  int n1 = 0, n2 = 0;
  const bool ok = EVP_CipherInit_ex2(ctx, cipher, key.data(), iv.empty() ? nullptr : iv.data(), encrypt, nullptr) == 1 &&
                  EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
                  EVP_CipherUpdate(ctx, out.data(), &n1, data.data(), static_cast<int>(data.size())) == 1 &&
                  EVP_CipherFinal_ex(ctx, out.data() + n1, &n2) == 1;
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(cipher);
  out.resize(static_cast<std::size_t>(n1 + n2));
  return ok ? out : Bytes{};
}

TEST(AesCmac, Rfc4493) {
  auto kat = read_kat("aes_cmac_rfc4493.txt");
  ASSERT_EQ(kat.size(), 4u);
  for (const auto& r : kat) EXPECT_EQ(aes_cmac(r.hex("K"), r.hex("M")).value(), r.hex("T"));
  EXPECT_FALSE(aes_cmac(Bytes(15, 0), {}));
}

TEST(AesKey, CmacMatchesRfc4493AndOpenSsl) {
  for (const auto& r : read_kat("aes_cmac_rfc4493.txt")) {
    auto key = AesKey::make(r.hex("K"));
    ASSERT_TRUE(key);
    const Bytes m = r.hex("M");
    EXPECT_EQ(key->cmac({m}).value(), r.hex("T"));
    // The parts are MACed as their concatenation, wherever they are cut.
    for (std::size_t cut = 0; cut <= m.size(); cut += 7)
      EXPECT_EQ(key->cmac({ByteView(m).first(cut), {}, ByteView(m).subspan(cut)}).value(), r.hex("T"));
  }
  // Every length class (empty, partial, whole blocks) with each key size, and
  // the same key object used again and again.
  DeterministicRandom rng(Bytes{7});
  for (std::size_t key_len : {16u, 24u, 32u}) {
    const Bytes k = rng.bytes(key_len);
    auto key = AesKey::make(k);
    ASSERT_TRUE(key);
    for (std::size_t len = 0; len <= 70; ++len) {
      const Bytes m = rng.bytes(len);
      EXPECT_EQ(key->cmac({m}).value(), openssl_cmac(k, m)) << key_len << " " << len;
      EXPECT_EQ(aes_cmac(k, m).value(), openssl_cmac(k, m)) << key_len << " " << len;
    }
  }
  EXPECT_EQ(AesKey::make(Bytes(15, 0)).error().code, CryptoError::Code::InvalidInput);
}

TEST(AesKey, CipherMatchesOpenSsl) {
  DeterministicRandom rng(Bytes{8});
  for (std::size_t key_len : {16u, 24u, 32u}) {
    const Bytes k = rng.bytes(key_len);
    auto key = AesKey::make(k);
    ASSERT_TRUE(key);
    for (std::size_t blocks = 1; blocks <= 5; ++blocks) {
      const Bytes iv = rng.bytes(16), data = rng.bytes(16 * blocks);
      const Bytes block = rng.bytes(16);
      EXPECT_EQ(key->cbc_encrypt(iv, data).value(), openssl_cipher("CBC", k, iv, data, true));
      EXPECT_EQ(key->cbc_decrypt(iv, data).value(), openssl_cipher("CBC", k, iv, data, false));
      EXPECT_EQ(key->encrypt_block(block).value(), openssl_cipher("ECB", k, {}, block, true));
      EXPECT_EQ(aes_cbc_encrypt(k, iv, data).value(), openssl_cipher("CBC", k, iv, data, true));
      EXPECT_EQ(aes_cbc_decrypt(k, iv, data).value(), openssl_cipher("CBC", k, iv, data, false));
      EXPECT_EQ(aes_encrypt_block(k, block).value(), openssl_cipher("ECB", k, {}, block, true));
    }
    EXPECT_FALSE(key->cbc_encrypt(Bytes(16, 0), Bytes(15, 0)));
    EXPECT_FALSE(key->cbc_decrypt(Bytes(16, 0), {}));
    EXPECT_FALSE(key->cbc_encrypt(Bytes(8, 0), Bytes(16, 0)));
    EXPECT_FALSE(key->encrypt_block(Bytes(17, 0)));
    // A refused call leaves the key usable.
    const Bytes iv = rng.bytes(16), data = rng.bytes(32);
    EXPECT_EQ(key->cbc_encrypt(iv, data).value(), openssl_cipher("CBC", k, iv, data, true));
  }
}

TEST(AesCbc, Sp800_38a) {
  auto kat = read_kat("aes_cbc_sp800_38a.txt");
  ASSERT_EQ(kat.size(), 1u);
  const auto& r = kat[0];
  EXPECT_EQ(aes_cbc_encrypt(r.hex("KEY"), r.hex("IV"), r.hex("PLAINTEXT")).value(),
            r.hex("CIPHERTEXT"));
  EXPECT_EQ(aes_cbc_decrypt(r.hex("KEY"), r.hex("IV"), r.hex("CIPHERTEXT")).value(),
            r.hex("PLAINTEXT"));
  // First block of CBC with a zero IV is plain AES of that block.
  EXPECT_EQ(aes_encrypt_block(r.hex("KEY"), Bytes(16, 0)).value(),
            aes_cbc_encrypt(r.hex("KEY"), Bytes(16, 0), Bytes(16, 0)).value());
  EXPECT_FALSE(aes_cbc_encrypt(r.hex("KEY"), r.hex("IV"), Bytes(15, 0)));
  EXPECT_FALSE(aes_cbc_encrypt(r.hex("KEY"), r.hex("IV"), {}));
  EXPECT_FALSE(aes_cbc_decrypt(r.hex("KEY"), Bytes(8, 0), Bytes(16, 0)));
}

TEST(Padding, Iso9797Method2) {
  EXPECT_EQ(to_hex(pad_iso9797_m2(from_hex("0102").value())),
            "01028000000000000000000000000000");
  EXPECT_EQ(pad_iso9797_m2(Bytes(16, 1)).size(), 32u);
  for (std::size_t n : {0u, 1u, 15u, 16u, 17u}) {
    Bytes data(n, 0x80);
    EXPECT_EQ(unpad_iso9797_m2(pad_iso9797_m2(data)).value(), data);
  }
  EXPECT_EQ(unpad_iso9797_m2(Bytes(16, 0)).error().code, CryptoError::Code::InvalidPadding);
  EXPECT_FALSE(unpad_iso9797_m2(Bytes(15, 0x80)));
  Bytes bad = pad_iso9797_m2(Bytes(3, 1));
  bad[15] = 0x01;
  EXPECT_FALSE(unpad_iso9797_m2(bad));
  EXPECT_EQ(to_hex(counter_block(0x0102, 0x80)), "80000000000000000000000000000102");
}

TEST(Random, DeterministicIsReproducibleAndSystemFills) {
  DeterministicRandom a(Bytes{1, 2, 3}), b(Bytes{1, 2, 3}), c(Bytes{9});
  Bytes x = a.bytes(70), y = b.bytes(70);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, c.bytes(70));
  EXPECT_NE(a.bytes(16), Bytes(x.begin(), x.begin() + 16));
  Bytes s1 = system_random().bytes(32), s2 = system_random().bytes(32);
  EXPECT_NE(s1, s2);
}

}  // namespace
}  // namespace rsp::crypto
