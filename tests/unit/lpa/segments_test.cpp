// The LoadBoundProfilePackage segmentation of SGP.22 §2.5.5.
#include <gtest/gtest.h>

#include "rsp/asn1/runtime.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/tlv/tlv.hpp"

namespace rsp::lpa {
namespace {

namespace sg = asn1::sgp22;

Bytes filled(std::size_t n, std::uint8_t v) { return Bytes(n, v); }

sg::BoundProfilePackage sample_bpp(bool with_ppk) {
  sg::BoundProfilePackage bpp;
  auto& iscr = bpp.initialiseSecureChannelRequest;
  iscr.remoteOpId = 1;
  iscr.transactionId = filled(16, 0x01);
  iscr.controlRefTemplate.keyType = {0x88};
  iscr.controlRefTemplate.keyLen = {0x10};
  iscr.controlRefTemplate.hostId = {0x01};
  iscr.smdpOtpk = filled(65, 0x04);
  iscr.smdpSign = filled(64, 0x05);
  bpp.firstSequenceOf87 = {filled(30, 0x87)};
  bpp.sequenceOf88 = {filled(40, 0x88), filled(41, 0x89)};
  if (with_ppk) bpp.secondSequenceOf87 = {filled(30, 0x97)};
  bpp.sequenceOf86 = {filled(300, 0x86), filled(200, 0x85), filled(10, 0x84)};
  return bpp;
}

TEST(BppSegments, FollowsSection255) {
  const Bytes der = asn1::encode(sample_bpp(false));
  auto segs = bpp_segments(der);
  ASSERT_TRUE(segs) << segs.error();
  // BF36+BF23, A0+87, A1+88, 88, A3+86, 86, 86
  ASSERT_EQ(segs->size(), 7u);
  EXPECT_EQ((*segs)[0][0], 0xBF);
  EXPECT_EQ((*segs)[0][1], 0x36);
  EXPECT_EQ((*segs)[1][0], 0xA0);
  EXPECT_EQ((*segs)[2][0], 0xA1);
  EXPECT_EQ((*segs)[3][0], 0x88);
  EXPECT_EQ((*segs)[4][0], 0xA3);
  EXPECT_EQ((*segs)[5][0], 0x86);
  EXPECT_EQ((*segs)[6][0], 0x86);
  // The segments concatenated are the package.
  Bytes all;
  for (const auto& s : *segs) all.insert(all.end(), s.begin(), s.end());
  EXPECT_EQ(all, der);
  // The first segment is BF36's tag and length followed by exactly the BF23 element.
  const Bytes iscr = asn1::encode(sample_bpp(false).initialiseSecureChannelRequest);
  ASSERT_GT((*segs)[0].size(), iscr.size());
  EXPECT_EQ(Bytes((*segs)[0].end() - static_cast<std::ptrdiff_t>(iscr.size()), (*segs)[0].end()), iscr);
  EXPECT_LE((*segs)[0].size() - iscr.size(), 6u);
}

TEST(BppSegments, WithProfileProtectionKeys) {
  const Bytes der = asn1::encode(sample_bpp(true));
  auto segs = bpp_segments(der);
  ASSERT_TRUE(segs) << segs.error();
  ASSERT_EQ(segs->size(), 8u);
  EXPECT_EQ((*segs)[4][0], 0xA2);
  EXPECT_EQ((*segs)[5][0], 0xA3);
}

TEST(BppSegments, RejectsWhatIsNotABpp) {
  EXPECT_FALSE(bpp_segments(Bytes{}));
  EXPECT_FALSE(bpp_segments(Bytes{0x30, 0x00}));
  EXPECT_FALSE(bpp_segments(Bytes{0xBF, 0x36, 0x00}));
  Bytes der = asn1::encode(sample_bpp(false));
  der.push_back(0x00);
  EXPECT_FALSE(bpp_segments(der));
}

}  // namespace
}  // namespace rsp::lpa
