// The SM-SR's ES1/ES4 functions: RegisterEIS by its EUM only; GetEIS shows
// an MNO its own profiles and no key; ownership, states and POL2 refuse
// before anything is queued; an accepted operation queues its scripts,
// wakes the eUICC up, completes into the EIS or expires on the clock; every
// call is in the audit trail.
#include "rsp/smsr/service.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "rsp/m2m/es3.hpp"
#include "rsp/smsr/eis_audit.hpp"
#include "rsp/smsr/es3_service.hpp"

#include "fixture.hpp"

namespace rsp::smsr::testing {
namespace {

using m2m::ExecutionStatus;
using m2m::ProfileState;
namespace codes = m2m::codes;

const std::string kEid = "89049032123451234512345678901235";
const std::string kBoot = "8944000000000000011";  // mno1, Enabled, fallback, POL2 disable not allowed
const std::string kSecond = "8944000000000000029";  // mno1, Disabled
const std::string kOther = "8933000000000000037";   // mno2, Disabled, auto-delete

class ServiceTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ServiceConfig c;
    c.registry = registry_;
    c.clock = clock_;
    c.default_validity = std::chrono::seconds(600);
    c.scripts = [](const Operation& op, const m2m::Eis&) {
      return std::vector<Bytes>{as_bytes_copy(op.function), Bytes{0x00, 0xA4}};
    };
    c.wake_up = [this](const std::string& eid) { woken_.push_back(eid); };
    service_ = std::make_unique<Service>(std::move(c));
    ASSERT_TRUE(service_->register_eis("EUM-TEST", sample()));
  }
  static Bytes as_bytes_copy(const std::string& s) { return Bytes(s.begin(), s.end()); }
  m2m::Eis stored() { return **registry_->eis(kEid); }
  template <class T>
  void expect_refused(const SmsrResult<T>& r, m2m::Code code) {
    ASSERT_FALSE(r);
    EXPECT_TRUE(is(r.error(), code)) << r.error().subject_code << "/" << r.error().reason_code << " "
                                     << r.error().message;
  }
  std::size_t queued() { return registry_->queued_scripts(kEid)->size(); }

  std::unique_ptr<Service> service_;
  std::vector<std::string> woken_;
};

TEST_P(ServiceTest, RegisterEisOnlyByItsEum) {
  expect_refused(service_->register_eis("EUM-OTHER", sample("89049032123451234512345678901000")),
                 codes::kRequesterNotAllowed);
  expect_refused(service_->register_eis("EUM-TEST", sample()), codes::kEidInUse);
  auto trail = *registry_->audit_trail(kEid);
  ASSERT_GE(trail.size(), 2u);
  EXPECT_EQ(trail[0].function, "ES1.RegisterEIS");
  EXPECT_EQ(trail[0].result, "Executed-Success");
  EXPECT_EQ(trail.back().result, "Failed 8.1.1/3.3");
}

TEST_P(ServiceTest, RegisterEisChecksTheEcasdCertificateWhenAsked) {
  ServiceConfig c;
  c.registry = registry_;
  c.check_ecasd = [](const m2m::Eis&) { return std::optional<std::string>("does not chain to the EUM root"); };
  Service strict(std::move(c));
  expect_refused(strict.register_eis("EUM-TEST", sample("89049032123451234512345678901000")),
                 codes::kEcasdCertificateInvalid);
}

TEST_P(ServiceTest, GetEisShowsAnMnoItsOwnProfilesAndNoKey) {
  auto mine = service_->get_eis("mno1", kEid);
  ASSERT_TRUE(mine) << mine.error().message;
  ASSERT_EQ(mine->profiles.size(), 2u);
  for (const auto& p : mine->profiles) EXPECT_EQ(p.mno_id, "mno1");
  EXPECT_TRUE(mine->isd_r.scp80_key_sets.empty());
  EXPECT_FALSE(mine->isd_r.scp81_psk);
  auto theirs = service_->get_eis("mno2", kEid);
  ASSERT_EQ(theirs->profiles.size(), 1u);
  EXPECT_EQ(theirs->profiles[0].iccid, kOther);
  // An MNO with no profile there, and an unknown EID, get the same answer.
  expect_refused(service_->get_eis("mno3", kEid), codes::kEidUnknown);
  expect_refused(service_->get_eis("mno1", "89049032123451234512345678901000"), codes::kEidUnknown);
}

TEST_P(ServiceTest, EnableIsRefusedByThePol2OfTheEnabledProfile) {
  // The bootstrap profile is enabled and may not be disabled, so nothing else may be enabled.
  expect_refused(service_->enable_profile("mno1", kEid, kSecond, std::nullopt), codes::kPol2Refused);
  expect_refused(service_->disable_profile("mno1", kEid, kBoot, std::nullopt), codes::kPol2Refused);
  EXPECT_EQ(queued(), 0u);
  EXPECT_TRUE(woken_.empty());
  EXPECT_EQ(registry_->audit_trail(kEid)->back().result, "Failed 8.2.2/3.8");
  EXPECT_EQ(registry_->audit_trail(kEid)->back().isdp_aid, "A0000005591010FFFFFFFF8900001000");
}

TEST_P(ServiceTest, OwnershipAndStatesAreChecked) {
  expect_refused(service_->enable_profile("mno1", kEid, kOther, std::nullopt), codes::kIccidUnknown);
  expect_refused(service_->enable_profile("mno1", kEid, "8944000000000000999", std::nullopt), codes::kIccidUnknown);
  expect_refused(service_->enable_profile("mno1", "89049032123451234512345678901000", kSecond, std::nullopt),
                 codes::kEidUnknown);
  expect_refused(service_->disable_profile("mno1", kEid, kSecond, std::nullopt), codes::kProfileInvalidTransition);
  expect_refused(service_->delete_profile("mno1", kEid, kBoot, std::nullopt), codes::kProfileInvalidTransition);
  expect_refused(service_->update_policy_rules("mno2", kEid, kBoot, {}), codes::kIccidUnknown);
  expect_refused(service_->set_fallback_attribute("mno2", kEid, kSecond, std::nullopt), codes::kIccidUnknown);
  expect_refused(service_->set_fallback_attribute("mno2", kEid, kOther, 0), codes::kInvalidRequest);
  expect_refused(service_->audit_eis("mno2", kEid, 8 * 24 * 3600), codes::kInvalidRequest);
  EXPECT_EQ(queued(), 0u);
}

TEST_P(ServiceTest, UpdatePolicyRulesThenEnableIsAcceptedQueuedAndCompleted) {
  ASSERT_TRUE(service_->update_policy_rules("mno1", kEid, kBoot, {}));
  EXPECT_TRUE(stored().profile(kBoot)->pol2.empty());
  auto acc = service_->enable_profile("mno1", kEid, kSecond, 120);
  ASSERT_TRUE(acc) << acc.error().message;
  EXPECT_EQ(acc->expires_at, 1'800'000'120);
  EXPECT_EQ(woken_, std::vector<std::string>{kEid});
  EXPECT_EQ(queued(), 2u);
  // Nothing changes before the eUICC answers.
  EXPECT_EQ(stored().profile(kSecond)->state, ProfileState::Disabled);
  auto op = service_->operation("mno1", acc->operation_id);
  ASSERT_TRUE(op);
  EXPECT_EQ(op->state, OperationState::Accepted);
  expect_refused(service_->operation("mno2", acc->operation_id), codes::kInvalidRequest);
  ASSERT_TRUE(service_->complete(acc->operation_id, ExecutionStatus::ExecutedSuccess));
  EXPECT_EQ(stored().profile(kSecond)->state, ProfileState::Enabled);
  EXPECT_EQ(stored().profile(kBoot)->state, ProfileState::Disabled);
  EXPECT_EQ(service_->operation("mno1", acc->operation_id)->state, OperationState::Completed);
  EXPECT_EQ(queued(), 0u);
  EXPECT_FALSE(service_->complete(acc->operation_id, ExecutionStatus::ExecutedSuccess));
}

TEST_P(ServiceTest, DisableFallsBackAndAutoDeleteDeletes) {
  ASSERT_TRUE(service_->update_policy_rules("mno1", kEid, kBoot, {}));
  // mno2's profile (auto-delete) gets enabled, then disabled: it falls back to the bootstrap and goes.
  auto en = *service_->enable_profile("mno2", kEid, kOther, std::nullopt);
  ASSERT_TRUE(service_->complete(en.operation_id, ExecutionStatus::ExecutedSuccess));
  EXPECT_EQ(stored().profile(kOther)->state, ProfileState::Enabled);
  auto dis = service_->disable_profile("mno2", kEid, kOther, std::nullopt);
  ASSERT_TRUE(dis) << dis.error().message;
  ASSERT_TRUE(service_->complete(dis->operation_id, ExecutionStatus::ExecutedSuccess));
  EXPECT_EQ(stored().profile(kOther), nullptr);
  EXPECT_EQ(stored().profile(kBoot)->state, ProfileState::Enabled);
}

TEST_P(ServiceTest, TheSmdpOfAProfileDisabledOrDeletedByAnMnoIsNotified) {
  // kBoot was downloaded by SMDP-TEST (its smdpId in the EIS).
  ASSERT_TRUE(service_->update_policy_rules("mno1", kEid, kBoot, {}));
  auto en = *service_->enable_profile("mno1", kEid, kSecond, std::nullopt);
  ASSERT_TRUE(service_->complete(en.operation_id, ExecutionStatus::ExecutedSuccess));
  const auto notes = [&] {
    std::vector<m2m::es3::Notification> out;
    auto due = registry_->outbox()->due(100);  // held: a range-for over *due(100) would outlive it
    EXPECT_TRUE(due);
    if (!due) return out;
    for (const auto& item : *due) {
      if (item.recipient != "SMDP-TEST") continue;
      auto n = m2m::es3::decode_notification(item.body);
      EXPECT_TRUE(n) << item.body;
      if (n) out.push_back(*n);
    }
    return out;
  };
  auto got = notes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].function, m2m::es3::NotificationFunction::ProfileDisabled);
  EXPECT_EQ(got[0].iccid, kBoot);
  EXPECT_EQ(got[0].eid, kEid);
  EXPECT_EQ(got[0].completion_timestamp, "2027-01-15T08:00:00Z");
  // The enabled profile has no SM-DP: nobody else is told; an enable is
  // told when the eUICC confirms it (ES5), not by the operation. Nor does
  // an attribute moving change a state.
  auto fb = *service_->set_fallback_attribute("mno1", kEid, kSecond, std::nullopt);
  ASSERT_TRUE(service_->complete(fb.operation_id, ExecutionStatus::ExecutedSuccess));
  EXPECT_EQ(notes().size(), 1u);
  auto del = service_->delete_profile("mno1", kEid, kBoot, std::nullopt);
  ASSERT_TRUE(del) << del.error().message;
  ASSERT_TRUE(service_->complete(del->operation_id, ExecutionStatus::ExecutedSuccess));
  got = notes();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].function, m2m::es3::NotificationFunction::ProfileDeleted);
  EXPECT_EQ(got[1].iccid, kBoot);
  EXPECT_NE(got[0].call_id, got[1].call_id);
  // A failed operation tells no SM-DP anything.
  auto again = *service_->enable_profile("mno2", kEid, kOther, std::nullopt);
  ASSERT_TRUE(service_->complete(again.operation_id, ExecutionStatus::Failed, codes::kEuiccRefused));
  EXPECT_EQ(notes().size(), 2u);
}

TEST_P(ServiceTest, AnAuditFindingTheCardChangedTellsThoseConcernedOnce) {
  // The card says: kBoot (mno1, through SMDP-TEST) disabled, kSecond (mno1,
  // pre-installed) enabled, kOther (mno2, pre-installed) gone; the EIS says
  // kBoot enabled and the other two disabled. mno2 asked for the audit.
  const auto aid = [&](const std::string& iccid) { return stored().profile(iccid)->isdp_aid; };
  EisAudit found;
  found.isdps = {{aid(kBoot), m2m::IsdpState::kDisabled, {}, true, false, 0},
                 {aid(kSecond), m2m::IsdpState::kEnabled, {}, false, false, 0}};
  auto acc = service_->audit_eis("mno2", kEid, std::nullopt);
  ASSERT_TRUE(acc) << acc.error().message;
  ASSERT_TRUE(service_->complete(acc->operation_id, ExecutionStatus::ExecutedSuccess, {}, &found));
  EXPECT_EQ(stored().profile(kBoot)->state, ProfileState::Disabled);
  EXPECT_EQ(stored().profile(kSecond)->state, ProfileState::Enabled);
  EXPECT_EQ(stored().profile(kOther), nullptr);

  std::vector<std::pair<std::string, std::string>> told;  // recipient, function
  auto due = registry_->outbox()->due(100);
  ASSERT_TRUE(due);
  for (const auto& item : *due) {
    const auto body = nlohmann::json::parse(item.body);
    told.emplace_back(item.recipient, body.value("function", "") + " " + body.value("iccid", ""));
  }
  std::sort(told.begin(), told.end());
  // The SM-DP hears of its profile (ES3; it tells mno1 over ES2), mno1 of
  // its pre-installed one over ES4, nothing twice; mno2, the caller, has
  // the audit's result (its own profile's deletion in the EIS it carries).
  EXPECT_EQ(told, (std::vector<std::pair<std::string, std::string>>{
                      {"SMDP-TEST", "ES3.HandleProfileDisabledNotification " + kBoot},
                      {"mno1", "ES4.HandleProfileEnabledNotification " + kSecond},
                      {"mno2", "ES4.AuditEIS "}}));

  // The same by the SM-DP's own ES3 AuditEIS would not tell it about its
  // profiles (it has the result); a later audit finding kBoot enabled again
  // tells it that too (an enable found by an audit, no eUICC notification).
  found.isdps[0].state = m2m::IsdpState::kEnabled;
  found.isdps[1].state = m2m::IsdpState::kDisabled;
  auto again = service_->audit_eis("mno1", kEid, std::nullopt);
  ASSERT_TRUE(again);
  ASSERT_TRUE(service_->complete(again->operation_id, ExecutionStatus::ExecutedSuccess, {}, &found));
  due = registry_->outbox()->due(100);
  ASSERT_TRUE(due);
  std::size_t enabled_to_smdp = 0, to_mno1 = 0;
  for (const auto& item : *due) {
    if (item.recipient == "SMDP-TEST" &&
        item.body.find("ES3.HandleProfileEnabledNotification") != std::string::npos)
      ++enabled_to_smdp;
    if (item.recipient == "mno1" && item.body.find("Handle") != std::string::npos) ++to_mno1;
  }
  EXPECT_EQ(enabled_to_smdp, 1u);
  EXPECT_EQ(to_mno1, 1u);  // only the first audit's; mno1 asked for this one
}

TEST_P(ServiceTest, Es3FunctionsOnAnIsdpStillBeingCreatedAreRefusedAsItsState) {
  ServiceConfig c;
  c.registry = registry_;
  c.clock = clock_;
  c.default_validity = std::chrono::seconds(600);
  c.scripts = [](const Operation& op, const m2m::Eis&) { return std::vector<Bytes>{as_bytes_copy(op.function)}; };
  Es3Service es3(std::move(c));
  const std::string iccid = "8944000000000000045";
  auto created = es3.create_isdp("SMDP-TEST", {kEid, iccid, "mno1", 4096, false, std::nullopt});
  ASSERT_TRUE(created) << created.error().message;
  // The SM-DP's rollback (DeleteISDP) and any other function while the
  // CreateISDP is open: refused for the ISD-P's state, not as unknown.
  for (auto f : {m2m::es3::Function::DeleteIsdp, m2m::es3::Function::EnableProfile,
                 m2m::es3::Function::DisableProfile})
    expect_refused(es3.on_profile("SMDP-TEST", f, kEid, iccid, std::nullopt), codes::kProfileInvalidTransition);
  // Another SM-DP does not see it at all; an ICCID nobody creates is unknown.
  expect_refused(es3.on_profile("SMDP-OTHER", m2m::es3::Function::DeleteIsdp, kEid, iccid, std::nullopt),
                 codes::kIccidUnknown);
  expect_refused(es3.on_profile("SMDP-TEST", m2m::es3::Function::DeleteIsdp, kEid, "8944000000000000052",
                                std::nullopt),
                 codes::kIccidUnknown);
  // Once the CreateISDP ended (here: failed, no ISD-P), the ICCID is unknown again.
  ASSERT_TRUE(service_->complete(created->operation_id, ExecutionStatus::Failed, codes::kEuiccRefused));
  expect_refused(es3.on_profile("SMDP-TEST", m2m::es3::Function::DeleteIsdp, kEid, iccid, std::nullopt),
                 codes::kIccidUnknown);
}

TEST_P(ServiceTest, AFailedOperationChangesNothing) {
  auto del = *service_->delete_profile("mno1", kEid, kSecond, std::nullopt);
  ASSERT_TRUE(service_->complete(del.operation_id, ExecutionStatus::Failed, {"8.2", "4.2"}));
  EXPECT_NE(stored().profile(kSecond), nullptr);
  auto op = *service_->operation("mno1", del.operation_id);
  EXPECT_EQ(op.state, OperationState::Failed);
  EXPECT_EQ(op.subject_code, "8.2");
}

TEST_P(ServiceTest, AttributesMoveToTheTargetProfile) {
  auto fb = *service_->set_fallback_attribute("mno1", kEid, kSecond, std::nullopt);
  auto em = *service_->set_emergency_profile_attribute("mno1", kEid, kSecond, std::nullopt);
  ASSERT_TRUE(service_->complete(fb.operation_id, ExecutionStatus::ExecutedSuccess));
  ASSERT_TRUE(service_->complete(em.operation_id, ExecutionStatus::ExecutedWithWarning));
  EXPECT_TRUE(stored().profile(kSecond)->fallback_attribute);
  EXPECT_FALSE(stored().profile(kBoot)->fallback_attribute);
  EXPECT_TRUE(stored().profile(kSecond)->emergency_profile_attribute);
}

TEST_P(ServiceTest, SubscriptionAddressChangesAtOnce) {
  ASSERT_TRUE(service_->update_subscription_address("mno2", kEid, kOther, {"33612345678", ""}));
  EXPECT_EQ(stored().profile(kOther)->subscription_address.msisdn, "33612345678");
}

TEST_P(ServiceTest, OperationsExpireWhenNothingAnswers) {
  auto audit = *service_->audit_eis("mno1", kEid, 60);
  auto del = *service_->delete_profile("mno1", kEid, kSecond, 600);
  clock_->advance(std::chrono::seconds(59));
  EXPECT_EQ(*service_->expire(), 0u);
  clock_->advance(std::chrono::seconds(1));
  EXPECT_EQ(*service_->expire(), 1u);
  auto op = *service_->operation("mno1", audit.operation_id);
  EXPECT_EQ(op.state, OperationState::Expired);
  EXPECT_EQ(op.status, "Expired");
  EXPECT_EQ(service_->operation("mno1", del.operation_id)->state, OperationState::Accepted);
  // A late answer changes nothing.
  EXPECT_FALSE(service_->complete(audit.operation_id, ExecutionStatus::ExecutedSuccess));
  EXPECT_EQ(registry_->audit_trail(kEid)->back().result,
            "operation " + std::to_string(audit.operation_id) + " Expired");
  expect_refused(service_->audit_eis("mno3", kEid, std::nullopt), codes::kEidUnknown);
}

INSTANTIATE_TEST_SUITE_P(Engines, ServiceTest, ::testing::Values("sqlite", "postgresql"), engine_name);

}  // namespace
}  // namespace rsp::smsr::testing
