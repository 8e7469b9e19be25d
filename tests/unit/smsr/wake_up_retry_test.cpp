// The SMS wake-up sent again (es5_link.hpp, retry_wake_ups): a wake-up lost
// at the SMSC or refused by it is followed by another after the retry
// interval and the operation completes; none when the session opened; the
// retries stop at their limit or with the operations' validity; a restarted
// SM-SR continues the stored schedule; each wake-up tried is an audit line.
// The clock is the fixture's hand-moved one: retry_wake_ups() runs when the
// test says, as `rsp smsr serve`'s sweeper runs it every sweep_interval.

#include <gtest/gtest.h>

#include <algorithm>

#include "es5_link_fixture.hpp"

namespace rsp::smsr::testing {
namespace {

using namespace std::chrono_literals;

std::size_t wake_up_lines(Registry& registry, const std::string& eid, std::string_view prefix) {
  auto trail = registry.audit_trail(eid);
  if (!trail) return 0;
  return static_cast<std::size_t>(std::count_if(trail->begin(), trail->end(), [&](const AuditEntry& a) {
    return a.function == "ES5.WakeUp" && a.caller == "smsr" && a.result.rfind(prefix, 0) == 0;
  }));
}

std::int64_t seconds(const service::ManualClock& clock) { return clock.now().time_since_epoch().count(); }

TEST_F(Es5LinkTest, AWakeUpLostAtTheSmscIsSentAgainAndTheOperationCompletes) {
  start_device();
  smsc_->set_faults({.drop_next = 1});  // the wake-up's (first) SMS is lost
  auto accepted = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(accepted) << accepted.error().message;
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  ASSERT_TRUE(smsc_->wait_idle(5s));
  ASSERT_TRUE(device_->wait_idle(5s));
  EXPECT_EQ(op(accepted->operation_id).state, OperationState::Accepted);  // no session
  const auto t0 = seconds(*clock_);
  EXPECT_EQ(link_->wake_up_schedule(eid()), (WakeUpSchedule{eid(), 1, t0 + 60}));
  EXPECT_EQ(*registry_->wake_up_schedules(), std::vector<WakeUpSchedule>{(WakeUpSchedule{eid(), 1, t0 + 60})});

  clock_->advance(59s);
  EXPECT_EQ(link_->retry_wake_ups(), 0u);  // not due yet
  clock_->advance(1s);
  EXPECT_EQ(link_->retry_wake_ups(), 1u);
  ASSERT_TRUE(eventually([&] { return op(accepted->operation_id).state == OperationState::Completed; }));
  EXPECT_EQ(op(accepted->operation_id).status, "Executed-Success");
  EXPECT_EQ(isdp(second_).state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(link_->wake_ups_sent(), 2u);
  // The session ended the schedule, in memory and in the registry.
  EXPECT_FALSE(link_->wake_up_schedule(eid()));
  EXPECT_TRUE(registry_->wake_up_schedules()->empty());
  EXPECT_EQ(wake_up_lines(*registry_, eid(), "sent, try 1 of 4"), 1u);
  EXPECT_EQ(wake_up_lines(*registry_, eid(), "sent, try 2 of 4"), 1u);
  // Each wake-up was a packet of its own, under a counter of its own.
  EXPECT_GE(card_->isd_r().state().scp80.at(0).counter, 2u);
}

TEST_F(Es5LinkTest, NoWakeUpIsSentAgainOnceTheSessionOpened) {
  start_device();
  auto accepted = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(accepted);
  ASSERT_TRUE(eventually([&] { return op(accepted->operation_id).state == OperationState::Completed; }));
  ASSERT_TRUE(device_->wait_idle(5s));
  EXPECT_FALSE(link_->wake_up_schedule(eid()));
  for (int i = 0; i < 4; ++i) {
    clock_->advance(120s);
    EXPECT_EQ(link_->retry_wake_ups(), 0u);
  }
  EXPECT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_sent(), 1u);
  EXPECT_EQ(wake_up_lines(*registry_, eid(), "sent"), 1u);
}

TEST_F(Es5LinkTest, WakeUpRetriesBackOffStopAtTheLimitAndTheOperationExpires) {
  // No device: every SMS waits at the SMSC.
  auto a = service_->enable_profile("mno-two", eid(), kSecondIccid, 900);
  ASSERT_TRUE(a);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  const auto t0 = seconds(*clock_);
  // Asked again while in flight (another operation, say): nothing sent.
  link_->wake_up(eid());
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_in_flight(), 1u);
  EXPECT_EQ(link_->wake_ups_sent(), 1u);
  // Back-off: 60 s, then 120 s, then 240 s; three retries, then none.
  const std::chrono::seconds waits[] = {60s, 120s, 240s};
  std::int64_t t = t0;
  for (int retry = 0; retry < 3; ++retry) {
    clock_->advance(waits[retry] - 1s);
    EXPECT_EQ(link_->retry_wake_ups(), 0u) << retry;
    clock_->advance(1s);
    EXPECT_EQ(link_->retry_wake_ups(), 1u) << retry;
    ASSERT_TRUE(link_->wait_wake_ups(5s));
    t += waits[retry].count();
  }
  EXPECT_EQ(link_->wake_ups_sent(), 4u);
  EXPECT_EQ(link_->wake_up_schedule(eid()), (WakeUpSchedule{eid(), 4, 0}));  // spent
  EXPECT_EQ(seconds(*clock_), t);
  clock_->advance(300s);
  EXPECT_EQ(link_->retry_wake_ups(), 0u);
  EXPECT_EQ(link_->wake_ups_sent(), 4u);
  EXPECT_EQ(wake_up_lines(*registry_, eid(), "sent, try 4 of 4"), 1u);
  EXPECT_EQ(wake_up_lines(*registry_, eid(), "sent"), 4u);
  // The operation expires with its validity, as without retries; its
  // schedule goes with it.
  EXPECT_EQ(op(a->operation_id).state, OperationState::Accepted);
  clock_->advance(std::chrono::seconds(t0 + 900 - seconds(*clock_)));
  EXPECT_EQ(*service_->expire(), 1u);
  EXPECT_EQ(op(a->operation_id).state, OperationState::Expired);
  EXPECT_EQ(link_->retry_wake_ups(), 0u);
  EXPECT_FALSE(link_->wake_up_schedule(eid()));
  EXPECT_TRUE(registry_->wake_up_schedules()->empty());
  // A later operation starts a schedule of its own.
  auto b = service_->enable_profile("mno-two", eid(), kSecondIccid, 900);
  ASSERT_TRUE(b);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_sent(), 5u);
  EXPECT_EQ(link_->wake_up_schedule(eid()), (WakeUpSchedule{eid(), 1, seconds(*clock_) + 60}));
}

TEST_F(Es5LinkTest, NoWakeUpIsSentAgainPastTheOperationsValidity) {
  auto a = service_->enable_profile("mno-two", eid(), kSecondIccid, 90);
  ASSERT_TRUE(a);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  clock_->advance(60s);
  EXPECT_EQ(link_->retry_wake_ups(), 1u);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  clock_->advance(30s);
  EXPECT_EQ(*service_->expire(), 1u);
  clock_->advance(90s);  // the second retry would be due now
  EXPECT_EQ(link_->retry_wake_ups(), 0u);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_sent(), 2u);
  EXPECT_FALSE(link_->wake_up_schedule(eid()));
  EXPECT_EQ(op(a->operation_id).state, OperationState::Expired);
}

TEST_F(Es5LinkTest, ARefusedSubmissionCountsAsATryAndIsRetried) {
  start_device();
  smsc_->set_faults({.refuse_next = 1});
  auto accepted = service_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(accepted);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  EXPECT_EQ(link_->wake_ups_failed(), 1u);
  EXPECT_EQ(link_->wake_ups_sent(), 0u);
  EXPECT_EQ(link_->wake_up_schedule(eid()), (WakeUpSchedule{eid(), 1, seconds(*clock_) + 60}));
  EXPECT_EQ(wake_up_lines(*registry_, eid(), "not sent, try 1 of 4"), 1u);
  EXPECT_EQ(op(accepted->operation_id).state, OperationState::Accepted);
  clock_->advance(60s);
  EXPECT_EQ(link_->retry_wake_ups(), 1u);
  ASSERT_TRUE(eventually([&] { return op(accepted->operation_id).state == OperationState::Completed; }));
  EXPECT_EQ(link_->wake_ups_sent(), 1u);
  EXPECT_EQ(wake_up_lines(*registry_, eid(), "sent, try 2 of 4"), 1u);
  EXPECT_FALSE(link_->wake_up_schedule(eid()));
}

TEST_F(Es5LinkTest, ARestartedSmsrContinuesTheWakeUpSchedule) {
  auto a = service_->enable_profile("mno-two", eid(), kSecondIccid, 3600);
  ASSERT_TRUE(a);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  clock_->advance(60s);
  EXPECT_EQ(link_->retry_wake_ups(), 1u);
  ASSERT_TRUE(link_->wait_wake_ups(5s));
  const auto t1 = seconds(*clock_);
  const WakeUpSchedule stored{eid(), 2, t1 + 120};
  EXPECT_EQ(*registry_->wake_up_schedules(), std::vector<WakeUpSchedule>{stored});

  // The SM-SR restarts on the same registry: a new link reads the schedule.
  auto sms = smsc_->attach(smsr_address_);
  Es5LinkConfig lc;
  lc.registry = registry_;
  lc.sms = sms.get();
  lc.source = smsr_address_;
  lc.clock = clock_;
  lc.trigger_host = server_->host_header();
  Es5Link restarted(std::move(lc));
  EXPECT_EQ(restarted.wake_up_schedule(eid()), stored);
  // The wake-up in flight may have been lost with the process: the restart
  // sends the schedule's next try at once, counted against its retries.
  clock_->advance(10s);
  EXPECT_EQ(restarted.resume(), 1u);
  ASSERT_TRUE(restarted.wait_wake_ups(5s));
  EXPECT_EQ(restarted.wake_ups_sent(), 1u);
  const auto t2 = seconds(*clock_);
  EXPECT_EQ(restarted.wake_up_schedule(eid()), (WakeUpSchedule{eid(), 3, t2 + 240}));
  EXPECT_EQ(*registry_->wake_up_schedules(), std::vector<WakeUpSchedule>{(WakeUpSchedule{eid(), 3, t2 + 240})});
  EXPECT_EQ(wake_up_lines(*registry_, eid(), "sent, try 3 of 4"), 1u);
  clock_->advance(239s);
  EXPECT_EQ(restarted.retry_wake_ups(), 0u);
  clock_->advance(1s);
  EXPECT_EQ(restarted.retry_wake_ups(), 1u);
  ASSERT_TRUE(restarted.wait_wake_ups(5s));
  EXPECT_EQ(restarted.wake_ups_sent(), 2u);
  EXPECT_EQ(restarted.wake_up_schedule(eid()), (WakeUpSchedule{eid(), 4, 0}));  // spent
  // Restarted once more: spent stays spent, nothing is sent.
  {
    auto sms2 = smsc_->attach(smsr_address_);
    Es5LinkConfig lc2;
    lc2.registry = registry_;
    lc2.sms = sms2.get();
    lc2.source = smsr_address_;
    lc2.clock = clock_;
    lc2.trigger_host = server_->host_header();
    Es5Link again(std::move(lc2));
    EXPECT_EQ(again.resume(), 1u);
    ASSERT_TRUE(again.wait_wake_ups(5s));
    EXPECT_EQ(again.wake_ups_sent(), 0u);
    clock_->advance(1000s);
    EXPECT_EQ(again.retry_wake_ups(), 0u);
    sms2->stop();
  }
  // The device's session (to the restarted link as its script source) ends
  // it: in memory at once; stored, with the operation's end or (here) when
  // the session goes without the card's answer.
  EXPECT_TRUE(restarted.next_script(eid()));
  EXPECT_FALSE(restarted.wake_up_schedule(eid()));
  restarted.session_ended(eid());
  EXPECT_TRUE(registry_->wake_up_schedules()->empty());
  sms->stop();
}

}  // namespace
}  // namespace rsp::smsr::testing
