#include "rsp/common/bytes.hpp"

#include <gtest/gtest.h>

namespace rsp {
namespace {

TEST(Hex, RoundTrip) {
  Bytes b{0x00, 0xBF, 0x3E, 0xff};
  EXPECT_EQ(to_hex(b), "00BF3EFF");
  EXPECT_EQ(from_hex("00bf3eFF"), b);
  EXPECT_EQ(from_hex("00 BF:3E\nFF"), b);
}

TEST(Hex, RejectsOddAndNonHex) {
  EXPECT_FALSE(from_hex("ABC"));
  EXPECT_FALSE(from_hex("0G"));
}

// RFC 4648 §10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> v[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : v) {
    EXPECT_EQ(base64_encode(as_bytes(plain)), enc);
    auto d = base64_decode(enc);
    ASSERT_TRUE(d);
    EXPECT_EQ(to_string(*d), plain);
  }
}

TEST(Base64, RejectsMalformed) {
  EXPECT_FALSE(base64_decode("Zg="));    // length not a multiple of 4
  EXPECT_FALSE(base64_decode("Z==="));   // padding too early
  EXPECT_FALSE(base64_decode("Zm=v"));   // data after padding
  EXPECT_FALSE(base64_decode("Zm9*"));   // outside the alphabet
  EXPECT_FALSE(base64_decode("Zh=="));   // non-zero bits under padding
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  Bytes a{1, 2, 3}, b{1, 2, 3}, c{1, 2, 4}, d{1, 2};
  EXPECT_TRUE(equal_ct(a, b));
  EXPECT_FALSE(equal_ct(a, c));
  EXPECT_FALSE(equal_ct(a, d));
}

}  // namespace
}  // namespace rsp
