// ES2 on the SM-DP's service with the real SM-SR behind its ES3 port
// (es3_link_fixture.hpp): DownloadProfile enables the profile and calls the
// MNO back, the updates reach the EIS, AuditEIS is relayed to the card.

#include <gtest/gtest.h>

#include <vector>

#include "es3_link_fixture.hpp"

namespace rsp::smsr::testing {
namespace {

using namespace std::chrono_literals;

TEST_F(Es2DownloadTest, DownloadProfileEnablesAndCallsTheMnoBack) {
  namespace es2 = m2m::es2;
  // Another MNO cannot have it.
  auto refused = es2_->handle(es2::DownloadProfile{eid(), kIccid, "", "smsr-1", true, std::nullopt}, "mno-two");
  EXPECT_EQ(refused.answer.status, "Failed");
  EXPECT_EQ(refused.answer.subject_code, codes::kIccidUnknown.subject);
  EXPECT_EQ(refused.answer.reason_code, codes::kIccidUnknown.reason);

  auto accepted = es2_->handle(es2::DownloadProfile{eid(), "", "m2m-data", "smsr-1", true, std::nullopt}, "mno-three");
  ASSERT_TRUE(accepted.answer.accepted()) << accepted.answer.message;
  auto ran = es2_->run_next();
  ASSERT_TRUE(ran && *ran) << (ran ? "" : ran.error());
  EXPECT_EQ((**registry_->eis(eid(), false)).profile(kIccid)->state, m2m::ProfileState::Enabled);
  EXPECT_EQ(inventory_->get("mno-three", kIccid)->state, smdp::ProfileState::Downloaded);
  auto due = outbox_->due();
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->front().recipient, "mno-three");
  auto callback = es2::decode_callback(due->front().body);
  ASSERT_TRUE(callback);
  const auto& result = std::get<es2::Result>(*callback);
  EXPECT_EQ(result.operation_id, accepted.answer.operation_id);
  EXPECT_EQ(result.iccid, kIccid);
  EXPECT_EQ(result.status, "Executed-Success");
  EXPECT_EQ(calls_.back(), es3::Function::EnableProfile);

  // ES2 UpdatePolicyRules and UpdateSubscriptionAddress reach the EIS
  // through ES3; another MNO's profile is refused before the SM-SR.
  const std::vector<m2m::PolicyRule> pol2 = {
      m2m::PolicyRule{m2m::PolicyAction::Disable, m2m::PolicyQualification::NotAllowed}};
  auto updated = es2_->handle(es2::UpdatePolicyRules{eid(), kIccid, "smsr-1", pol2}, "mno-three");
  EXPECT_EQ(updated.answer.status, "Executed-Success") << updated.answer.message;
  EXPECT_EQ((**registry_->eis(eid(), false)).profile(kIccid)->pol2, pol2);
  // The same MSISDN (the wake-up SMS of the audit below goes to it), an IMSI added.
  updated = es2_->handle(es2::UpdateSubscriptionAddress{eid(), kIccid, "smsr-1", {"4915550003", "262015550003"}},
                         "mno-three");
  EXPECT_EQ(updated.answer.status, "Executed-Success") << updated.answer.message;
  EXPECT_EQ((**registry_->eis(eid(), false)).profile(kIccid)->subscription_address.imsi, "262015550003");
  updated = es2_->handle(es2::UpdatePolicyRules{eid(), kIccid, "smsr-1", {}}, "mno-two");
  EXPECT_EQ(updated.answer.subject_code, codes::kIccidUnknown.subject);
  EXPECT_EQ((**registry_->eis(eid(), false)).profile(kIccid)->pol2, pol2);

}

/// ES2 AuditEIS relayed as ES3 AuditEIS to the real SM-SR: the card is read
/// and the MNO called back with the EIS limited to its own profiles (the
/// SM-SR shows the SM-DP only its ISD-Ps; the eUICC's boot and second
/// profiles are no SM-DP's).
TEST_F(Es2DownloadTest, AuditEisIsRelayedToTheCard) {
  namespace es2 = m2m::es2;
  auto audit = es2_->handle(es2::AuditEis{eid(), "smsr-1", {}, std::nullopt}, "mno-three");
  ASSERT_TRUE(audit.answer.accepted()) << audit.answer.message;
  auto ran = es2_->run_next();
  ASSERT_TRUE(ran && *ran) << (ran ? "" : ran.error());
  EXPECT_EQ(calls_, (std::vector<es3::Function>{es3::Function::AuditEis}));
  auto due = outbox_->due();
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);
  auto audited = es2::decode_callback(due->front().body);
  ASSERT_TRUE(audited);
  const auto& a = std::get<es2::Result>(*audited);
  EXPECT_EQ(a.function, es2::Function::AuditEis);
  EXPECT_EQ(a.operation_id, audit.answer.operation_id);
  EXPECT_EQ(a.status, "Executed-Success");
  ASSERT_TRUE(a.eis);
  EXPECT_EQ((*a.eis)["eid"], eid());
  EXPECT_TRUE(!a.eis->contains("profiles") || (*a.eis)["profiles"].empty());
}

}  // namespace
}  // namespace rsp::smsr::testing
