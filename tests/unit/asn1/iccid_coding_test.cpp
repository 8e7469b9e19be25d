#include "rsp/asn1/iccid_coding.hpp"

#include <gtest/gtest.h>

namespace rsp::asn1 {
namespace {

// The TS.48 test profile header's ICCID 8949449999999990023 (plain BCD, F
// filler) and the same ICCID as its EF.ICCID file holds it.
const Bytes kPlain = from_hex("8949449999999990023F").value();
const Bytes kEf = from_hex("989444999999990920F3").value();

TEST(IccidCoding, PlainHeaderToEfCodingAndBack) {
  EXPECT_EQ(iccid_in_ef_coding(kPlain), kEf);
  EXPECT_EQ(iccid_in_plain_bcd(kEf), kPlain);
}

TEST(IccidCoding, ValuesAlreadyInTheTargetCodingStay) {
  EXPECT_EQ(iccid_in_ef_coding(kEf), kEf);
  EXPECT_EQ(iccid_in_plain_bcd(kPlain), kPlain);
}

TEST(IccidCoding, UnrecognisedOrEmptyValuesStay) {
  const Bytes other = from_hex("0011223344556677889F").value();
  EXPECT_EQ(iccid_in_ef_coding(other), other);
  EXPECT_EQ(iccid_in_plain_bcd(other), other);
  EXPECT_TRUE(iccid_in_ef_coding(Bytes{}).empty());
}

}  // namespace
}  // namespace rsp::asn1
