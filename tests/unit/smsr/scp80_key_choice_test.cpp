// Which SCP80 key set of the ISD-R secures a wake-up: a usable AES set first
// (the highest version), 3DES only where the EIS has no usable AES set, never
// a set whose version cannot be a KIc / KID key index or whose keys have the
// wrong length for their algorithm.
#include <gtest/gtest.h>

#include "rsp/smsr/scp80_key_choice.hpp"

namespace rsp::smsr {
namespace {

using Algorithm = m2m::Scp80KeySet::Algorithm;

m2m::Scp80KeySet set(int version, Algorithm a, std::size_t key_length = 16) {
  return {version, a, Bytes(key_length, static_cast<std::uint8_t>(version)),
          Bytes(key_length, static_cast<std::uint8_t>(version + 1)), 0};
}

int chosen(std::vector<m2m::Scp80KeySet> sets) {
  m2m::IsdR r;
  r.scp80_key_sets = std::move(sets);
  const auto* k = choose_scp80_key_set(r);
  return k ? k->version : -1;
}

TEST(Scp80KeyChoice, AesComesBeforeTripleDesWhereverItIsListed) {
  EXPECT_EQ(chosen({set(3, Algorithm::TripleDes), set(1, Algorithm::Aes)}), 1);
  EXPECT_EQ(chosen({set(1, Algorithm::Aes), set(3, Algorithm::TripleDes)}), 1);
}

TEST(Scp80KeyChoice, TheHighestVersionOfTheAlgorithmWins) {
  EXPECT_EQ(chosen({set(1, Algorithm::Aes), set(4, Algorithm::Aes, 32), set(2, Algorithm::Aes)}), 4);
  EXPECT_EQ(chosen({set(2, Algorithm::TripleDes, 24), set(5, Algorithm::TripleDes)}), 5);
}

TEST(Scp80KeyChoice, TripleDesWhereTheEisHasOnlyThat) {
  m2m::IsdR r;
  r.scp80_key_sets = {set(2, Algorithm::TripleDes, 24)};
  const auto* k = choose_scp80_key_set(r);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->algorithm, Algorithm::TripleDes);
}

TEST(Scp80KeyChoice, UnusableSetsAreSkipped) {
  // Version 20 is a valid GlobalPlatform key version but no 4-bit key index.
  EXPECT_EQ(chosen({set(20, Algorithm::Aes), set(1, Algorithm::TripleDes)}), 1);
  EXPECT_EQ(chosen({set(0, Algorithm::Aes), set(2, Algorithm::Aes)}), 2);
  // 32-byte keys are AES only; 8 bytes (single DES) is not offered.
  EXPECT_EQ(chosen({set(7, Algorithm::TripleDes, 32), set(6, Algorithm::TripleDes, 8)}), -1);
  EXPECT_EQ(chosen({set(7, Algorithm::Aes, 8), set(3, Algorithm::TripleDes)}), 3);
  EXPECT_EQ(chosen({}), -1);
  EXPECT_FALSE(scp80_key_set_usable(set(16, Algorithm::Aes)));
  EXPECT_TRUE(scp80_key_set_usable(set(15, Algorithm::Aes, 24)));
}

}  // namespace
}  // namespace rsp::smsr
