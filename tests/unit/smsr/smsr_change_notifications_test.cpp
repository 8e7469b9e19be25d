// What the new SM-SR tells once it holds an eUICC's EIS (callbacks.hpp
// smsr_change_notifications): ES3 HandleSMSRChangeNotification to each SM-DP
// of the eUICC's profiles, ES4 HandleSMSRChangeNotification to each MNO no
// SM-DP tells, once each; the same identifiers for the same change.

#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/smsr/callbacks.hpp"
#include "test_support/sample_eis.hpp"

namespace rsp::smsr {
namespace {

m2m::ProfileInfo profile(std::string iccid, std::string mno, std::string smdp) {
  m2m::ProfileInfo p;
  p.iccid = std::move(iccid);
  p.mno_id = std::move(mno);
  p.smdp_id = std::move(smdp);
  return p;
}

/// The sample EIS (with its ISD-R keys, which no notification may carry) at
/// smsr-2, with `profiles` instead of the sample's.
m2m::Eis eis_with(std::vector<m2m::ProfileInfo> profiles) {
  m2m::Eis e = *m2m::eis_from_json(test_support::sample_eis("89049032123451234512345678901234"));
  e.smsr_id = "smsr-2";
  for (std::size_t i = 0; i < profiles.size(); ++i) profiles[i].isdp_aid = Bytes(16, static_cast<std::uint8_t>(0x10 + i));
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
  const auto out = smsr_change_notifications(eis, "kv2", 1'800'000'000);
  EXPECT_EQ(recipients(out), (std::vector<std::string>{"smdp-1", "smdp-2", "mno-c"}));
  // Each SM-DP sees the EIS as ES3.GetEIS shows it: its own ISD-Ps.
  const std::vector<std::vector<std::string>> smdp_iccids = {{"8900000000000000002", "8900000000000000003"},
                                                             {"8900000000000000004"}};
  for (std::size_t i = 0; i < 2; ++i) {
    auto n = m2m::es3::decode_notification(out[i].body);
    ASSERT_TRUE(n) << n.error().message;
    EXPECT_EQ(n->function, m2m::es3::NotificationFunction::SmsrChange);
    EXPECT_EQ(n->eid, eis.eid);
    ASSERT_TRUE(n->eis);
    EXPECT_EQ(n->eis->smsr_id, "smsr-2");
    std::vector<std::string> iccids;
    for (const auto& p : n->eis->profiles) iccids.push_back(p.iccid);
    EXPECT_EQ(iccids, smdp_iccids[i]);
    EXPECT_TRUE(n->iccid.empty());
    EXPECT_EQ(n->completion_timestamp, "2027-01-15T08:00:00Z");
    EXPECT_EQ(n->call_id, out[i].ref);
  }
  for (const auto& m : out) {
    // Never a key, whoever gets it.
    EXPECT_EQ(m.body.find("scp80KeySets"), std::string::npos) << m.body;
    EXPECT_EQ(m.body.find("scp81Psk"), std::string::npos) << m.body;
    EXPECT_EQ(m.body.find("33333333"), std::string::npos) << m.body;
  }
  const auto body = nlohmann::json::parse(out[2].body);
  EXPECT_EQ(body["function"], "ES4.HandleSMSRChangeNotification");
  EXPECT_EQ(body["eis"]["eid"], eis.eid);
  EXPECT_EQ(body["eis"]["smsrId"], "smsr-2");
  ASSERT_EQ(body["eis"]["profiles"].size(), 1u);  // as ES4.GetEIS shows it to mno-c
  EXPECT_EQ(body["eis"]["profiles"][0]["iccid"], "8900000000000000005");
  EXPECT_EQ(body["completionTimestamp"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(body["functionCallIdentifier"], out[2].ref);
  EXPECT_FALSE(body.contains("iccid"));
  EXPECT_FALSE(body.contains("eid"));

  // The same change computed again (a retried hand-over): the same
  // identifiers, so a receiver drops the repeat; another change: new ones.
  const auto again = smsr_change_notifications(eis, "kv2", 1'800'000'100);
  ASSERT_EQ(again.size(), out.size());
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(again[i].ref, out[i].ref);
  auto moved_on = eis;
  moved_on.smsr_id = "smsr-3";
  const auto next = smsr_change_notifications(moved_on, "kv3", 1'800'000'100);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_NE(next[i].ref, out[i].ref);
}

TEST(SmsrChangeNotifications, NoProfilesNoNotifications) {
  EXPECT_TRUE(smsr_change_notifications(eis_with({}), "kv2", 0).empty());
  // A profile record without MNO or SM-DP tells no one.
  EXPECT_TRUE(smsr_change_notifications(eis_with({profile("8900000000000000001", "", "")}), "kv2", 0)
                  .empty());
}

}  // namespace
}  // namespace rsp::smsr
