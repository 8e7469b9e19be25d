// ES10 on a logical channel, and the ISD-R selected by an AID the user gives
// (cards with a custom ISD-R AID exist), against the simulated eUICC.
#include <gtest/gtest.h>

#include "fixture.hpp"
#include "rsp/lpa/es10_client.hpp"
#include "sim_euicc.hpp"

namespace rsp::lpa {
namespace {

namespace st = smdpp::testing;

TEST(Es10Channel, ALogicalChannelCarriesEs10AndIsClosedAgain) {
  SimEuicc euicc(st::test_pki_dir());
  const auto transmit = card::in_process_transmit(euicc.card);
  auto channel = open_logical_channel(transmit);
  ASSERT_TRUE(channel) << channel.error().message;
  EXPECT_GE(*channel, 1);
  ApduEs10Channel es10(transmit, *channel);
  ASSERT_TRUE(es10.select_isd_r());
  auto eid = Es10Client(es10).get_eid();
  ASSERT_TRUE(eid) << eid.error().message;
  EXPECT_EQ(to_hex(eid->eidValue), euicc.eid());
  close_logical_channel(transmit, *channel);
  // Closed: the channel no longer reaches the ISD-R.
  EXPECT_FALSE(Es10Client(es10).get_eid());
}

TEST(Es10Channel, TheIsdRAidIsConfigurableAndAWrongOneIsAnError) {
  SimEuicc euicc(st::test_pki_dir());
  ApduEs10Channel es10(card::in_process_transmit(euicc.card));
  const Bytes isdr = from_hex("A0000005591010FFFFFFFF8900000100").value();
  EXPECT_TRUE(es10.select_isd_r(isdr));
  auto wrong = es10.select_isd_r(from_hex("A0000005591010FFFFFFFF8900000199").value());
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, Es10Error::Kind::Status);
  EXPECT_EQ(wrong.error().sw, 0x6A82);
  auto short_aid = es10.select_isd_r(from_hex("A000").value());
  ASSERT_FALSE(short_aid);
  EXPECT_EQ(short_aid.error().kind, Es10Error::Kind::Request);
}

}  // namespace
}  // namespace rsp::lpa
