#include "rsp/common/bytes.hpp"

#include <gtest/gtest.h>

#include <algorithm>

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
  EXPECT_FALSE(base64_decode("Zm8 "));   // a space is outside the alphabet
  EXPECT_FALSE(base64_decode("===="));   // nothing but padding
  EXPECT_FALSE(base64_decode("Zm9vZ==="));  // three padding characters
  EXPECT_FALSE(base64_decode("Zm=vZm9v"));  // padding before the last quantum
  EXPECT_FALSE(base64_decode(std::string("Zm9\0", 4)));
  EXPECT_FALSE(base64_decode("Zm9\xC3"));  // a byte past ASCII
}

// Every length (every padding case) round-trips, and any one character of
// an encoding replaced by one outside the alphabet (or by '=' before the
// end) is refused wherever it stands.
TEST(Base64, RoundTripsEveryLengthAndRefusesAnyBadCharacter) {
  for (std::size_t n = 0; n < 70; ++n) {
    Bytes plain(n);
    for (std::size_t i = 0; i < n; ++i) plain[i] = static_cast<std::uint8_t>(i * 37 + n * 11);
    const std::string enc = base64_encode(plain);
    auto back = base64_decode(enc);
    ASSERT_TRUE(back) << n;
    EXPECT_EQ(*back, plain) << n;
    const std::size_t data_chars = enc.size() - static_cast<std::size_t>(std::count(enc.begin(), enc.end(), '='));
    for (std::size_t at = 0; at < enc.size(); ++at) {
      for (const char bad : {'*', '-', '_', '.', ' ', '\n', '\x80', '\xFF'}) {
        std::string b = enc;
        b[at] = bad;
        EXPECT_FALSE(base64_decode(b)) << n << " at " << at << " " << int(static_cast<unsigned char>(bad));
      }
      if (at + 2 < data_chars) {  // '=' anywhere before the last two places
        std::string b = enc;
        b[at] = '=';
        EXPECT_FALSE(base64_decode(b)) << n << " '=' at " << at;
      }
    }
  }
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  Bytes a{1, 2, 3}, b{1, 2, 3}, c{1, 2, 4}, d{1, 2};
  EXPECT_TRUE(equal_ct(a, b));
  EXPECT_FALSE(equal_ct(a, c));
  EXPECT_FALSE(equal_ct(a, d));
}

}  // namespace
}  // namespace rsp
