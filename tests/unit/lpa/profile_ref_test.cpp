// A profile named on the command line by ICCID or by ISD-P AID.
#include "rsp/lpa/profile_ref.hpp"

#include <gtest/gtest.h>

namespace rsp::lpa {
namespace {

TEST(ProfileRef, IccidDigitsBecomeTheEfIccidCoding) {
  auto r = parse_profile_ref("8949449999999990023");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->kind, ProfileRef::Kind::Iccid);
  EXPECT_EQ(to_hex(r->value), "989444999999990920F3");
  auto twenty = parse_profile_ref("89000000000000000012");
  ASSERT_TRUE(twenty);
  EXPECT_EQ(twenty->kind, ProfileRef::Kind::Iccid);
}

TEST(ProfileRef, HexIsAnIsdpAid) {
  auto r = parse_profile_ref("A0000005591010FFFFFFFF8900001100");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->kind, ProfileRef::Kind::IsdpAid);
  EXPECT_EQ(r->value.size(), 16u);
  auto lower = parse_profile_ref("a000000559");
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->kind, ProfileRef::Kind::IsdpAid);
}

TEST(ProfileRef, AnythingElseIsRefusedInWords) {
  for (const char* text : {"", "89", "12345", "A00000055", "A0000005591010FFFFFFFF890000110000", "not-an-id",
                           "894944999999999002X", "A0 00 00 05 59"}) {
    auto r = parse_profile_ref(text);
    EXPECT_FALSE(r) << text;
    if (!r) {
      EXPECT_NE(r.error().find("neither an ICCID"), std::string::npos) << r.error();
    }
  }
}

}  // namespace
}  // namespace rsp::lpa
