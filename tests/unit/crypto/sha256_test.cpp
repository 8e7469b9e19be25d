// SHA-256 against FIPS 180-4's examples (NIST CSRC "SHA256.pdf": "abc" and
// the two-block message), both forms agreeing.
#include "rsp/crypto/sha256.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace rsp::crypto {
namespace {

TEST(Sha256, Fips180Examples) {
  const std::pair<std::string, std::string> cases[] = {
      {"abc", "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248D6A61D20638B8E5C026930C3E6039A33CE45964FF2167F6ECEDD419DB06C1"},
      {"", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"},
  };
  for (const auto& [message, digest] : cases) {
    EXPECT_EQ(to_hex(sha256(as_bytes(message))), digest) << message;
    Sha256Digest fixed{};
    ASSERT_TRUE(sha256(as_bytes(message), fixed));
    EXPECT_EQ(to_hex(Bytes(fixed.begin(), fixed.end())), digest) << message;
  }
}

}  // namespace
}  // namespace rsp::crypto
