#include "rsp/messages/iccid.hpp"

#include <gtest/gtest.h>

namespace rsp::messages {
namespace {

TEST(Iccid, DigitsToEfIccidCodingAndBack) {
  const Bytes b{0x98, 0x94, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0xF2};
  EXPECT_EQ(iccid_to_digits(b), "8949000000000000012");
  EXPECT_EQ(*iccid_from_digits("8949000000000000012"), b);
  auto twenty = iccid_from_digits("89444765000012345678");
  ASSERT_TRUE(twenty);
  EXPECT_EQ(to_hex(*twenty), "98447456000021436587");
  EXPECT_EQ(iccid_to_digits(*twenty), "89444765000012345678");
}

TEST(Iccid, PlainBcdAsInTs48Headers) {
  EXPECT_EQ(iccid_to_digits(Bytes{0x89, 0x49, 0x44, 0x99, 0x99, 0x99, 0x99, 0x90, 0x02, 0x3F}), "8949449999999990023");
}

TEST(Iccid, RejectsWhatIsNotAnIccid) {
  EXPECT_FALSE(iccid_from_digits("89490000000000000A2"));
  EXPECT_FALSE(iccid_from_digits("89x"));
  EXPECT_FALSE(iccid_from_digits("123"));
  EXPECT_FALSE(iccid_from_digits("894900000000000000123"));  // 21 digits
  EXPECT_EQ(iccid_to_digits(Bytes{0xA9}), "");
  EXPECT_EQ(iccid_to_digits(Bytes{}), "");
}

}  // namespace
}  // namespace rsp::messages
