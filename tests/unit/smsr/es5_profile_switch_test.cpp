// A script that enables or disables a profile is the last of its session:
// the card REFRESHes and attaches with the profile now enabled, and reports
// the switch in a session of its own (SGP.02 §3.2, §3.3). A later script
// goes in that session, after the notification, so the EIS never goes back
// to the older profile once the later switch is recorded.

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <nlohmann/json.hpp>
#include <thread>

#include "es5_link_fixture.hpp"
#include "rsp/smsr/callbacks.hpp"

namespace rsp::smsr::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class Es5ProfileSwitchTest : public Es5LinkTest {
 protected:
  /// An operation written straight into the registry (no ES4 checks, no
  /// wake-up): a second switch can be queued behind the first.
  std::int64_t queue(const std::string& function, const std::string& iccid, const std::string& caller) {
    Operation o;
    o.function = function;
    o.eid = eid();
    o.iccid = iccid;
    o.caller = caller;
    o.created_at = clock_->now().time_since_epoch().count();
    o.expires_at = o.created_at + 600;
    auto id = registry_->create_operation(o, isdr_script(o, **registry_->eis(eid(), false)));
    EXPECT_TRUE(id) << id.error().message;
    return id.value_or(0);
  }
  /// The MNO callbacks queued so far, as "<recipient> <function>".
  std::vector<std::string> told() {
    std::vector<std::string> out;
    for (const auto& i : callbacks()) out.push_back(i.recipient + " " + json::parse(i.body).value("function", ""));
    return out;
  }
  /// mno-two's EnableProfile of the second profile, then its AuditEIS,
  /// queued; the session's first read takes the enable (`script`).
  void enable_then_audit() {
    auto e = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
    auto a = service_->audit_eis("mno-two", eid(), std::nullopt);
    ASSERT_TRUE(e && a);
    enable_id_ = e->operation_id;
    audit_id_ = a->operation_id;
    ASSERT_TRUE(link_->wait_wake_ups(5s));
    script_ = link_->next_script(eid());
    ASSERT_TRUE(script_);
    EXPECT_EQ(script_->token, "op-" + std::to_string(enable_id_));
    EXPECT_TRUE(script_->ends_session);
  }
  std::int64_t enable_id_ = 0;
  std::int64_t audit_id_ = 0;
  std::optional<es5::Script> script_;
};

TEST_F(Es5ProfileSwitchTest, OnlyAnEnableOrADisableEndsTheSession) {
  ASSERT_NO_FATAL_FAILURE(enable_then_audit());
  auto& script = script_;
  // Refused by the card: no switch, so nothing ends it but the server's
  // rule; the audit behind it is the next one, woken for at once.
  const auto sent = link_->wake_ups_sent();
  link_->completed(eid(), script->token, std::vector<apdu::Response>{{{}, 0x6985}});
  EXPECT_EQ(op(enable_id_).state, OperationState::Failed);
  link_->session_ended(eid());
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_sent(), sent + 1);
  const auto disable = queue("ES4.DisableProfile", kBootIccid, "mno-boot");
  ASSERT_NE(disable, 0);
  script = link_->next_script(eid());
  ASSERT_TRUE(script);
  EXPECT_EQ(script->token, "op-" + std::to_string(audit_id_));
  EXPECT_FALSE(script->ends_session);
  link_->completed(eid(), script->token, std::vector<apdu::Response>{{{}, 0x6985}});
  script = link_->next_script(eid());
  ASSERT_TRUE(script);
  EXPECT_EQ(script->token, "op-" + std::to_string(disable));
  EXPECT_TRUE(script->ends_session);
}

TEST_F(Es5ProfileSwitchTest, AfterASwitchAQueuedOperationWaitsForTheCardsOwnSession) {
  ASSERT_NO_FATAL_FAILURE(enable_then_audit());
  auto& script = script_;
  link_->completed(eid(), script->token, std::vector<apdu::Response>{{{}, 0x9000}});
  EXPECT_EQ(op(enable_id_).status, "Executed-Success");
  // The card switched and comes back with its notification: no SMS for the
  // audit, nor for an operation queued before the card is back.
  const auto sent = link_->wake_ups_sent();
  link_->session_ended(eid());
  auto later = service_->audit_eis("mno-boot", eid(), std::nullopt);
  ASSERT_TRUE(later);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_sent(), sent);
  // Its session takes both.
  script = link_->next_script(eid());
  ASSERT_TRUE(script);
  EXPECT_EQ(script->token, "op-" + std::to_string(audit_id_));
  link_->completed(eid(), script->token, std::vector<apdu::Response>{{{}, 0x6985}});
  script = link_->next_script(eid());
  ASSERT_TRUE(script);
  EXPECT_EQ(script->token, "op-" + std::to_string(later->operation_id));
  link_->completed(eid(), script->token, std::vector<apdu::Response>{{{}, 0x6985}});
  EXPECT_FALSE(link_->next_script(eid()));
  link_->session_ended(eid());
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_sent(), sent);
}

/// The link counts a card silent after 200 ms.
class Es5ProfileSwitchSilenceTest : public Es5ProfileSwitchTest {
 protected:
  Es5ProfileSwitchSilenceTest() { link_session_idle_timeout_ = 200ms; }
};

TEST_F(Es5ProfileSwitchSilenceTest, ACardThatDoesNotComeBackAfterASwitchIsWokenForWhatWaits) {
  ASSERT_NO_FATAL_FAILURE(enable_then_audit());
  auto& script = script_;
  link_->completed(eid(), script->token, std::vector<apdu::Response>{{{}, 0x9000}});
  const auto sent = link_->wake_ups_sent();
  link_->session_ended(eid());
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_sent(), sent);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(link_->retry_wake_ups(), 1u);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_sent(), sent + 1);
}

TEST_F(Es5ProfileSwitchTest, TwoSwitchesQueuedTogetherReachTheEisInTheirOrderWithNoSpuriousCallback) {
  // Both queued before the card's session: enable the second profile, then
  // the bootstrap profile again.
  const auto first = queue("ES4.EnableProfile", kSecondIccid, "mno-two");
  const auto second = queue("ES4.EnableProfile", kBootIccid, "mno-boot");
  ASSERT_TRUE(first != 0 && second != 0);
  start_device();
  ASSERT_EQ(link_->resume(), 1u);
  ASSERT_TRUE(eventually([&] {
    return op(first).state == OperationState::Completed && op(second).state == OperationState::Completed &&
           card_->isd_r().pending_notifications().empty();
  })) << [&] {
    std::string all;
    for (const auto& l : log_lines()) all += l + "\n";
    return all;
  }();
  ASSERT_TRUE(device_->wait_idle(5s));
  EXPECT_EQ(device_->sessions_failed(), 0u);
  // The switch session, the notification session that took the second
  // switch, and the second's notification session (a wake-up racing them
  // may add one that finds nothing).
  EXPECT_GE(device_->sessions_completed(), 3u);
  EXPECT_EQ(op(first).status, "Executed-Success");
  EXPECT_EQ(op(second).status, "Executed-Success");
  EXPECT_EQ(isdp(boot_).state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(isdp(second_).state, m2m::IsdpState::kDisabled);
  auto eis = **registry_->eis(eid(), false);
  EXPECT_EQ(eis.profile(kBootIccid)->state, m2m::ProfileState::Enabled);
  EXPECT_EQ(eis.profile(kSecondIccid)->state, m2m::ProfileState::Disabled);
  // Each switch told its caller and the other MNO, once; the card's
  // notifications matched the EIS when they came, so they told nobody.
  // (Sent in one session after both answers, the first notification would
  // have put the second profile back in the EIS and told both MNOs again.)
  std::vector<std::string> expected = {
      "mno-two ES4.EnableProfile", "mno-boot " + std::string(kProfileDisabledNotification),
      "mno-boot ES4.EnableProfile", "mno-two " + std::string(kProfileDisabledNotification)};
  auto seen = told();
  std::sort(seen.begin(), seen.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(seen, expected);
}

}  // namespace
}  // namespace rsp::smsr::testing
