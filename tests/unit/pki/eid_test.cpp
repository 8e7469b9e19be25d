// EID check digits (GSMA SGP.29 §2, ISO 7064 MOD 97-10).

#include "rsp/pki/eid.hpp"

#include <gtest/gtest.h>

namespace rsp::pki {
namespace {

// The EID of the GSMA SGP.26 test eUICC certificate.
constexpr const char* kSgp26Eid = "89049032123451234512345678901235";

TEST(PkiEid, Sgp26EidIsValid) { EXPECT_TRUE(is_valid_eid(kSgp26Eid)); }

TEST(PkiEid, CheckDigitsOfSgp26Eid) {
  auto check = eid_check_digits(std::string(kSgp26Eid).substr(0, 30));
  ASSERT_TRUE(check.has_value());
  EXPECT_EQ(*check, "35");
}

TEST(PkiEid, AnyChangedDigitIsDetected) {
  std::string eid = kSgp26Eid;
  for (std::size_t i = 0; i < eid.size(); ++i) {
    std::string bad = eid;
    bad[i] = bad[i] == '9' ? '0' : static_cast<char>(bad[i] + 1);
    EXPECT_FALSE(is_valid_eid(bad)) << "position " << i;
  }
}

TEST(PkiEid, RejectsWrongShape) {
  EXPECT_FALSE(is_valid_eid(""));
  EXPECT_FALSE(is_valid_eid("8904903212345123451234567890123"));     // 31 digits
  EXPECT_FALSE(is_valid_eid("890490321234512345123456789012355"));   // 33 digits
  EXPECT_FALSE(is_valid_eid("8904903212345123451234567890123A"));    // not decimal
  EXPECT_FALSE(eid_check_digits("12345").has_value());
}

TEST(PkiEid, MakeFromPrefixAndIndividualPart) {
  auto eid = make_eid("89049032", "1234512345123456789012");
  ASSERT_TRUE(eid.has_value());
  EXPECT_EQ(*eid, kSgp26Eid);
  EXPECT_FALSE(make_eid("89049032", "123").has_value());
  EXPECT_FALSE(make_eid("8904903X", "1234512345123456789012").has_value());
}

TEST(PkiEid, RandomEidsAreValidAndKeepThePrefix) {
  for (int i = 0; i < 50; ++i) {
    auto eid = make_random_eid("89049032");
    ASSERT_TRUE(eid.has_value());
    EXPECT_TRUE(is_valid_eid(*eid)) << *eid;
    EXPECT_EQ(eid->substr(0, 8), "89049032");
  }
  EXPECT_FALSE(make_random_eid("").has_value());
  EXPECT_FALSE(make_random_eid("abc").has_value());
}

TEST(PkiEid, CheckDigitsBelowTenArePadded) {
  // Search a few individual parts for a check value < 10 and make sure it is two digits.
  bool seen = false;
  for (int i = 0; i < 200 && !seen; ++i) {
    std::string ind = std::to_string(1000000 + i);
    ind = std::string(22 - ind.size(), '0') + ind;
    auto eid = make_eid("89049032", ind);
    ASSERT_TRUE(eid.has_value());
    EXPECT_EQ(eid->size(), 32u);
    EXPECT_TRUE(is_valid_eid(*eid));
    seen = (*eid)[30] == '0';
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace rsp::pki
