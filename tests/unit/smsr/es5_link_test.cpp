// The SM-SR's ES5 wiring: an ES4 EnableProfile goes out as an SMS wake-up,
// the device's PSK-TLS session runs the ISD-R command, the R-APDUs complete
// the operation into the EIS, the card's notification is recorded, and the
// MNOs' callbacks wait in the outbox; and what goes wrong: an unknown PSK
// identity, malformed answers (retried, then Failed), error status words, a
// device that never connects back (Expired), a callback endpoint that fails once.

#include <atomic>
#include <gtest/gtest.h>

#include <condition_variable>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>

#include "es5_link_fixture.hpp"
#include "rsp/m2m/isdr_commands.hpp"
#include "rsp/service/outbox.hpp"
#include "rsp/smsr/callbacks.hpp"

namespace rsp::smsr::testing {
namespace {

using namespace std::chrono_literals;

/// An SMSC link whose submissions wait until the test opens it, so that a
/// wake-up can be held "being sent".
class GatedSms final : public smpp::SmsTransport {
 public:
  smpp::SmsResult<std::string> submit(const smpp::ShortMessage&) override {
    std::unique_lock lock(mu_);
    const auto n = ++submitted_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    return "sm-" + std::to_string(n);
  }
  void set_inbound(smpp::Inbound) override {}
  void stop() override { open(); }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  std::size_t submitted() {
    std::lock_guard lock(mu_);
    return submitted_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  std::size_t submitted_ = 0;
};

TEST_F(Es5LinkTest, AWakeUpAskedForWhileTheEuiccsLastIsBeingSentFollowsIt) {
  GatedSms sms;
  Es5LinkConfig lc;
  lc.registry = registry_;
  lc.sms = &sms;
  lc.source = smsr_address_;
  lc.clock = clock_;
  lc.trigger_host = "127.0.0.1:9";
  Es5Link link(std::move(lc));
  link.wake_up(eid());
  ASSERT_TRUE(eventually([&] { return sms.submitted() >= 1; }));
  // The session that SMS opens may already have taken the queue: an
  // operation accepted now needs one more wake-up; two asks make one.
  EXPECT_FALSE(link.next_script(eid()));  // the session opened, its queue empty
  link.session_ended(eid());              // and ended
  link.wake_up(eid());
  link.wake_up(eid());
  sms.open();
  ASSERT_TRUE(eventually([&] { return link.wake_ups_sent() + link.wake_ups_failed() >= 2; }));
  EXPECT_TRUE(link.wait_wake_ups(10s));
  EXPECT_EQ(link.wake_ups_sent(), 2u);
  EXPECT_EQ(link.wake_ups_failed(), 0u);
  // No session since that one: its wake-up is in flight, another ask sends nothing.
  const auto submitted = sms.submitted();
  link.wake_up(eid());
  EXPECT_TRUE(link.wait_wake_ups(10s));
  EXPECT_EQ(link.wake_ups_sent(), 2u);
  EXPECT_EQ(link.wake_ups_in_flight(), 1u);
  EXPECT_EQ(sms.submitted(), submitted);
}
using m2m::ExecutionStatus;
using nlohmann::json;
namespace codes = m2m::codes;

bool has_function(const std::vector<service::OutboxItem>& items, const std::string& recipient,
                  std::string_view function) {
  for (const auto& i : items)
    if (i.recipient == recipient && json::parse(i.body).value("function", "") == function) return true;
  return false;
}

TEST_F(Es5LinkTest, SessionsQueuedBeforeASessionBeganAreServedByIt) {
  // While the device's first session logs its end, three notification
  // sessions to the same SM-SR are asked for: the next one reads the SM-SR's
  // whole queue, so the two queued behind it are dropped unopened.
  std::atomic<bool> asked{false};
  device_log_ = [&](const std::string& line) {
    if (line.find(" done") != std::string::npos && !asked.exchange(true))
      for (int i = 0; i < 3; ++i) device_->notify_pending();
  };
  start_device();
  device_->notify_pending();
  ASSERT_TRUE(eventually([&] { return asked.load(); }));
  ASSERT_TRUE(device_->wait_idle(5s));
  EXPECT_EQ(device_->sessions_completed(), 2u);
  EXPECT_EQ(device_->sessions_failed(), 0u);
}

TEST_F(Es5LinkTest, EnableProfileRunsThroughWakeUpSessionAndNotification) {
  start_device();
  auto accepted = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(accepted) << accepted.error().message;
  ASSERT_TRUE(eventually([&] { return op(accepted->operation_id).state == OperationState::Completed; }));
  // The trigger's session, then the device's own one for the notification.
  ASSERT_TRUE(eventually([&] { return device_->sessions_completed() >= 2; }));
  ASSERT_TRUE(device_->wait_idle(5s));
  EXPECT_EQ(device_->sessions_failed(), 0u);
  EXPECT_EQ(op(accepted->operation_id).status, "Executed-Success");
  EXPECT_EQ(isdp(second_).state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(isdp(boot_).state, m2m::IsdpState::kDisabled);
  EXPECT_TRUE(card_->isd_r().pending_notifications().empty());

  auto eis = **registry_->eis(eid(), false);
  EXPECT_EQ(eis.profile(kSecondIccid)->state, m2m::ProfileState::Enabled);
  EXPECT_EQ(eis.profile(kBootIccid)->state, m2m::ProfileState::Disabled);
  EXPECT_TRUE(registry_->queued_scripts(eid())->empty());

  // The caller's result, and the other MNO told its profile was disabled.
  auto items = callbacks();
  EXPECT_TRUE(has_function(items, "mno-two", "ES4.EnableProfile"));
  EXPECT_TRUE(has_function(items, "mno-boot", kProfileDisabledNotification));
  EXPECT_EQ(items.size(), 2u);  // the notification matched the EIS already: nothing more
  auto trail = *registry_->audit_trail(eid());
  EXPECT_TRUE(std::any_of(trail.begin(), trail.end(),
                          [](const AuditEntry& a) { return a.function == "ES5.HandleNotification"; }));
  // The wake-up's counter was stored past the card's.
  EXPECT_GT(*registry_->next_scp80_counter(eid(), 1, 0), card_->isd_r().state().scp80.at(0).counter);
  for (const auto& line : log_lines()) {
    EXPECT_EQ(line.find(to_hex(card_->isd_r().state().scp81.key)), std::string::npos) << line;
  }
}

/// The EIS lists first a 3DES key set and an AES set whose version is no
/// KIc / KID key index (TS 102 225 §5.1.2), then the card's AES set: the
/// wake-up goes out under the card's set and the operation completes.
class Es5LinkKeySetTest : public Es5LinkTest {
 protected:
  Es5LinkKeySetTest() {
    edit_registered_eis_ = [](m2m::Eis& e) {
      auto card = e.isd_r.scp80_key_sets;
      e.isd_r.scp80_key_sets = {
          {9, m2m::Scp80KeySet::Algorithm::TripleDes, Bytes(16, 0x31), Bytes(16, 0x32), 0},
          {20, m2m::Scp80KeySet::Algorithm::Aes, Bytes(16, 0x41), Bytes(16, 0x42), 0}};
      e.isd_r.scp80_key_sets.insert(e.isd_r.scp80_key_sets.end(), card.begin(), card.end());
    };
  }
};

TEST_F(Es5LinkKeySetTest, TheWakeUpUsesTheKeySetToUseNotTheFirst) {
  ASSERT_EQ((**registry_->eis(eid())).isd_r.scp80_key_sets.size(), 3u);
  start_device();
  auto accepted = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(accepted) << accepted.error().message;
  ASSERT_TRUE(eventually([&] { return op(accepted->operation_id).state == OperationState::Completed; }));
  EXPECT_EQ(op(accepted->operation_id).status, "Executed-Success");
  EXPECT_EQ(isdp(second_).state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(link_->wake_ups_failed(), 0u);
  // The counter went to the card's key set, none to the others.
  const int card_version = card_->isd_r().state().scp80.at(0).version;
  EXPECT_GT(*registry_->next_scp80_counter(eid(), card_version, 0), 1u);
  EXPECT_EQ(*registry_->next_scp80_counter(eid(), 9, 0), 1u);
  EXPECT_EQ(*registry_->next_scp80_counter(eid(), 20, 0), 1u);
}

/// The EIS the EUM registered is out of date: the second profile still
/// Created, the bootstrap without its fallback attribute, a third ISD-P the
/// card no longer has, no memory figure. AuditEIS brings it in line with the
/// card in the operation's own transaction, and the MNO's result carries the
/// EIS as GetEIS shows it to that MNO.
class Es5LinkAuditTest : public Es5LinkTest {
 protected:
  Es5LinkAuditTest() {
    edit_registered_eis_ = [this](m2m::Eis& e) {
      e.remaining_memory = 0;
      e.profile(kSecondIccid)->state = m2m::ProfileState::Created;
      e.profile(kBootIccid)->fallback_attribute = false;
      m2m::ProfileInfo gone;
      gone.iccid = kGoneIccid;
      gone.isdp_aid = from_hex("A0000005591010FFFFFFFF8900001F00").value();
      gone.mno_id = "mno-two";
      gone.state = m2m::ProfileState::Disabled;
      e.profiles.push_back(gone);
    };
  }
  const std::string kGoneIccid = "89000123456789012363";
};

TEST_F(Es5LinkAuditTest, AuditEisUpdatesTheEisAndTheCallbackCarriesIt) {
  start_device();
  auto accepted = service_->audit_eis("mno-two", eid(), std::nullopt);
  ASSERT_TRUE(accepted) << accepted.error().message;
  ASSERT_TRUE(eventually([&] { return op(accepted->operation_id).state == OperationState::Completed; }));
  EXPECT_EQ(op(accepted->operation_id).status, "Executed-Success");

  auto eis = **registry_->eis(eid(), false);
  EXPECT_EQ(eis.profile(kSecondIccid)->state, m2m::ProfileState::Disabled);
  EXPECT_TRUE(eis.profile(kBootIccid)->fallback_attribute);
  EXPECT_EQ(eis.profile(kBootIccid)->state, m2m::ProfileState::Enabled);
  EXPECT_EQ(eis.profile(kGoneIccid), nullptr);
  EXPECT_GT(eis.remaining_memory, 0);

  // The caller's result: the updated EIS, its own profiles only, no key.
  std::optional<json> result;
  for (const auto& i : callbacks()) {
    auto body = json::parse(i.body);
    if (i.recipient == "mno-two" && body.value("function", "") == "ES4.AuditEIS") result = body;
  }
  ASSERT_TRUE(result);
  ASSERT_TRUE(result->contains("eis")) << result->dump();
  const json& shown = (*result)["eis"];
  EXPECT_EQ(shown["remainingMemory"], eis.remaining_memory);
  ASSERT_EQ(shown["profiles"].size(), 1u) << shown.dump();
  EXPECT_EQ(shown["profiles"][0]["iccid"], kSecondIccid);
  EXPECT_EQ(shown["profiles"][0]["state"], "Disabled");
  EXPECT_FALSE(shown["isdR"].contains("scp81Psk"));
  EXPECT_FALSE(shown["isdR"].contains("scp80KeySets"));
  EXPECT_EQ(result->dump().find(to_hex(card_->isd_r().state().scp81.key)), std::string::npos);

  // The audit trail says what the audit found.
  auto trail = *registry_->audit_trail(eid());
  EXPECT_TRUE(std::any_of(trail.begin(), trail.end(), [](const AuditEntry& a) {
    return a.function == "ES4.AuditEIS" && a.result.find("1 removed") != std::string::npos;
  }));
}

/// An operation stored as accepted whose wake-up never left (the SM-SR
/// process ended first): resume(), what a restart runs, wakes every eUICC
/// with an open operation again.
TEST_F(Es5LinkTest, ResumeWakesTheEuiccsWithOperationsInFlight) {
  EXPECT_EQ(link_->resume(), 0u);
  Operation o;
  o.function = "ES4.EnableProfile";
  o.eid = eid();
  o.iccid = kSecondIccid;
  o.caller = "mno-two";
  o.created_at = clock_->now().time_since_epoch().count();
  o.expires_at = o.created_at + 600;
  const auto scripts = isdr_script(o, **registry_->eis(eid(), false));
  ASSERT_EQ(scripts.size(), 1u);
  auto id = registry_->create_operation(o, scripts);
  ASSERT_TRUE(id) << id.error().message;
  start_device();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(op(*id).state, OperationState::Accepted);  // nobody woke the device
  EXPECT_EQ(link_->resume(), 1u);
  ASSERT_TRUE(eventually([&] { return op(*id).state == OperationState::Completed; }));
  EXPECT_EQ(isdp(second_).state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(link_->resume(), 0u);  // nothing open any more
}

TEST_F(Es5LinkTest, FallbackNotificationIsRecordedAndBothMnosAreTold) {
  // The card fell back to the bootstrap profile after the second was enabled.
  ASSERT_TRUE(registry_->put_profile(eid(), [&] {
    auto p = *(**registry_->eis(eid(), false)).profile(kBootIccid);
    p.state = m2m::ProfileState::Disabled;
    return p;
  }()));
  ASSERT_TRUE(registry_->put_profile(eid(), [&] {
    auto p = *(**registry_->eis(eid(), false)).profile(kSecondIccid);
    p.state = m2m::ProfileState::Enabled;
    return p;
  }()));
  link_->notification(eid(), m2m::Notification{card_->isd_r().eid(),
                                               m2m::NotificationType::kProfileChangeAfterFallback, 7, boot_});
  auto eis = **registry_->eis(eid(), false);
  EXPECT_EQ(eis.profile(kBootIccid)->state, m2m::ProfileState::Enabled);
  EXPECT_EQ(eis.profile(kSecondIccid)->state, m2m::ProfileState::Disabled);
  auto items = callbacks();
  EXPECT_TRUE(has_function(items, "mno-boot", kProfileEnabledNotification));
  EXPECT_TRUE(has_function(items, "mno-two", kProfileDisabledNotification));
  // The same notification again (its confirmation was lost) changes nothing
  // more (es5_notification_order_test.cpp).
  link_->notification(eid(), m2m::Notification{card_->isd_r().eid(),
                                               m2m::NotificationType::kProfileChangeAfterFallback, 7, boot_});
  EXPECT_EQ(callbacks().size(), items.size());
  // An ISD-P the EIS does not know changes nothing.
  link_->notification(eid(), m2m::Notification{card_->isd_r().eid(),
                                               m2m::NotificationType::kProfileChangeSucceeded, 8, Bytes(16, 0xEE)});
  EXPECT_EQ((**registry_->eis(eid(), false)).profile(kBootIccid)->state, m2m::ProfileState::Enabled);
  // The two that changed nothing wrote no transaction of their own, but
  // their audit lines are kept (buffered, as a read's; the trail writes them).
  auto trail = *registry_->audit_trail(eid());
  std::vector<std::string> results;
  for (const auto& a : trail)
    if (a.function == "ES5.HandleNotification") results.push_back(a.result);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[1], "profile change after fallback, stale, sequence 7, last applied 7");
  EXPECT_NE(results[2].find("no such ISD-P in the EIS"), std::string::npos);
}

/// Both profiles downloaded by SM-DPs (their smdpId in the EIS): the
/// SM-DPs hear of their profiles' changes by ES3 notification.
class Es5LinkSmdpTest : public Es5LinkTest {
 protected:
  Es5LinkSmdpTest() {
    edit_registered_eis_ = [this](m2m::Eis& e) {
      for (auto& p : e.profiles) p.smdp_id = p.iccid == kBootIccid ? "smdp-boot" : "smdp-two";
    };
  }
  /// The ES3 notifications queued for `smdp`, decoded.
  std::vector<m2m::es3::Notification> notes(const std::string& smdp) {
    std::vector<m2m::es3::Notification> out;
    for (const auto& item : callbacks()) {
      if (item.recipient != smdp) continue;
      auto n = m2m::es3::decode_notification(item.body);
      if (n) out.push_back(*n);
    }
    return out;
  }
};

TEST_F(Es5LinkSmdpTest, TheEnablingSmdpHearsTheCardsConfirmationAndTheOtherItsDisable) {
  start_device();
  auto accepted = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(accepted) << accepted.error().message;
  ASSERT_TRUE(eventually([&] { return op(accepted->operation_id).state == OperationState::Completed; }));
  ASSERT_TRUE(eventually([&] { return device_->sessions_completed() >= 2; }));
  ASSERT_TRUE(device_->wait_idle(5s));
  ASSERT_TRUE(eventually([&] { return !notes("smdp-two").empty(); }));
  // smdp-two: its profile enabled, confirmed by the card's notification.
  auto two = notes("smdp-two");
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].function, m2m::es3::NotificationFunction::ProfileEnabled);
  EXPECT_EQ(two[0].iccid, kSecondIccid);
  EXPECT_EQ(two[0].eid, eid());
  // smdp-boot: its profile disabled by mno-two's operation.
  auto boot = notes("smdp-boot");
  ASSERT_EQ(boot.size(), 1u);
  EXPECT_EQ(boot[0].function, m2m::es3::NotificationFunction::ProfileDisabled);
  EXPECT_EQ(boot[0].iccid, kBootIccid);
  EXPECT_NE(boot[0].call_id.find("op" + std::to_string(accepted->operation_id)), std::string::npos);
  // The caller's result is there; mno-boot hears of its profile once, from
  // smdp-boot (which downloaded it: ES3 here, ES2 there), not over ES4 too.
  auto items = callbacks();
  EXPECT_TRUE(has_function(items, "mno-two", "ES4.EnableProfile"));
  EXPECT_FALSE(has_function(items, "mno-boot", kProfileDisabledNotification));
}

TEST_F(Es5LinkSmdpTest, AFallbackTellsBothSmdpsAndARepeatCarriesTheSameIdentifier) {
  ASSERT_TRUE(registry_->put_profile(eid(), [&] {
    auto p = *(**registry_->eis(eid(), false)).profile(kBootIccid);
    p.state = m2m::ProfileState::Disabled;
    return p;
  }()));
  ASSERT_TRUE(registry_->put_profile(eid(), [&] {
    auto p = *(**registry_->eis(eid(), false)).profile(kSecondIccid);
    p.state = m2m::ProfileState::Enabled;
    return p;
  }()));
  const m2m::Notification fallback{card_->isd_r().eid(), m2m::NotificationType::kProfileChangeAfterFallback, 7,
                                   boot_};
  link_->notification(eid(), fallback);
  auto boot = notes("smdp-boot");
  auto two = notes("smdp-two");
  ASSERT_EQ(boot.size(), 1u);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(boot[0].function, m2m::es3::NotificationFunction::ProfileEnabled);
  EXPECT_EQ(two[0].function, m2m::es3::NotificationFunction::ProfileDisabled);
  EXPECT_NE(boot[0].call_id.find("seq7"), std::string::npos) << boot[0].call_id;
  EXPECT_NE(boot[0].call_id, two[0].call_id);
  // The card repeats it (its confirmation was lost): not after the last one
  // applied (itself), so neither SM-DP hears of it again.
  link_->notification(eid(), fallback);
  EXPECT_EQ(notes("smdp-boot").size(), 1u);
  EXPECT_EQ(notes("smdp-two").size(), 1u);
  // A later one, the same profile enabled still (the EIS shows it already):
  // its SM-DP hears the card confirm it, under that one's identifier.
  link_->notification(eid(), m2m::Notification{card_->isd_r().eid(), m2m::NotificationType::kProfileChangeSucceeded,
                                               8, boot_});
  auto again = notes("smdp-boot");
  ASSERT_EQ(again.size(), 2u);
  EXPECT_NE(again[1].call_id.find("seq8"), std::string::npos) << again[1].call_id;
  EXPECT_EQ(notes("smdp-two").size(), 1u);
}

TEST_F(Es5LinkTest, PskLookupKnowsOnlyRegisteredIdentities) {
  const auto s = card_->isd_r().state();
  auto found = link_->psk(s.scp81.identity);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->eid, eid());
  EXPECT_EQ(found->key, s.scp81.key);
  EXPECT_FALSE(link_->psk("not-a-card"));
  EXPECT_FALSE(link_->psk(""));
  // Answered from memory the second time, as the handshake needs.
  EXPECT_TRUE(link_->psk(s.scp81.identity));
}

TEST_F(Es5LinkTest, MalformedAnswersAreRetriedThenFailWithDeliveredNoResponse) {
  auto accepted = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(accepted);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  const auto first_wake_ups = link_->wake_ups_sent();
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto script = link_->next_script(eid());
    ASSERT_TRUE(script);
    EXPECT_EQ(script->token, "op-" + std::to_string(accepted->operation_id));
    ASSERT_EQ(script->c_apdus.size(), 1u);
    EXPECT_EQ(script->c_apdus[0], m2m::build_apdu(m2m::EnableProfile{second_}).value());
    // Its start waits for the answer: that answer is not usable, so the
    // start is written on its own (the retries find it InProgress).
    EXPECT_EQ(op(accepted->operation_id).state, attempt == 1 ? OperationState::Accepted : OperationState::InProgress);
    link_->completed(eid(), script->token, es5::es5_fail(es5::Es5ErrorCode::Malformed, "not a response script"));
    if (attempt < 3) EXPECT_EQ(op(accepted->operation_id).state, OperationState::InProgress);
    link_->session_ended(eid());  // as the session server ends it: the retry's wake-up goes now
    ASSERT_TRUE(link_->wait_wake_ups(5s));
  }
  const auto o = op(accepted->operation_id);
  EXPECT_EQ(o.state, OperationState::Failed);
  EXPECT_EQ(o.subject_code, codes::kDeliveredNoResponse.subject);
  EXPECT_EQ(o.reason_code, codes::kDeliveredNoResponse.reason);
  // Attempts 1 and 2 were followed by a new wake-up.
  EXPECT_EQ(link_->wake_ups_sent(), first_wake_ups + 2);
  EXPECT_FALSE(link_->next_script(eid()));
  EXPECT_TRUE(has_function(callbacks(), "mno-two", "ES4.EnableProfile"));
  // The EIS did not change.
  EXPECT_EQ((**registry_->eis(eid(), false)).profile(kSecondIccid)->state, m2m::ProfileState::Disabled);
}

TEST_F(Es5LinkTest, AnOperationQueuedWhileASessionIsOpenGoesInItWithoutAWakeUp) {
  // The eUICC's session is open: it read the queue (empty so far).
  EXPECT_FALSE(link_->next_script(eid()));
  const auto sent = link_->wake_ups_sent();
  auto accepted = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(accepted);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_sent(), sent);
  // The session asks again (after an answer) and takes it.
  auto script = link_->next_script(eid());
  ASSERT_TRUE(script);
  EXPECT_EQ(script->token, "op-" + std::to_string(accepted->operation_id));
  // The session ends without the card's answer: its start is written then.
  EXPECT_EQ(op(accepted->operation_id).state, OperationState::Accepted);
  link_->session_ended(eid());
  EXPECT_EQ(op(accepted->operation_id).state, OperationState::InProgress);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_sent(), sent);  // taken: no SMS at its end either
  // No wake-up schedule was left behind for it.
  auto stored = registry_->stored_wake_up(eid());
  ASSERT_TRUE(stored);
  EXPECT_FALSE(*stored);
}

TEST_F(Es5LinkTest, AnOperationQueuedAfterASessionsLastReadIsWokenForWhenTheSessionEnds) {
  EXPECT_FALSE(link_->next_script(eid()));
  const auto sent = link_->wake_ups_sent();
  ASSERT_TRUE(service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt));
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_sent(), sent);
  // The session ends without asking for the queue again: the SMS goes now.
  link_->session_ended(eid());
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_sent(), sent + 1);
  // Its schedule was stored before the SMS left.
  auto stored = registry_->stored_wake_up(eid());
  ASSERT_TRUE(stored);
  ASSERT_TRUE(*stored);
  EXPECT_EQ((*stored)->tries, 1);
  ASSERT_TRUE(link_->wake_up_schedule(eid()));
  EXPECT_EQ(link_->wake_up_schedule(eid())->next_at, (*stored)->next_at);
}

TEST_F(Es5LinkTest, AnAnsweredOperationEndsWithItsStartAndItsWakeUpScheduleInOneTransaction) {
  auto a = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(a);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  auto stored = registry_->stored_wake_up(eid());
  ASSERT_TRUE(stored && *stored);
  // The session takes the operation: nothing is written yet (the schedule
  // ends in memory, its stored row stays).
  auto script = link_->next_script(eid());
  ASSERT_TRUE(script);
  EXPECT_EQ(op(a->operation_id).state, OperationState::Accepted);
  EXPECT_FALSE(link_->wake_up_schedule(eid()));
  stored = registry_->stored_wake_up(eid());
  ASSERT_TRUE(stored && *stored);
  // The card's answer ends it, the stored schedule with it.
  link_->completed(eid(), script->token, std::vector<apdu::Response>{{{}, 0x9000}});
  EXPECT_EQ(op(a->operation_id).state, OperationState::Completed);
  stored = registry_->stored_wake_up(eid());
  ASSERT_TRUE(stored);
  EXPECT_FALSE(*stored);
  link_->session_ended(eid());
  EXPECT_EQ(op(a->operation_id).state, OperationState::Completed);
}

TEST_F(Es5LinkTest, AfterAnAnswerTheSessionTakesEveryOperationQueuedBeforeOrDuringIt) {
  // Two queued before the session: the second follows the first's answer.
  auto a = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  auto b = service_->audit_eis("mno-two", eid(), std::nullopt);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  auto script = link_->next_script(eid());
  ASSERT_TRUE(script);
  EXPECT_EQ(script->token, "op-" + std::to_string(a->operation_id));
  link_->completed(eid(), script->token, std::vector<apdu::Response>{{{}, 0x9000}});
  EXPECT_EQ(op(a->operation_id).state, OperationState::Completed);
  script = link_->next_script(eid());
  ASSERT_TRUE(script);
  EXPECT_EQ(script->token, "op-" + std::to_string(b->operation_id));
  // One queued while the session runs, after its last read (b alone then),
  // follows b's end in it.
  auto c = service_->audit_eis("mno-two", eid(), std::nullopt);
  ASSERT_TRUE(c);
  link_->completed(eid(), script->token, std::vector<apdu::Response>{{{}, 0x6985}});
  EXPECT_EQ(op(b->operation_id).state, OperationState::Failed);
  script = link_->next_script(eid());
  ASSERT_TRUE(script);
  EXPECT_EQ(script->token, "op-" + std::to_string(c->operation_id));
  // c was alone and has ended: the session finds nothing more.
  link_->completed(eid(), script->token, std::vector<apdu::Response>{{{}, 0x6985}});
  EXPECT_EQ(op(c->operation_id).state, OperationState::Failed);
  EXPECT_FALSE(link_->next_script(eid()));
  link_->session_ended(eid());
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_TRUE(registry_->wake_up_schedules()->empty());
}

TEST_F(Es5LinkTest, AnOperationWhoseSessionEndsAfterItExpiredLeavesNoSchedule) {
  auto a = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(a);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  auto script = link_->next_script(eid());
  ASSERT_TRUE(script);
  // It ends meanwhile (expired): the late answer ends nothing, and its start
  // (the end of the schedule) is written on its own.
  ASSERT_TRUE(registry_->expire_operations(std::numeric_limits<std::int64_t>::max()));
  link_->completed(eid(), script->token, std::vector<apdu::Response>{{{}, 0x9000}});
  EXPECT_EQ(op(a->operation_id).state, OperationState::Expired);
  auto stored = registry_->stored_wake_up(eid());
  ASSERT_TRUE(stored);
  EXPECT_FALSE(*stored);
}

TEST_F(Es5LinkTest, ErrorStatusWordsFailTheOperationWithTheirCode) {
  auto a = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(a);
  auto script = link_->next_script(eid());
  ASSERT_TRUE(script);
  link_->completed(eid(), script->token, std::vector<apdu::Response>{{{}, 0x6985}});
  EXPECT_EQ(op(a->operation_id).state, OperationState::Failed);
  EXPECT_EQ(op(a->operation_id).subject_code, codes::kEuiccRefused.subject);
  EXPECT_EQ(op(a->operation_id).reason_code, codes::kEuiccRefused.reason);

  auto b = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(b);
  script = link_->next_script(eid());
  ASSERT_TRUE(script);
  link_->completed(eid(), script->token, std::vector<apdu::Response>{{{}, 0x6A88}});
  EXPECT_EQ(op(b->operation_id).subject_code, codes::kIsdpUnknown.subject);

  // No R-APDU at all for one C-APDU: refused, not success.
  auto c = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(c);
  script = link_->next_script(eid());
  ASSERT_TRUE(script);
  link_->completed(eid(), script->token, std::vector<apdu::Response>{});
  EXPECT_EQ(op(c->operation_id).state, OperationState::Failed);
  EXPECT_EQ((**registry_->eis(eid(), false)).profile(kSecondIccid)->state, m2m::ProfileState::Disabled);

  // Tokens that name no open operation change nothing.
  link_->completed(eid(), "op-999", std::vector<apdu::Response>{{{}, 0x9000}});
  link_->completed(eid(), "garbage", std::vector<apdu::Response>{{{}, 0x9000}});
  link_->completed(eid(), script->token, std::vector<apdu::Response>{{{}, 0x9000}});
  EXPECT_EQ(op(c->operation_id).state, OperationState::Failed);
}

TEST_F(Es5LinkTest, ADeviceThatNeverConnectsBackExpires) {
  // No device attached: the SMS waits at the SMSC, no session opens.
  auto a = service_->enable_profile("mno-two", eid(), kSecondIccid, 60);
  ASSERT_TRUE(a);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_sent(), 1u);
  clock_->advance(59s);
  EXPECT_EQ(*service_->expire(), 0u);
  clock_->advance(1s);
  EXPECT_EQ(*service_->expire(), 1u);
  EXPECT_EQ(op(a->operation_id).state, OperationState::Expired);
  EXPECT_FALSE(link_->next_script(eid()));
  auto items = callbacks();
  ASSERT_EQ(items.size(), 1u);
  auto body = json::parse(items[0].body);
  EXPECT_EQ(body["functionExecutionStatus"]["status"], "Expired");
  EXPECT_EQ(items[0].destination, "");  // given by the prepare hook when claimed
}

TEST_F(Es5LinkTest, WakeUpWithoutSubscriptionAddressIsNotSent) {
  auto p = *(**registry_->eis(eid(), false)).profile(kBootIccid);
  p.subscription_address = {"", "208011234567890"};
  ASSERT_TRUE(registry_->put_profile(eid(), p));
  link_->wake_up(eid());
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_failed(), 1u);
  link_->wake_up("89049032123451234512345678909999");  // unknown EID
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_failed(), 2u);
}

TEST_F(Es5LinkTest, ACallbackIsRetriedUntilTheMnoTakesIt) {
  auto a = service_->enable_profile("mno-two", eid(), kSecondIccid, 60);
  ASSERT_TRUE(a);
  clock_->advance(61s);
  ASSERT_EQ(*service_->expire(), 1u);
  std::vector<std::string> sent_to;
  int calls = 0;
  service::OutboxWorkerConfig wc;
  wc.policy.first_delay = 30s;
  service::OutboxWorker worker(registry_->outbox(), wc,
                               [&](const std::string& url, const std::string&) -> expected<void, std::string> {
                                 sent_to.push_back(url);
                                 if (++calls == 1) return unexpected(std::string("HTTP status 503"));
                                 return {};
                               });
  EXPECT_EQ(*worker.run_once(), 0u);
  EXPECT_EQ(*worker.run_once(), 0u);  // not due before its back-off
  clock_->advance(31s);
  EXPECT_EQ(*worker.run_once(), 1u);
  ASSERT_EQ(sent_to.size(), 2u);
  EXPECT_EQ(sent_to[0], "https://mno-two.example/callbacks");
  EXPECT_TRUE(callbacks().empty());
}

TEST(IsdrScript, EachFunctionHasItsCommand) {
  m2m::Eis e;
  m2m::ProfileInfo p;
  p.iccid = "89000123456789012341";
  p.isdp_aid = from_hex("A0000005591010FFFFFFFF8900001100").value();
  e.profiles = {p};
  Operation op;
  op.iccid = p.iccid;
  const auto built = [&](m2m::Es4Function f) {
    op.function = std::string(m2m::es4_function(f).name);
    return isdr_script(op, e);
  };
  using F = m2m::Es4Function;
  EXPECT_EQ(built(F::EnableProfile), std::vector<Bytes>{m2m::build_apdu(m2m::EnableProfile{p.isdp_aid}).value()});
  EXPECT_EQ(built(F::DisableProfile), std::vector<Bytes>{m2m::build_apdu(m2m::DisableProfile{p.isdp_aid}).value()});
  EXPECT_EQ(built(F::DeleteProfile), std::vector<Bytes>{m2m::build_apdu(m2m::DeleteProfile{p.isdp_aid}).value()});
  EXPECT_EQ(built(F::SetFallbackAttribute),
            std::vector<Bytes>{m2m::build_apdu(m2m::SetFallbackAttribute{p.isdp_aid}).value()});
  EXPECT_EQ(built(F::SetEmergencyProfileAttribute),
            std::vector<Bytes>{m2m::build_apdu(m2m::SetEmergencyProfileAttribute{p.isdp_aid}).value()});
  op.iccid.clear();
  EXPECT_EQ(built(F::AuditEis),
            (std::vector<Bytes>{m2m::build_apdu(m2m::AuditIsdps{}).value(),
                                m2m::build_apdu(m2m::GetEuiccData{m2m::data_tag::kCardResources}).value()}));
  // Nothing for an unknown profile, a function that sends nothing, or an AID the codec refuses.
  op.iccid = "89000000000000000000";
  EXPECT_TRUE(built(F::EnableProfile).empty());
  EXPECT_TRUE(built(F::GetEis).empty());
  op.iccid = p.iccid;
  e.profiles[0].isdp_aid = Bytes{0xA0};
  EXPECT_TRUE(built(F::EnableProfile).empty());
}

}  // namespace
}  // namespace rsp::smsr::testing
