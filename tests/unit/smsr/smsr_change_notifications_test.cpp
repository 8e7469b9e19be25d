// What the new SM-SR tells once it holds an eUICC's EIS (callbacks.hpp
// smsr_change_notifications): ES3 HandleSMSRChangeNotification to each SM-DP
// of the eUICC's profiles, ES4 HandleSMSRChangeNotification to each MNO no
// SM-DP tells, once each; the same identifiers for the same change.

#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "rsp/m2m/es3.hpp"
#include "rsp/smsr/callbacks.hpp"

namespace rsp::smsr {
namespace {

m2m::ProfileInfo profile(std::string iccid, std::string mno, std::string smdp) {
  m2m::ProfileInfo p;
  p.iccid = std::move(iccid);
  p.mno_id = std::move(mno);
  p.smdp_id = std::move(smdp);
  return p;
}

m2m::Eis eis_with(std::vector<m2m::ProfileInfo> profiles) {
  m2m::Eis e;
  e.eid = "89049032123451234512345678901234";
  e.profiles = std::move(profiles);
  return e;
}

std::vector<std::string> recipients(const std::vector<service::OutboxMessage>& out) {
  std::vector<std::string> r;
  for (const auto& m : out) r.push_back(m.recipient);
  return r;
}

TEST(SmsrChangeNotifications, EachSmdpOnceOverEs3AndTheMnosNoSmdpTellsOverEs4) {
  // mno-a: a pre-installed profile and one through smdp-1 (its SM-DP tells it);
  // mno-b: two through smdp-1 and smdp-2; mno-c: pre-installed only.
  const auto eis = eis_with({profile("8900000000000000001", "mno-a", ""),
                             profile("8900000000000000002", "mno-a", "smdp-1"),
                             profile("8900000000000000003", "mno-b", "smdp-1"),
                             profile("8900000000000000004", "mno-b", "smdp-2"),
                             profile("8900000000000000005", "mno-c", "")});
  const auto out = smsr_change_notifications(eis, "smsr-2", "kv2", 1'800'000'000);
  EXPECT_EQ(recipients(out), (std::vector<std::string>{"smdp-1", "smdp-2", "mno-c"}));
  for (std::size_t i = 0; i < 2; ++i) {
    auto n = m2m::es3::decode_notification(out[i].body);
    ASSERT_TRUE(n) << n.error().message;
    EXPECT_EQ(n->function, m2m::es3::NotificationFunction::SmsrChange);
    EXPECT_EQ(n->eid, eis.eid);
    EXPECT_EQ(n->smsr_id, "smsr-2");
    EXPECT_TRUE(n->iccid.empty());
    EXPECT_EQ(n->completion_timestamp, "2027-01-15T08:00:00Z");
    EXPECT_EQ(n->call_id, out[i].ref);
  }
  const auto body = nlohmann::json::parse(out[2].body);
  EXPECT_EQ(body["function"], "ES4.HandleSMSRChangeNotification");
  EXPECT_EQ(body["eid"], eis.eid);
  EXPECT_EQ(body["smsrId"], "smsr-2");
  EXPECT_EQ(body["functionCallIdentifier"], out[2].ref);
  EXPECT_FALSE(body.contains("iccid"));

  // The same change computed again (a retried hand-over): the same
  // identifiers, so a receiver drops the repeat; another change: new ones.
  const auto again = smsr_change_notifications(eis, "smsr-2", "kv2", 1'800'000'100);
  ASSERT_EQ(again.size(), out.size());
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(again[i].ref, out[i].ref);
  const auto next = smsr_change_notifications(eis, "smsr-3", "kv3", 1'800'000'100);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_NE(next[i].ref, out[i].ref);
}

TEST(SmsrChangeNotifications, NoProfilesNoNotifications) {
  EXPECT_TRUE(smsr_change_notifications(eis_with({}), "smsr-2", "kv2", 0).empty());
  // A profile record without MNO or SM-DP tells no one.
  EXPECT_TRUE(smsr_change_notifications(eis_with({profile("8900000000000000001", "", "")}), "smsr-2", "kv2", 0)
                  .empty());
}

}  // namespace
}  // namespace rsp::smsr
