// The fallback mechanism (SGP.02 §3.6) on the simulated network attach: the
// enabled profile without coverage for the timeout gives way to the profile
// with the fallback attribute, and the SM-SR is told.
#include "m2m_fixture.hpp"

#include "rsp/apdu/status_words.hpp"

namespace rsp::euicc_m2m::test {
namespace {

using m2m::IsdpState;
using std::chrono::seconds;

TEST_F(M2mTest, FallsBackAfterTheTimeout) {
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), apdu::sw::kOk);
  auto& isd_r = card_->isd_r();
  EXPECT_EQ(isd_r.poll_network().value(), false);  // coverage: nothing to do
  ASSERT_TRUE(isd_r.set_coverage(second_, false));
  EXPECT_EQ(isd_r.poll_network().value(), false);  // lost now
  now_ += seconds(59);
  EXPECT_EQ(isd_r.poll_network().value(), false);
  EXPECT_EQ(isdp(second_).state, IsdpState::kEnabled);
  now_ += seconds(1);
  EXPECT_EQ(isd_r.poll_network().value(), true);
  EXPECT_EQ(isdp(second_).state, IsdpState::kDisabled);
  EXPECT_EQ(isdp(boot_).state, IsdpState::kEnabled);
  auto n = isd_r.pending_notifications();
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[1].type, m2m::NotificationType::kProfileChangeAfterFallback);
  EXPECT_EQ(n[1].isdp_aid, boot_);
  EXPECT_EQ(n[1].seq_number, 2u);
  // the fallback survives a restart, and the notification stays queued
  reopen();
  EXPECT_EQ(isdp(boot_).state, IsdpState::kEnabled);
  EXPECT_EQ(card_->isd_r().pending_notifications().size(), 2u);
}

TEST_F(M2mTest, CoverageBackBeforeTheTimeoutRestartsTheWait) {
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), apdu::sw::kOk);
  auto& isd_r = card_->isd_r();
  ASSERT_TRUE(isd_r.set_coverage(second_, false));
  EXPECT_FALSE(isd_r.poll_network().value());
  now_ += seconds(50);
  ASSERT_TRUE(isd_r.set_coverage(second_, true));
  EXPECT_FALSE(isd_r.poll_network().value());
  ASSERT_TRUE(isd_r.set_coverage(second_, false));
  now_ += seconds(20);
  EXPECT_FALSE(isd_r.poll_network().value());  // a new loss: its own 60 s
  now_ += seconds(59);
  EXPECT_FALSE(isd_r.poll_network().value());
  now_ += seconds(1);
  EXPECT_TRUE(isd_r.poll_network().value());
}

TEST_F(M2mTest, FallbackOverridesPol1ButNeedsAFallbackProfile) {
  // POL1 binds the SM-SR and the MNO, not the fallback mechanism.
  ASSERT_EQ(sw(m2m::UpdatePolicyRules{second_, m2m::pol1::kDisableNotAllowed}), apdu::sw::kOk);
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), apdu::sw::kOk);
  auto& isd_r = card_->isd_r();
  ASSERT_TRUE(isd_r.set_coverage(second_, false));
  EXPECT_FALSE(isd_r.poll_network().value());
  now_ += seconds(60);
  EXPECT_TRUE(isd_r.poll_network().value());
  // the fallback profile itself without coverage: nothing to fall back to
  ASSERT_TRUE(isd_r.set_coverage(boot_, false));
  EXPECT_FALSE(isd_r.poll_network().value());
  now_ += seconds(600);
  EXPECT_FALSE(isd_r.poll_network().value());
  EXPECT_EQ(isdp(boot_).state, IsdpState::kEnabled);
  EXPECT_FALSE(isd_r.set_coverage(isdp_aid(9), false));
}

}  // namespace
}  // namespace rsp::euicc_m2m::test
