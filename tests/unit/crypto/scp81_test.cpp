// SCP81 key material: the PSK file `rsp pki init` writes is read back, and
// every refusal names the problem without the key. (The PSK-TLS handshakes
// themselves are the net component's: tests/unit/net/psk_tls_test.cpp.)

#include <gtest/gtest.h>

#include "rsp/crypto/scp81_psk.hpp"

namespace rsp::crypto {
namespace {

constexpr const char* kKeyHex = "000102030405060708090A0B0C0D0E0F";

TEST(Scp81, PskFileIsRead) {
  auto psk = parse_scp81_psk(std::string("identity=89049032123451234512345678901235\nkey=") + kKeyHex + "\n");
  ASSERT_TRUE(psk) << psk.error().message;
  EXPECT_EQ(psk->identity, "89049032123451234512345678901235");
  EXPECT_EQ(to_hex(psk->key), "000102030405060708090A0B0C0D0E0F");
  // CRLF, comments and a 32-byte key.
  auto wide = parse_scp81_psk("# card 7\r\nkey=" + std::string(64, 'a') + "\r\nidentity=card7\r\n");
  ASSERT_TRUE(wide) << wide.error().message;
  EXPECT_EQ(wide->key.size(), 32u);
}

TEST(Scp81, BadPskFilesAreRefusedWithoutTheKey) {
  const std::string key = std::string("key=") + kKeyHex + "\n";
  const std::vector<std::string> bad = {
      "",                                                   // nothing
      "identity=a\n",                                       // no key
      key,                                                  // no identity
      "identity=a\nkey=00010203\n",                         // too short
      "identity=a\nkey=" + std::string(66, '0') + "\n",     // too long
      "identity=a\nkey=0g0102030405060708090A0B0C0D0E0F\n", // not hex
      "identity=a\n" + key + key,                           // two keys
      "identity=\n" + key,                                  // empty identity
      "identity=a\n" + key + "extra\n",                     // a line without '='
      "identity=a\n" + key + "secret=1\n",                  // an unknown field
  };
  for (const auto& text : bad) {
    auto r = parse_scp81_psk(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, CryptoError::Code::InvalidInput);
    EXPECT_EQ(r.error().message.find("0A0B0C"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("0a0b0c"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace rsp::crypto
