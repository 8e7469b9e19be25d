// The SM-SR's ES3 notifications at the M2M SM-DP (es2_service_fixture.hpp):
// recorded in the inventory and passed on to the MNO once, on a route that
// takes the SM-SR's client certificate only.

#include <gtest/gtest.h>

#include <chrono>

#include <nlohmann/json.hpp>

#include "es2_service_fixture.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/smdp/es3_notifications.hpp"
#include "test_support/sample_eis.hpp"

namespace rsp::smdp::testing {
namespace {

/// The SM-SR's ES3 notifications at the SM-DP: the profile's state on the
/// eUICC in the inventory, the MNO's ES2 notification queued once per
/// notification identifier (also across a restart), the rest ignored.
class Es3NotificationsTest : public Es2ServiceTest {
 protected:
  void SetUp() override {
    Es2ServiceTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(inventory_->reserve("mno-a", kIccidA, "", kEid));
    ASSERT_TRUE(inventory_->settle(kIccidA, ProfileState::Downloaded));
    reopen_notifications();
  }
  void reopen_notifications() {
    auto n = Es3Notifications::open(db_, inventory_, outbox_,
                                    [](const std::string& mno) { return "https://" + mno + ".example/callbacks"; });
    ASSERT_TRUE(n) << n.error();
    notes_ = std::move(*n);
  }
  static es3::Notification note(es3::NotificationFunction f, std::string call_id, std::string iccid = kIccidA,
                                std::string eid = kEid) {
    return es3::Notification{std::move(call_id), f, std::move(eid), std::move(iccid), std::nullopt,
                             "2026-12-04T17:00:00Z"};
  }
  /// The EIS an SM-SR change notification carries: the eUICC `eid` now at
  /// `smsr`, with this SM-DP's profiles of mno-a and mno-b on it, no key.
  static m2m::Eis eis_at(const std::string& smsr, const std::string& eid = kEid) {
    m2m::Eis e = *m2m::eis_from_json(test_support::keyless_sample_eis(eid, smsr));
    // The sample's three profiles as this SM-DP's: two of mno-a, one of mno-b.
    const std::pair<std::string, std::string> ours[] = {{kIccidA, "mno-a"}, {kIccidA2, "mno-a"}, {kIccidB, "mno-b"}};
    for (std::size_t i = 0; i < e.profiles.size(); ++i) {
      e.profiles[i].iccid = ours[i].first;
      e.profiles[i].mno_id = ours[i].second;
      e.profiles[i].smdp_id = "smdp";
    }
    return e;
  }
  EuiccState on_card(const std::string& iccid) {
    auto p = inventory_->find(iccid);
    EXPECT_TRUE(p && *p);
    return p && *p ? (*p)->euicc_state : EuiccState::Unknown;
  }
  /// The ES2 notifications queued for the MNOs.
  std::vector<std::pair<std::string, es2::Notification>> mno_notes() {
    std::vector<std::pair<std::string, es2::Notification>> out;
    for (const auto& [item, cb] : callbacks())
      if (const auto* n = std::get_if<es2::Notification>(&cb)) out.emplace_back(item.recipient, *n);
    return out;
  }
  std::unique_ptr<Es3Notifications> notes_;
};

TEST_F(Es3NotificationsTest, EachNotificationSetsTheStateAndTellsTheOwningMnoOnce) {
  using F = es3::NotificationFunction;
  auto h = notes_->handle(note(F::ProfileEnabled, "es3-1"), kSmsr);
  ASSERT_TRUE(h) << h.error();
  EXPECT_EQ(h->outcome, Es3Notifications::Outcome::Recorded) << h->detail;
  EXPECT_EQ(on_card(kIccidA), EuiccState::Enabled);
  auto got = mno_notes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first, "mno-a");
  EXPECT_EQ(got[0].second.function, es2::kProfileEnabledNotification);
  EXPECT_EQ(got[0].second.eid, kEid);
  EXPECT_EQ(got[0].second.iccid, kIccidA);
  EXPECT_EQ(got[0].second.completion_timestamp, "2026-12-04T17:00:00Z");
  const auto due = outbox_->due();
  ASSERT_TRUE(due);
  EXPECT_EQ(due->back().destination, "https://mno-a.example/callbacks");
  EXPECT_EQ(due->back().ref, got[0].second.call_id);

  // The same notification again (the SM-SR retried, the card repeated it): nothing more.
  h = notes_->handle(note(F::ProfileEnabled, "es3-1"), kSmsr);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->outcome, Es3Notifications::Outcome::Duplicate);
  EXPECT_EQ(mno_notes().size(), 1u);
  // Also after a restart: the identifiers are durable.
  reopen_notifications();
  h = notes_->handle(note(F::ProfileEnabled, "es3-1"), kSmsr);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->outcome, Es3Notifications::Outcome::Duplicate);

  // Disabled, then deleted: each recorded and told.
  ASSERT_TRUE(notes_->handle(note(F::ProfileDisabled, "es3-2"), kSmsr));
  EXPECT_EQ(on_card(kIccidA), EuiccState::Disabled);
  ASSERT_TRUE(notes_->handle(note(F::ProfileDeleted, "es3-3"), kSmsr));
  EXPECT_EQ(on_card(kIccidA), EuiccState::Deleted);
  got = mno_notes();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].second.function, es2::kProfileDisabledNotification);
  EXPECT_EQ(got[2].second.function, es2::kProfileDeletedNotification);
  EXPECT_NE(got[1].second.call_id, got[2].second.call_id);
  // The inventory's state is what list() shows.
  auto all = inventory_->list();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->front().euicc_state, EuiccState::Deleted);
  EXPECT_EQ(euicc_state_name(all->front().euicc_state), "deleted");
}

TEST_F(Es3NotificationsTest, ProfilesNotDownloadedThereAreIgnored) {
  using F = es3::NotificationFunction;
  // Another MNO's profile still in the inventory, an ICCID never seen, the
  // right profile on another eUICC: recorded, no state, nobody told.
  for (const auto& n : {note(F::ProfileEnabled, "x-1", kIccidB), note(F::ProfileEnabled, "x-2", "8900999999999999999"),
                        note(F::ProfileDisabled, "x-3", kIccidA, "89049032123451234512345678909999")}) {
    auto h = notes_->handle(n, kSmsr);
    ASSERT_TRUE(h) << h.error();
    EXPECT_EQ(h->outcome, Es3Notifications::Outcome::Ignored) << n.call_id;
  }
  EXPECT_EQ(on_card(kIccidB), EuiccState::Unknown);
  EXPECT_EQ(on_card(kIccidA), EuiccState::Unknown);
  EXPECT_TRUE(mno_notes().empty());
  // An SM-SR change of an eUICC this SM-DP downloaded nothing to: ignored,
  // no SM-SR recorded for it.
  auto change = note(F::SmsrChange, "x-4", "", "89049032123451234512345678909999");
  change.eis = eis_at(kSmsr2, change.eid);
  auto h = notes_->handle(change, kSmsr2);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->outcome, Es3Notifications::Outcome::Ignored);
  EXPECT_TRUE(mno_notes().empty());
  auto recorded = inventory_->smsr_of("89049032123451234512345678909999");
  ASSERT_TRUE(recorded);
  EXPECT_FALSE(*recorded);
}

TEST_F(Es3NotificationsTest, SmsrChangeRecordsTheNewSmsrAndTellsEachMnoOnce) {
  // mno-a has two profiles on the eUICC (one still downloading), mno-b one.
  ASSERT_TRUE(inventory_->reserve("mno-a", kIccidA2, "", kEid));
  ASSERT_TRUE(inventory_->reserve("mno-b", kIccidB, "", kEid));
  ASSERT_TRUE(inventory_->settle(kIccidB, ProfileState::Downloaded));
  auto change = note(es3::NotificationFunction::SmsrChange, "es3-change-kv2", "");
  change.eis = eis_at(kSmsr2, change.eid);
  auto h = notes_->handle(change, kSmsr2);
  ASSERT_TRUE(h) << h.error();
  EXPECT_EQ(h->outcome, Es3Notifications::Outcome::Recorded) << h->detail;
  auto smsr = inventory_->smsr_of(kEid);
  ASSERT_TRUE(smsr);
  EXPECT_EQ(smsr->value_or(""), kSmsr2);
  auto got = mno_notes();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, "mno-a");
  EXPECT_EQ(got[1].first, "mno-b");
  for (const auto& [mno, n] : got) {
    EXPECT_EQ(n.function, es2::kSmsrChangeNotification);
    EXPECT_EQ(n.eid, kEid);
    ASSERT_TRUE(n.eis);
    EXPECT_EQ(n.eis->smsr_id, kSmsr2);
    EXPECT_EQ(n.eis->eid, kEid);
    // The EIS as that MNO may see it: its own profiles only.
    for (const auto& p : n.eis->profiles) EXPECT_EQ(p.mno_id, mno);
    EXPECT_EQ(n.eis->profiles.size(), mno == "mno-a" ? 2u : 1u);
    EXPECT_TRUE(n.iccid.empty());
    EXPECT_EQ(n.completion_timestamp, "2026-12-04T17:00:00Z");
  }
  EXPECT_NE(got[0].second.call_id, got[1].second.call_id);
  // Its body carries the EIS (naming the SM-SR), no eid or iccid beside it.
  const auto due = outbox_->due();
  ASSERT_TRUE(due);
  EXPECT_NE(due->back().body.find("\"smsrId\":\"smsr-2\""), std::string::npos) << due->back().body;
  const auto last = nlohmann::json::parse(due->back().body);
  EXPECT_FALSE(last.contains("iccid")) << due->back().body;
  EXPECT_FALSE(last.contains("eid")) << due->back().body;
  EXPECT_FALSE(last["eis"]["isdR"].contains("scp81Psk")) << due->back().body;
  // The SM-SR sends it again: dropped, nobody told twice.
  h = notes_->handle(change, kSmsr2);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->outcome, Es3Notifications::Outcome::Duplicate);
  EXPECT_EQ(mno_notes().size(), 2u);
}


TEST_F(Es3NotificationsTest, AnSmsrChangeFromAnotherSmsrThanTheOneItNamesIsRefusedAndNotRecorded) {
  auto change = note(es3::NotificationFunction::SmsrChange, "es3-change-forged", "");
  change.eis = eis_at(kSmsr2, change.eid);
  // The eUICC's old SM-SR (or any other configured one) names kSmsr2:
  // refused, nothing recorded, nobody told.
  for (const std::string& sender : {kSmsr, std::string("smsr-3"), std::string()}) {
    auto h = notes_->handle(change, sender);
    ASSERT_TRUE(h) << h.error();
    EXPECT_EQ(h->outcome, Es3Notifications::Outcome::Refused) << sender;
  }
  auto smsr = inventory_->smsr_of(kEid);
  ASSERT_TRUE(smsr);
  EXPECT_FALSE(*smsr);
  EXPECT_TRUE(mno_notes().empty());
  // Its identifier was not recorded: the real one, from kSmsr2, is taken.
  auto h = notes_->handle(change, kSmsr2);
  ASSERT_TRUE(h) << h.error();
  EXPECT_EQ(h->outcome, Es3Notifications::Outcome::Recorded) << h->detail;
  smsr = inventory_->smsr_of(kEid);
  ASSERT_TRUE(smsr);
  EXPECT_EQ(smsr->value_or(""), kSmsr2);
  EXPECT_EQ(mno_notes().size(), 1u);
}

TEST_F(Es3NotificationsTest, TheCallbacksRouteTakesAnSmsrChangeOnlyFromTheSmsrItNames) {
  auto results = std::make_shared<Es3Results>();
  std::shared_ptr<Es3Notifications> notes(std::move(notes_));
  // kSmsr's route (its pinned certificate) and kSmsr2's.
  auto route1 = es3_results_route(results, "/es3/cb", notes, std::string("smsr:smsr-1"), kSmsr);
  auto route2 = es3_results_route(results, "/es3/cb2", notes, std::string("smsr:smsr-2"), kSmsr2);
  const service::Caller smsr1{"smsr:smsr-1", service::CallerProof::ClientCertificate};
  const service::Caller smsr2{"smsr:smsr-2", service::CallerProof::ClientCertificate};
  auto change = note(es3::NotificationFunction::SmsrChange, "es3-change-kv2", "");
  change.eis = eis_at(kSmsr2, change.eid);
  const std::string body = es3::encode_notification(change);
  // The old SM-SR announcing the new one: 403, Failed 1.1/1.2, nothing recorded.
  auto refused = route1.handler(post(body), smsr1);
  EXPECT_EQ(refused.response.status, 403);
  EXPECT_EQ(refused.subject_code, "1.1");
  EXPECT_EQ(refused.reason_code, "1.2");
  auto answer = es2::decode_answer(refused.response.body);
  ASSERT_TRUE(answer) << refused.response.body;
  EXPECT_EQ(answer->status, "Failed");
  EXPECT_EQ(answer->subject_code, "1.1");
  EXPECT_EQ(answer->reason_code, "1.2");
  auto smsr = inventory_->smsr_of(kEid);
  ASSERT_TRUE(smsr);
  EXPECT_FALSE(*smsr);
  EXPECT_TRUE(mno_notes().empty());
  // The new SM-SR itself, on its route: recorded, the MNO told once.
  EXPECT_EQ(route2.handler(post(body), smsr2).response.status, 200);
  smsr = inventory_->smsr_of(kEid);
  ASSERT_TRUE(smsr);
  EXPECT_EQ(smsr->value_or(""), kSmsr2);
  EXPECT_EQ(mno_notes().size(), 1u);
  // Profile notifications are taken on either route as before.
  EXPECT_EQ(route1.handler(post(es3::encode_notification(note(es3::NotificationFunction::ProfileDisabled, "es3-d"))), smsr1)
                .response.status,
            200);
}

TEST_F(Es3NotificationsTest, ADownloadInProgressIsRecordedAndARollbackForgetsIt) {
  // The eUICC's confirmation of the enable may come before the SM-SR's
  // result: the profile is still reserved for that eUICC.
  ASSERT_TRUE(inventory_->reserve("mno-a", kIccidA2, "", kEid));
  auto h = notes_->handle(note(es3::NotificationFunction::ProfileEnabled, "es3-r", kIccidA2), kSmsr);
  ASSERT_TRUE(h) << h.error();
  EXPECT_EQ(h->outcome, Es3Notifications::Outcome::Recorded);
  EXPECT_EQ(on_card(kIccidA2), EuiccState::Enabled);
  // Rolled back to the inventory: on no eUICC any more.
  ASSERT_TRUE(inventory_->settle(kIccidA2, ProfileState::Available));
  EXPECT_EQ(on_card(kIccidA2), EuiccState::Unknown);
}

TEST_F(Es3NotificationsTest, TheCallbacksRouteTakesOnlyTheSmsrsCertificate) {
  auto results = std::make_shared<Es3Results>();
  std::shared_ptr<Es3Notifications> notes(std::move(notes_));
  auto route = es3_results_route(results, "/es3/cb", notes, std::string("smsr:smsr-1"), kSmsr);
  EXPECT_TRUE(route.authenticated);
  const std::string body = es3::encode_notification(note(es3::NotificationFunction::ProfileEnabled, "es3-9"));
  const service::Caller smsr{"smsr:smsr-1", service::CallerProof::ClientCertificate};
  // No caller, an MNO, the SM-SR's name by an API key: refused, nothing recorded.
  for (const auto& who : {std::optional<service::Caller>(),
                          std::optional<service::Caller>(service::Caller{"mno-a", service::CallerProof::ClientCertificate}),
                          std::optional<service::Caller>(service::Caller{"smsr:smsr-1", service::CallerProof::ApiKey})}) {
    EXPECT_EQ(route.handler(post(body), who).response.status, 403);
  }
  EXPECT_TRUE(mno_notes().empty());
  // The SM-SR: the notification handled, twice answered 200, told once.
  EXPECT_EQ(route.handler(post(body), smsr).response.status, 200);
  EXPECT_EQ(route.handler(post(body), smsr).response.status, 200);
  EXPECT_EQ(mno_notes().size(), 1u);
  EXPECT_EQ(on_card(kIccidA), EuiccState::Enabled);
  // Its results still go to the waiting call; anything else is 400.
  es3::Result r = ok();
  r.call_id = "op-5";
  r.function = es3::Function::EnableProfile;
  r.operation_id = 5;
  r.eid = kEid;
  EXPECT_EQ(route.handler(post(es3::encode_result(r)), smsr).response.status, 200);
  EXPECT_TRUE(results->wait(5, std::chrono::milliseconds(0)));
  EXPECT_EQ(route.handler(post(R"({"function":"ES3.HandleProfileEnabledNotification"})"), smsr).response.status, 400);
  // A route without a notification handler refuses notifications.
  auto results_only = es3_results_route(results);
  EXPECT_EQ(results_only.handler(post(body), std::nullopt).response.status, 400);
}

}  // namespace
}  // namespace rsp::smdp::testing
