// The M2M SM-DP's inventory and ES2 functions with the SM-SR's ES3 port
// faked in process (es2_service_fixture.hpp): packages sealed at rest,
// profiles picked only from the calling MNO's, refusals with their codes,
// DownloadProfile accepted at once and its result called back through the
// outbox, a failed download's profile returned to the inventory (or
// quarantined when its ISD-P stayed), relayed functions passing the SM-SR's
// result on, the worker running what is accepted. Restarts are in
// es2_restart_test.cpp, the HTTP routes and the ES3 results in
// es2_routes_test.cpp, the SM-SR's ES3 notifications in
// es3_notifications_test.cpp. The download against the real SM-SR is in
// tests/unit/smsr/es3_es2_download_test.cpp and es3_rollback_test.cpp.

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include <nlohmann/json.hpp>

#include "es2_service_fixture.hpp"

namespace rsp::smdp::testing {
namespace {

using nlohmann::json;

TEST_F(Es2ServiceTest, PackagesAreSealedAtRest) {
  auto row = db_->query_one("SELECT package FROM smdp_profile WHERE iccid = $1", {store::value(kIccidA)});
  ASSERT_TRUE(row && *row);
  const Bytes stored = (*row)->blob(0);
  EXPECT_TRUE(service::is_sealed_package(stored));
  EXPECT_EQ(std::search(stored.begin(), stored.end(), package(0x11).begin() + 1, package(0x11).begin() + 32),
            stored.end());
  auto opened = inventory_->package(kIccidA);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, package(0x11));
  // Without the KEK the package does not open.
  auto blind = Inventory::open(db_, nullptr);
  ASSERT_TRUE(blind);
  auto refused = (*blind)->package(kIccidA);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, InventoryError::Kind::Sealing);
  // The same ICCID twice is refused.
  auto again = inventory_->add(kIccidA, "m2m-data", "mno-a", package(0x11), crypto::system_random());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, InventoryError::Kind::Duplicate);
}

TEST_F(Es2ServiceTest, InventoryPicksOnlyTheCallersProfiles) {
  auto other = inventory_->reserve("mno-a", kIccidB, "", kEid);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().kind, InventoryError::Kind::Unknown);
  auto by_type = inventory_->reserve("mno-a", "", "m2m-data", kEid);
  ASSERT_TRUE(by_type);
  EXPECT_EQ(by_type->iccid, kIccidA);  // the oldest first
  EXPECT_EQ(by_type->eid, kEid);
  auto taken = inventory_->reserve("mno-a", kIccidA, "", kEid);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().kind, InventoryError::Kind::Unavailable);
  ASSERT_TRUE(inventory_->reserve("mno-a", "", "m2m-data", kEid));
  auto none_left = inventory_->reserve("mno-a", "", "m2m-data", kEid);
  ASSERT_FALSE(none_left);
  EXPECT_EQ(none_left.error().kind, InventoryError::Kind::Unavailable);
  auto no_type = inventory_->reserve("mno-a", "", "m2m-voice", kEid);
  ASSERT_FALSE(no_type);
  EXPECT_EQ(no_type.error().kind, InventoryError::Kind::Unknown);
  ASSERT_TRUE(inventory_->settle(kIccidA, ProfileState::Available));
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Available);
  EXPECT_FALSE(inventory_->settle(kIccidA, ProfileState::Downloaded));  // not reserved
}

TEST_F(Es2ServiceTest, RefusalsCarryTheirCodes) {
  auto r = svc_->handle(download(kIccidB), "mno-a");  // another MNO's profile
  EXPECT_EQ(r.answer.status, "Failed");
  EXPECT_EQ(r.answer.subject_code, codes::kIccidUnknown.subject);
  EXPECT_EQ(r.answer.reason_code, codes::kIccidUnknown.reason);
  EXPECT_FALSE(r.storage);
  EXPECT_EQ(state_of("mno-b", kIccidB), ProfileState::Available);

  auto wrong_smsr = download(kIccidA);
  wrong_smsr.smsr_id = "smsr-9";
  r = svc_->handle(wrong_smsr, "mno-a");
  EXPECT_EQ(r.answer.subject_code, es2_codes::kSmsrUnknown.subject);
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Available);

  r = svc_->handle(es2::EnableProfile{kEid, kIccidB, kSmsr, std::nullopt}, "mno-a");
  EXPECT_EQ(r.answer.subject_code, codes::kIccidUnknown.subject);
  r = svc_->handle(es2::UpdatePolicyRules{kEid, kIccidB, kSmsr, {}}, "mno-a");
  EXPECT_EQ(r.answer.subject_code, codes::kIccidUnknown.subject);
  r = svc_->handle(es2::UpdateSubscriptionAddress{kEid, kIccidB, kSmsr, {"491701234567", ""}}, "mno-a");
  EXPECT_EQ(r.answer.subject_code, codes::kIccidUnknown.subject);

  ASSERT_TRUE(svc_->handle(download(kIccidA), "mno-a").answer.accepted());
  r = svc_->handle(download(kIccidA), "mno-a");  // taken already
  EXPECT_EQ(r.answer.subject_code, codes::kIccidInUse.subject);
  EXPECT_EQ(r.answer.reason_code, codes::kIccidInUse.reason);
  EXPECT_TRUE(port_.calls.empty());  // nothing ran yet: the answer came at once
}

TEST_F(Es2ServiceTest, SmsrUnreachableReturnsTheProfileAndTellsTheMno) {
  auto r = svc_->handle(download(kIccidA), "mno-a");
  ASSERT_TRUE(r.answer.accepted());
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Reserved);
  auto ran = svc_->run_next();
  ASSERT_TRUE(ran && *ran);
  EXPECT_FALSE(*svc_->run_next());
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Available);
  auto cbs = callbacks();
  ASSERT_EQ(cbs.size(), 1u);
  EXPECT_EQ(cbs[0].first.recipient, "mno-a");
  EXPECT_EQ(cbs[0].first.destination, "https://mno-a.example/callbacks");
  const auto& res = std::get<es2::Result>(cbs[0].second);
  EXPECT_EQ(res.function, es2::Function::DownloadProfile);
  EXPECT_EQ(res.operation_id, r.answer.operation_id);
  EXPECT_EQ(res.iccid, kIccidA);
  EXPECT_EQ(res.status, "Failed");
  EXPECT_EQ(cbs[0].first.ref, res.call_id);
  // The profile may be downloaded again.
  EXPECT_TRUE(svc_->handle(download(kIccidA), "mno-a").answer.accepted());
}

TEST_F(Es2ServiceTest, FailureAfterCreateIsdpDeletesItAndReturnsTheProfile) {
  es3::Result eis = ok();
  eis.eis = json{{"eid", kEid}, {"ecasd", {{"certificate", "3082"}}}};
  port_.answers[es3::Function::GetEis] = eis;
  es3::Result created = ok();
  created.isdp_aid = from_hex("A0000005591010FFFFFFFF8900001100").value();
  port_.answers[es3::Function::CreateIsdp] = created;
  port_.answers[es3::Function::DeleteIsdp] = ok();
  ASSERT_TRUE(svc_->handle(download(kIccidA), "mno-a").answer.accepted());
  ASSERT_TRUE(*svc_->run_next());
  // The ECASD certificate is no certificate: the key establishment fails.
  EXPECT_EQ(port_.calls.back(), es3::Function::DeleteIsdp);
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Available);
  EXPECT_EQ(std::get<es2::Result>(callbacks().at(0).second).status, "Failed");
}

TEST_F(Es2ServiceTest, AnIsdpLeftBehindQuarantinesTheProfile) {
  es3::Result eis = ok();
  eis.eis = json{{"eid", kEid}, {"ecasd", {{"certificate", "3082"}}}};
  port_.answers[es3::Function::GetEis] = eis;
  es3::Result created = ok();
  created.isdp_aid = from_hex("A0000005591010FFFFFFFF8900001100").value();
  port_.answers[es3::Function::CreateIsdp] = created;
  port_.answers[es3::Function::DeleteIsdp] = failed(codes::kEuiccRefused);
  ASSERT_TRUE(svc_->handle(download(kIccidA), "mno-a").answer.accepted());
  ASSERT_TRUE(*svc_->run_next());
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Quarantined);
  EXPECT_EQ(std::get<es2::Result>(callbacks().at(0).second).status, "Failed");
  EXPECT_EQ(svc_->handle(download(kIccidA), "mno-a").answer.subject_code, codes::kIccidInUse.subject);
}

TEST_F(Es2ServiceTest, RelayedFunctionsPassTheSmsrResultOn) {
  port_.answers[es3::Function::EnableProfile] = ok();
  port_.answers[es3::Function::DisableProfile] = failed(codes::kPol2Refused);
  es3::Result audit = ok();
  audit.eis = json{{"eid", kEid},
                   {"profiles", json::array({json{{"iccid", kIccidA}, {"mnoId", "mno-a"}},
                                             json{{"iccid", kIccidA2}, {"mnoId", "mno-a"}},
                                             json{{"iccid", kIccidB}, {"mnoId", "mno-b"}}})}};
  port_.answers[es3::Function::AuditEis] = audit;
  const auto enable = svc_->handle(es2::EnableProfile{kEid, kIccidA, kSmsr, std::nullopt}, "mno-a");
  ASSERT_TRUE(enable.answer.accepted());
  ASSERT_TRUE(svc_->handle(es2::DisableProfile{kEid, kIccidA, kSmsr, 60}, "mno-a").answer.accepted());
  ASSERT_TRUE(svc_->handle(es2::AuditEis{kEid, kSmsr, {kIccidA}, std::nullopt}, "mno-a").answer.accepted());
  while (*svc_->run_next()) {
  }
  EXPECT_EQ(port_.calls, (std::vector<es3::Function>{es3::Function::EnableProfile, es3::Function::DisableProfile,
                                                     es3::Function::AuditEis}));
  auto cbs = callbacks();
  ASSERT_EQ(cbs.size(), 3u);
  const auto& e = std::get<es2::Result>(cbs[0].second);
  EXPECT_EQ(e.function, es2::Function::EnableProfile);
  EXPECT_EQ(e.operation_id, enable.answer.operation_id);
  EXPECT_EQ(e.status, "Executed-Success");
  const auto& d = std::get<es2::Result>(cbs[1].second);
  EXPECT_EQ(d.status, "Failed");
  EXPECT_EQ(d.subject_code, codes::kPol2Refused.subject);
  const auto& a = std::get<es2::Result>(cbs[2].second);
  ASSERT_TRUE(a.eis);
  ASSERT_EQ((*a.eis)["profiles"].size(), 1u);  // limited to the iccidList
  EXPECT_EQ((*a.eis)["profiles"][0]["iccid"], kIccidA);
}

TEST_F(Es2ServiceTest, AuditEisShowsOnlyTheCallersProfiles) {
  es3::Result audit = ok();
  audit.eis = json{{"eid", kEid},
                   {"profiles", json::array({json{{"iccid", kIccidA}, {"mnoId", "mno-a"}},
                                             json{{"iccid", kIccidB}, {"mnoId", "mno-b"}}})}};
  port_.answers[es3::Function::AuditEis] = audit;
  ASSERT_TRUE(svc_->handle(es2::AuditEis{kEid, kSmsr, {}, 60}, "mno-b").answer.accepted());
  ASSERT_TRUE(*svc_->run_next());
  const auto cbs = callbacks();
  ASSERT_EQ(cbs.size(), 1u);
  const auto& a = std::get<es2::Result>(cbs[0].second);
  EXPECT_EQ(a.function, es2::Function::AuditEis);
  EXPECT_EQ(a.status, "Executed-Success");
  ASSERT_TRUE(a.eis);
  ASSERT_EQ((*a.eis)["profiles"].size(), 1u);  // mno-a's profile is not shown to mno-b
  EXPECT_EQ((*a.eis)["profiles"][0]["iccid"], kIccidB);
}

/// GetEIS: answered at once with the EIS limited to the caller's profiles.
TEST_F(Es2ServiceTest, GetEisShowsOnlyTheCallersProfiles) {
  es3::Result got = ok();
  got.eis = json{{"eid", kEid},
                 {"profiles", json::array({json{{"iccid", kIccidA}, {"mnoId", "mno-a"}},
                                           json{{"iccid", kIccidB}, {"mnoId", "mno-b"}}})}};
  port_.answers[es3::Function::GetEis] = got;
  for (const auto& [mno, iccid] : {std::pair{"mno-a", kIccidA}, std::pair{"mno-b", kIccidB}}) {
    const auto r = svc_->handle(es2::GetEis{kEid, kSmsr}, mno);
    EXPECT_EQ(r.answer.status, "Executed-Success");
    ASSERT_TRUE(r.answer.eis);
    ASSERT_EQ((*r.answer.eis)["profiles"].size(), 1u) << *r.answer.eis;
    EXPECT_EQ((*r.answer.eis)["profiles"][0]["iccid"], iccid);
  }
}

/// ES2 UpdatePolicyRules and UpdateSubscriptionAddress: relayed as their ES3
/// counterparts, executed at once, the SM-SR's status the MNO's answer.
TEST_F(Es2ServiceTest, UpdatesAreRelayedAndAnsweredAtOnce) {
  const std::vector<m2m::PolicyRule> pol2 = {
      m2m::PolicyRule{m2m::PolicyAction::Disable, m2m::PolicyQualification::NotAllowed}};
  // The SM-SR unreachable: an execution error, nothing queued.
  auto r = svc_->handle(es2::UpdatePolicyRules{kEid, kIccidA, kSmsr, pol2}, "mno-a");
  EXPECT_FALSE(r.answer.accepted());
  EXPECT_EQ(r.answer.status, "Failed");
  EXPECT_EQ(r.answer.subject_code, codes::kExecutionError.subject);

  port_.answers[es3::Function::UpdatePolicyRules] = ok();
  port_.answers[es3::Function::UpdateSubscriptionAddress] = failed(codes::kIccidUnknown);
  r = svc_->handle(es2::UpdatePolicyRules{kEid, kIccidA, kSmsr, pol2}, "mno-a");
  EXPECT_FALSE(r.answer.accepted());
  EXPECT_EQ(r.answer.status, "Executed-Success");
  EXPECT_FALSE(r.answer.eis);
  // The SM-SR's refusal (the ISD-P is not this SM-DP's there) passes on with its codes.
  r = svc_->handle(es2::UpdateSubscriptionAddress{kEid, kIccidA, kSmsr, {"491701234567", ""}}, "mno-a");
  EXPECT_EQ(r.answer.status, "Failed");
  EXPECT_EQ(r.answer.subject_code, codes::kIccidUnknown.subject);
  EXPECT_EQ(r.answer.reason_code, codes::kIccidUnknown.reason);
  // Another MNO's profile never reaches the SM-SR.
  r = svc_->handle(es2::UpdatePolicyRules{kEid, kIccidB, kSmsr, pol2}, "mno-a");
  EXPECT_EQ(r.answer.subject_code, codes::kIccidUnknown.subject);
  EXPECT_EQ(port_.calls, (std::vector<es3::Function>{es3::Function::UpdatePolicyRules, es3::Function::UpdatePolicyRules,
                                                     es3::Function::UpdateSubscriptionAddress}));
  EXPECT_FALSE(*svc_->run_next());  // nothing was queued
  EXPECT_TRUE(callbacks().empty());
}

TEST_F(Es2ServiceTest, GetEisIsAnsweredAtOnce) {
  auto r = svc_->handle(es2::GetEis{kEid, kSmsr}, "mno-a");  // SM-SR unreachable
  EXPECT_EQ(r.answer.status, "Failed");
  EXPECT_EQ(r.answer.subject_code, codes::kExecutionError.subject);
  es3::Result eis = ok();
  eis.eis = json{{"eid", kEid}};
  port_.answers[es3::Function::GetEis] = eis;
  r = svc_->handle(es2::GetEis{kEid, kSmsr}, "mno-a");
  EXPECT_EQ(r.answer.status, "Executed-Success");
  ASSERT_TRUE(r.answer.eis);
  EXPECT_EQ((*r.answer.eis)["eid"], kEid);
  port_.answers[es3::Function::GetEis] = failed(codes::kEidUnknown);
  r = svc_->handle(es2::GetEis{kEid, kSmsr}, "mno-a");
  EXPECT_EQ(r.answer.subject_code, codes::kEidUnknown.subject);
  EXPECT_EQ(r.answer.reason_code, codes::kEidUnknown.reason);
}

TEST_F(Es2ServiceTest, TheWorkerRunsWhatIsAccepted) {
  port_.answers[es3::Function::EnableProfile] = ok();
  svc_->start();
  ASSERT_TRUE(svc_->handle(es2::EnableProfile{kEid, kIccidA, kSmsr, std::nullopt}, "mno-a").answer.accepted());
  // Waits for the callback (not a timing assertion: the bound is generous).
  for (int i = 0; i < 1000 && callbacks().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  svc_->stop();
  ASSERT_EQ(callbacks().size(), 1u);
  EXPECT_EQ(std::get<es2::Result>(callbacks()[0].second).status, "Executed-Success");
}

TEST_F(Es2ServiceTest, FunctionsOnAProfileStillDownloadingAreRefusedForItsState) {
  // DownloadProfile accepted, not yet run: the profile is reserved.
  ASSERT_TRUE(svc_->handle(download(kIccidA), "mno-a").answer.accepted());
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Reserved);
  const es2::Request requests[] = {es2::DeleteIsdp{kEid, kIccidA, kSmsr, std::nullopt},
                                   es2::EnableProfile{kEid, kIccidA, kSmsr, std::nullopt},
                                   es2::DisableProfile{kEid, kIccidA, kSmsr, std::nullopt}};
  for (const auto& r : requests) {
    auto reply = svc_->handle(r, "mno-a");
    EXPECT_EQ(reply.answer.status, "Failed");
    EXPECT_EQ(reply.answer.subject_code, codes::kProfileInvalidTransition.subject);
    EXPECT_EQ(reply.answer.reason_code, codes::kProfileInvalidTransition.reason);
    EXPECT_FALSE(reply.storage);
  }
  EXPECT_TRUE(port_.calls.empty());  // nothing reached the SM-SR
  // Another MNO still learns nothing of it.
  auto other = svc_->handle(es2::DeleteIsdp{kEid, kIccidA, kSmsr, std::nullopt}, "mno-b");
  EXPECT_EQ(other.answer.subject_code, codes::kIccidUnknown.subject);
}

TEST_F(Es2ServiceTest, AfterAnSmsrChangeTheFunctionsGoToTheNewSmsr) {
  ASSERT_TRUE(inventory_->reserve("mno-a", kIccidA, "", kEid));
  ASSERT_TRUE(inventory_->settle(kIccidA, ProfileState::Downloaded));
  port_.answers[es3::Function::EnableProfile] = ok();
  port2_.answers[es3::Function::EnableProfile] = ok();
  port2_.answers[es3::Function::AuditEis] = ok();
  port2_.answers[es3::Function::GetEis] = ok();
  // Before any change the eUICC's SM-SR is whichever configured one the MNO names.
  ASSERT_TRUE(svc_->handle(es2::EnableProfile{kEid, kIccidA, kSmsr, std::nullopt}, "mno-a").answer.accepted());
  while (*svc_->run_next()) {
  }
  EXPECT_EQ(port_.calls, (std::vector<es3::Function>{es3::Function::EnableProfile}));

  // The new SM-SR's notification moved the eUICC to smsr-2.
  ASSERT_TRUE(inventory_->record_smsr(kEid, kSmsr2));
  auto old = svc_->handle(es2::EnableProfile{kEid, kIccidA, kSmsr, std::nullopt}, "mno-a");
  EXPECT_EQ(old.answer.status, "Failed");
  EXPECT_EQ(old.answer.subject_code, es2_codes::kNotTheEuiccsSmsr.subject);
  EXPECT_EQ(old.answer.reason_code, es2_codes::kNotTheEuiccsSmsr.reason);
  auto unknown = svc_->handle(es2::EnableProfile{kEid, kIccidA, "smsr-9", std::nullopt}, "mno-a");
  EXPECT_EQ(unknown.answer.subject_code, es2_codes::kSmsrUnknown.subject);
  EXPECT_EQ(unknown.answer.reason_code, es2_codes::kSmsrUnknown.reason);

  const auto enable = svc_->handle(es2::EnableProfile{kEid, kIccidA, kSmsr2, std::nullopt}, "mno-a");
  ASSERT_TRUE(enable.answer.accepted());
  ASSERT_TRUE(svc_->handle(es2::AuditEis{kEid, kSmsr2, {}, std::nullopt}, "mno-a").answer.accepted());
  while (*svc_->run_next()) {
  }
  EXPECT_EQ(svc_->handle(es2::GetEis{kEid, kSmsr2}, "mno-a").answer.status, "Executed-Success");
  EXPECT_EQ(port2_.calls, (std::vector<es3::Function>{es3::Function::EnableProfile, es3::Function::AuditEis,
                                                      es3::Function::GetEis}));
  EXPECT_EQ(port_.calls.size(), 1u);  // nothing more reached the old SM-SR
  auto cbs = callbacks();
  ASSERT_EQ(cbs.size(), 3u);
  EXPECT_EQ(std::get<es2::Result>(cbs[1].second).operation_id, enable.answer.operation_id);
  EXPECT_EQ(std::get<es2::Result>(cbs[1].second).status, "Executed-Success");
}

}  // namespace
}  // namespace rsp::smdp::testing
