// The eUICC's notifications in the order of their sequence numbers: the card
// re-sends one until the SM-SR confirms it, so an older one can come after
// a later change was applied (by a later notification, or by the answer to
// a later operation that the card's later notification then confirms). It
// changes nothing then and tells nobody; a later one still applies, also
// across the counter's wrap-around.

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "es5_link_fixture.hpp"
#include "rsp/smsr/callbacks.hpp"

namespace rsp::smsr::testing {
namespace {

using nlohmann::json;
using m2m::NotificationType;
using m2m::ProfileState;

class Es5NotificationOrderTest : public Es5LinkTest {
 protected:
  void notify(NotificationType type, std::uint32_t seq, const Bytes& isdp) {
    link_->notification(eid(), m2m::Notification{card_->isd_r().eid(), type, seq, isdp});
  }
  void changed(std::uint32_t seq, const Bytes& isdp) { notify(NotificationType::kProfileChangeSucceeded, seq, isdp); }
  ProfileState state(const std::string& iccid) { return (**registry_->eis(eid(), false)).profile(iccid)->state; }
  /// The MNO callbacks queued so far, as "<recipient> <function>".
  std::vector<std::string> told() {
    std::vector<std::string> out;
    for (const auto& i : callbacks()) out.push_back(i.recipient + " " + json::parse(i.body).value("function", ""));
    return out;
  }
};

TEST_F(Es5NotificationOrderTest, AnOlderNotificationAfterALaterOneChangesNothingAndTellsNobody) {
  changed(5, second_);
  EXPECT_EQ(state(kSecondIccid), ProfileState::Enabled);
  changed(6, boot_);
  EXPECT_EQ(state(kBootIccid), ProfileState::Enabled);
  const auto before = told();
  EXPECT_EQ(before.size(), 4u);  // each change: one MNO enabled, the other disabled
  // The card sends 5 again (its confirmation was lost), then 6 again.
  changed(5, second_);
  changed(6, boot_);
  EXPECT_EQ(state(kBootIccid), ProfileState::Enabled);
  EXPECT_EQ(state(kSecondIccid), ProfileState::Disabled);
  EXPECT_EQ(told(), before);
  const auto lines = notification_lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2], "profile change succeeded, stale, sequence 5, last applied 6");
  EXPECT_EQ(lines[3], "profile change succeeded, stale, sequence 6, last applied 6");
  // A later one applies.
  changed(7, second_);
  EXPECT_EQ(state(kSecondIccid), ProfileState::Enabled);
  EXPECT_EQ(told().size(), 6u);
}

TEST_F(Es5NotificationOrderTest, AfterAnOperationsAnswerTheCardsOlderNotificationIsStaleAndALaterOneApplies) {
  // The card enabled the second profile and said so (5): applied.
  changed(5, second_);
  ASSERT_EQ(state(kSecondIccid), ProfileState::Enabled);
  // mno-boot enables its profile again; the card's answer ends the
  // operation and changes the EIS before the card's notification (6) of it.
  auto accepted = service_->enable_profile("mno-boot", eid(), kBootIccid, std::nullopt);
  ASSERT_TRUE(accepted) << accepted.error().message;
  ASSERT_TRUE(service_->complete(accepted->operation_id, m2m::ExecutionStatus::ExecutedSuccess));
  ASSERT_EQ(state(kBootIccid), ProfileState::Enabled);
  const auto before = told();
  // 5 again, not confirmed in time: the EIS keeps what the answer said.
  changed(5, second_);
  EXPECT_EQ(state(kBootIccid), ProfileState::Enabled);
  EXPECT_EQ(state(kSecondIccid), ProfileState::Disabled);
  EXPECT_EQ(told(), before);
  // The operation's own notification (6) matches the EIS: nothing changes,
  // and it counts as the last applied.
  changed(6, boot_);
  changed(5, second_);
  EXPECT_EQ(state(kBootIccid), ProfileState::Enabled);
  EXPECT_EQ(told(), before);
  // A later change of the card's own applies: the rollback of a change
  // (7), then its fallback to the bootstrap profile (8).
  notify(NotificationType::kProfileChangeFailedAndRollback, 7, second_);
  EXPECT_EQ(state(kSecondIccid), ProfileState::Enabled);
  notify(NotificationType::kProfileChangeAfterFallback, 8, boot_);
  EXPECT_EQ(state(kBootIccid), ProfileState::Enabled);
  EXPECT_EQ(told().size(), before.size() + 4);
  // (The lines of those that changed nothing are written with the next
  // audit batch, after the others.)
  const auto lines = notification_lines();
  ASSERT_EQ(lines.size(), 6u);
  const auto has = [&](const std::string& l) { return std::find(lines.begin(), lines.end(), l) != lines.end(); };
  EXPECT_TRUE(has("profile change succeeded, stale, sequence 5, last applied 5"));
  EXPECT_TRUE(has("profile change succeeded, stale, sequence 5, last applied 6"));
}

TEST_F(Es5NotificationOrderTest, TheSequenceCounterWrapsAround) {
  changed(0xFFFF'FFFEu, second_);
  ASSERT_EQ(state(kSecondIccid), ProfileState::Enabled);
  // 0 and 1 come after 0xFFFFFFFE: the counter wrapped.
  changed(1, boot_);
  EXPECT_EQ(state(kBootIccid), ProfileState::Enabled);
  // 0xFFFFFFFF was before the wrap: older than 1.
  changed(0xFFFF'FFFFu, second_);
  EXPECT_EQ(state(kBootIccid), ProfileState::Enabled);
  EXPECT_EQ(notification_lines().back(), "profile change succeeded, stale, sequence 4294967295, last applied 1");
  changed(2, second_);
  EXPECT_EQ(state(kSecondIccid), ProfileState::Enabled);
}

TEST_F(Es5NotificationOrderTest, ADeclarationAndANotificationForAnUnknownIsdpCountInTheOrderToo) {
  notify(NotificationType::kEuiccDeclaration, 3, boot_);
  changed(4, Bytes(16, 0xEE));  // no such ISD-P: nothing changes
  changed(2, second_);          // before both: stale
  EXPECT_EQ(state(kBootIccid), ProfileState::Enabled);
  EXPECT_TRUE(told().empty());
  EXPECT_EQ(*registry_->notification_seq(eid()), std::optional<std::uint32_t>(4));
}

}  // namespace
}  // namespace rsp::smsr::testing
