// The card writes a notification confirmation's removal with its next save,
// not on its own (euicc_m2m/isd_r.hpp). A card killed in between comes back
// with the confirmed notification and sends it again: the SM-SR takes it as
// stale (its sequence number is the last one applied), changes nothing, tells
// nobody and confirms it again. A device that stops on its own writes the
// confirmation first, so its restarted card has nothing to send again.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "es5_link_fixture.hpp"

namespace rsp::smsr::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using m2m::ProfileState;

class Es5ResentConfirmationTest : public Es5LinkTest {
 protected:
  /// Ends the device, and the card with it, and starts both again from the
  /// card folder `folder` left (the device's session server stays).
  void restart_from(const fs::path& folder) {
    device_sms_->stop();
    device_.reset();
    card_.reset();
    if (folder != dir_) {
      fs::remove_all(dir_);
      fs::rename(folder, dir_);
    }
    reopen();
    start_device();
  }
  ProfileState state(const std::string& iccid) { return (**registry_->eis(eid(), false)).profile(iccid)->state; }
};

TEST_F(Es5ResentConfirmationTest, ANotificationBackAfterAKillIsStaleAndConfirmedAgain) {
  start_device();
  auto accepted = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(accepted) << accepted.error().message;
  ASSERT_TRUE(eventually([&] { return op(accepted->operation_id).state == OperationState::Completed; }))
      << diagnosis(accepted->operation_id);
  // The trigger's session, then the card's own with its notification, which
  // the SM-SR confirmed: in the card's memory, not on its disk yet.
  ASSERT_TRUE(eventually([&] { return device_->sessions_completed() >= 2; }));
  ASSERT_TRUE(device_->wait_idle(5s));
  ASSERT_TRUE(card_->isd_r().pending_notifications().empty());
  ASSERT_TRUE(card_->isd_r().has_unsaved_confirmations());
  const std::uint32_t seq = card_->isd_r().state().next_seq_number - 1;
  const auto told = callbacks().size();
  const auto lines = notification_lines().size();

  // Killed now: the folder as it is on disk.
  const fs::path killed = tmp_.path() / "killed";
  fs::copy(dir_, killed, fs::copy_options::recursive);
  restart_from(killed);
  const auto back = card_->isd_r().pending_notifications();
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].seq_number, seq);
  EXPECT_EQ(isdp(second_).state, m2m::IsdpState::kEnabled);  // the switch it answered is on disk

  device_->notify_pending();
  ASSERT_TRUE(eventually([&] { return device_->sessions_completed() >= 1; }));
  ASSERT_TRUE(device_->wait_idle(5s));
  EXPECT_EQ(device_->sessions_failed(), 0u);
  EXPECT_TRUE(card_->isd_r().pending_notifications().empty());  // confirmed again
  EXPECT_EQ(state(kSecondIccid), ProfileState::Enabled);
  EXPECT_EQ(state(kBootIccid), ProfileState::Disabled);
  EXPECT_EQ(callbacks().size(), told);  // nobody told twice
  const auto after = notification_lines();
  ASSERT_EQ(after.size(), lines + 1);
  EXPECT_EQ(after.back(), "profile change succeeded, stale, sequence " + std::to_string(seq) + ", last applied " +
                              std::to_string(seq));

  // A stop of the device's own writes the confirmation: nothing comes back.
  ASSERT_TRUE(card_->isd_r().has_unsaved_confirmations());
  restart_from(dir_);
  EXPECT_TRUE(card_->isd_r().pending_notifications().empty());
  EXPECT_FALSE(card_->isd_r().has_unsaved_confirmations());
}

}  // namespace
}  // namespace rsp::smsr::testing
