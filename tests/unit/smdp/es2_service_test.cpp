// The M2M SM-DP's inventory and ES2 functions with the SM-SR's ES3 port
// faked in process: packages sealed at rest, profiles picked only from the
// calling MNO's, refusals with their codes, DownloadProfile accepted at once
// and its result called back through the outbox, a failed download's
// profile returned to the inventory (or quarantined when its ISD-P stayed),
// relayed functions passing the SM-SR's result on, a restart ending what
// was pending (a download it resumed or rolled back reported as it ended);
// the SM-SR's ES3 notifications recorded in the inventory and passed on to
// the MNO once, on a route that takes the SM-SR's client certificate only;
// the ES3 results kept bounded. The download against the real SM-SR is in
// tests/unit/smsr/es3_link_test.cpp (Es2DownloadTest).
#include <gtest/gtest.h>

#include <thread>

#include "rsp/crypto/random.hpp"
#include "rsp/m2m/es_status.hpp"
#include "rsp/smdp/es2_http.hpp"
#include "rsp/smdp/es2_service.hpp"
#include "rsp/store/open.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::smdp {
namespace {

namespace es2 = m2m::es2;
namespace es3 = m2m::es3;
namespace codes = m2m::codes;
using nlohmann::json;

const std::string kEid = "89049032123451234512345678901235";
const std::string kIccidA = "8900100000000000001";
const std::string kIccidA2 = "8900100000000000019";
const std::string kIccidB = "8900200000000000002";
const std::string kSmsr = "smsr-1";
const std::string kSmsr2 = "smsr-2";

/// An ES3 port answering from a table the test sets; every call recorded.
class FakePort : public Es3Port {
 public:
  std::map<es3::Function, es3::Result> answers;
  std::vector<es3::Function> calls;
  expected<es3::Result, std::string> call(const es3::Request& r) override {
    std::lock_guard lock(mu_);
    const auto f = es3::function_of(r);
    calls.push_back(f);
    auto it = answers.find(f);
    if (it == answers.end()) return unexpected(std::string("the SM-SR could not be reached"));
    return it->second;
  }

 private:
  std::mutex mu_;
};

es3::Result ok() {
  es3::Result r;
  r.status = "Executed-Success";
  return r;
}
es3::Result failed(m2m::Code c) {
  es3::Result r;
  r.status = "Failed";
  r.subject_code = c.subject;
  r.reason_code = c.reason;
  return r;
}

es2::Answer decode_answer_or_empty(const std::string& body) {
  auto a = es2::decode_answer(body);
  EXPECT_TRUE(a) << body;
  return a ? *a : es2::Answer{};
}

Bytes package(std::uint8_t fill) {
  Bytes b(200, fill);
  b[0] = 0xA0;  // a SAIP package starts with its ProfileHeader
  return b;
}

class Es2ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kek = service::KeyEncryptionKey::make(Bytes(32, 0x5A));
    ASSERT_TRUE(kek);
    kek_ = std::make_shared<const service::KeyEncryptionKey>(std::move(*kek));
    open_all();
    auto& rng = crypto::system_random();
    ASSERT_TRUE(inventory_->add(kIccidA, "m2m-data", "mno-a", package(0x11), rng));
    ASSERT_TRUE(inventory_->add(kIccidA2, "m2m-data", "mno-a", package(0x12), rng));
    ASSERT_TRUE(inventory_->add(kIccidB, "m2m-data", "mno-b", package(0x22), rng));
  }
  void TearDown() override {
    if (svc_) svc_->stop();
  }

  void open_all() {
    svc_.reset();
    auto db = store::open_database((tmp_.path() / "smdp.db").string());
    ASSERT_TRUE(db);
    db_ = std::shared_ptr<store::Database>(std::move(*db));
    auto inv = Inventory::open(db_, kek_);
    ASSERT_TRUE(inv) << inv.error().message;
    inventory_ = std::move(*inv);
    auto outbox = service::SqlOutbox::open(db_, std::string(kMnoCallbackOutbox), clock_);
    ASSERT_TRUE(outbox);
    outbox_ = *outbox;
    Es2ServiceConfig config(
        kSmsr, DownloadConfig{DpIdentity{{}, crypto::EcKey::generate(crypto::Curve::NistP256).value()}, {}, 8, {}});
    config.callback_url = [](const std::string& mno) { return "https://" + mno + ".example/callbacks"; };
    config.smsr_port = [this](const std::string& id) -> Es3Port* { return id == kSmsr2 ? &port2_ : nullptr; };
    auto svc = Es2Service::open(std::move(config), db_, inventory_, port_, outbox_);
    ASSERT_TRUE(svc) << svc.error();
    svc_ = std::move(*svc);
  }

  ProfileState state_of(const std::string& mno, const std::string& iccid) {
    auto p = inventory_->get(mno, iccid);
    EXPECT_TRUE(p);
    return p ? p->state : ProfileState::Available;
  }
  /// The callbacks queued for the MNOs, decoded.
  std::vector<std::pair<service::OutboxItem, es2::Callback>> callbacks() {
    std::vector<std::pair<service::OutboxItem, es2::Callback>> out;
    auto due = outbox_->due();
    EXPECT_TRUE(due);
    for (const auto& item : *due) {
      auto c = es2::decode_callback(item.body);
      EXPECT_TRUE(c) << item.body;
      if (c) out.emplace_back(item, *c);
    }
    return out;
  }

  es2::DownloadProfile download(const std::string& iccid, bool enable = true) {
    return es2::DownloadProfile{kEid, iccid, "", kSmsr, enable, std::nullopt};
  }

  test_support::TempDir tmp_;
  service::ManualClock clock_{service::TimePoint(std::chrono::seconds(1'800'000'000))};
  std::shared_ptr<const service::KeyEncryptionKey> kek_;
  std::shared_ptr<store::Database> db_;
  std::shared_ptr<Inventory> inventory_;
  std::shared_ptr<service::SqlOutbox> outbox_;
  FakePort port_;
  FakePort port2_;  ///< the second SM-SR's (kSmsr2), where eUICCs may move
  std::unique_ptr<Es2Service> svc_;
};

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

TEST_F(Es2ServiceTest, RestartEndsAPendingDownload) {
  auto r = svc_->handle(download(kIccidA), "mno-a");
  ASSERT_TRUE(r.answer.accepted());
  ASSERT_TRUE(svc_->handle(es2::EnableProfile{kEid, kIccidA2, kSmsr, std::nullopt}, "mno-a").answer.accepted());
  open_all();  // the process stopped before the worker ran
  if (HasFatalFailure()) return;
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Quarantined);
  auto cbs = callbacks();
  ASSERT_EQ(cbs.size(), 1u);
  EXPECT_EQ(std::get<es2::Result>(cbs[0].second).operation_id, r.answer.operation_id);
  EXPECT_EQ(std::get<es2::Result>(cbs[0].second).status, "Failed");
  // The relayed function is still pending and runs.
  port_.answers[es3::Function::EnableProfile] = ok();
  ASSERT_TRUE(*svc_->run_next());
  EXPECT_EQ(callbacks().size(), 2u);
}

/// A download of kIccidA the stopped process left at `state` (its
/// DownloadProfile operation still pending).
void leave_download(const std::shared_ptr<store::Database>& db, DownloadState state, bool with_isdp = true) {
  auto table = DownloadTable::open(db);
  ASSERT_TRUE(table) << table.error();
  Download d;
  d.eid = kEid;
  d.iccid = kIccidA;
  d.state = state;
  if (with_isdp) d.isdp_aid = from_hex("A0000005591010FFFFFFFF8900001100").value();
  es3::ProfileDownloadCompleted completed{kEid, kIccidA, "m2m-data", std::nullopt, {}};
  d.request = json{{"completed", json::parse(es3::encode_request(completed))}, {"enable", true}}.dump();
  ASSERT_TRUE((*table)->create(d));
}

// Stopped once the profile was loaded: the restart completes and enables
// it, and the operation ends as that download did (downloaded, success),
// not failed with the profile quarantined.
TEST_F(Es2ServiceTest, RestartReportsAResumedDownloadAsItEnded) {
  auto r = svc_->handle(download(kIccidA), "mno-a");
  ASSERT_TRUE(r.answer.accepted());
  leave_download(db_, DownloadState::Loaded);
  port_.answers[es3::Function::ProfileDownloadCompleted] = ok();
  port_.answers[es3::Function::EnableProfile] = ok();
  open_all();
  if (HasFatalFailure()) return;
  EXPECT_EQ(port_.calls, (std::vector<es3::Function>{es3::Function::ProfileDownloadCompleted,
                                                     es3::Function::EnableProfile}));
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Downloaded);
  auto cbs = callbacks();
  ASSERT_EQ(cbs.size(), 1u);
  const auto& res = std::get<es2::Result>(cbs[0].second);
  EXPECT_EQ(res.operation_id, r.answer.operation_id);
  EXPECT_EQ(res.status, "Executed-Success");
  EXPECT_FALSE(*svc_->run_next());
}

// Stopped before the load: the restart deletes the ISD-P, so the profile
// is on no eUICC and returns to the inventory (once: the operation ends).
TEST_F(Es2ServiceTest, RestartReturnsTheProfileOfARolledBackDownload) {
  auto r = svc_->handle(download(kIccidA), "mno-a");
  ASSERT_TRUE(r.answer.accepted());
  leave_download(db_, DownloadState::KeysEstablished);
  port_.answers[es3::Function::DeleteIsdp] = ok();
  open_all();
  if (HasFatalFailure()) return;
  EXPECT_EQ(port_.calls, (std::vector<es3::Function>{es3::Function::DeleteIsdp}));
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Available);
  auto cbs = callbacks();
  ASSERT_EQ(cbs.size(), 1u);
  const auto& res = std::get<es2::Result>(cbs[0].second);
  EXPECT_EQ(res.status, "Failed");
  EXPECT_EQ(res.subject_code, codes::kExecutionError.subject);
  EXPECT_EQ(res.reason_code, codes::kExecutionError.reason);
  EXPECT_FALSE(*svc_->run_next());
  // A second restart finds nothing to end.
  open_all();
  if (HasFatalFailure()) return;
  EXPECT_EQ(callbacks().size(), 1u);
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Available);
}

// Stopped while CreateISDP was out (no AID recorded): the SM-SR may have
// made the ISD-P, so the restart asks DeleteISDP by ICCID. "Unknown ICCID"
// means nothing was made; no answer leaves the profile quarantined.
TEST_F(Es2ServiceTest, RestartDuringCreateIsdpDeletesByIccid) {
  ASSERT_TRUE(svc_->handle(download(kIccidA), "mno-a").answer.accepted());
  leave_download(db_, DownloadState::Started, false);
  port_.answers[es3::Function::DeleteIsdp] = failed(codes::kIccidUnknown);
  open_all();
  if (HasFatalFailure()) return;
  EXPECT_EQ(port_.calls, (std::vector<es3::Function>{es3::Function::DeleteIsdp}));
  EXPECT_EQ(state_of("mno-a", kIccidA), ProfileState::Available);

  ASSERT_TRUE(svc_->handle(download(kIccidA2), "mno-a").answer.accepted());
  auto table = DownloadTable::open(db_);
  ASSERT_TRUE(table);
  Download d;
  d.eid = kEid;
  d.iccid = kIccidA2;
  d.request = "{}";
  ASSERT_TRUE((*table)->create(d));
  port_.answers.erase(es3::Function::DeleteIsdp);  // the SM-SR is unreachable
  open_all();
  if (HasFatalFailure()) return;
  EXPECT_EQ(state_of("mno-a", kIccidA2), ProfileState::Quarantined);
  EXPECT_EQ(callbacks().size(), 2u);
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

net::Request post(std::string body) {
  net::Request r;
  r.method = "POST";
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

TEST_F(Es2ServiceTest, Es2RoutesCheckTheCallerAndTheBody) {
  std::shared_ptr<Es2Service> svc(std::move(svc_));
  auto routes = es2_routes(svc, {"mno-a", "mno-b"});
  ASSERT_EQ(routes.size(), std::size(es2::kFunctions));
  const auto& dl = routes[static_cast<std::size_t>(es2::Function::DownloadProfile)];
  EXPECT_EQ(dl.path, "/gsma/m2m/es2/downloadProfile");
  EXPECT_TRUE(dl.authenticated);
  const std::string body = es2::encode_request(download(kIccidA));
  const service::Caller mno_a{"mno-a", service::CallerProof::ApiKey};

  auto r = dl.handler(post(body), service::Caller{"smsr-x", service::CallerProof::ApiKey});
  EXPECT_EQ(r.subject_code, codes::kRequesterNotAllowed.subject);
  EXPECT_EQ(r.reason_code, codes::kRequesterNotAllowed.reason);
  r = dl.handler(post(R"({"smsrId":"smsr-1"})"), mno_a);
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(r.subject_code, codes::kMandatoryMissing.subject);
  EXPECT_EQ(r.reason_code, codes::kMandatoryMissing.reason);
  EXPECT_EQ(decode_answer_or_empty(r.response.body).status, "Failed");
  auto plain = post(body);
  plain.headers.clear();
  EXPECT_EQ(dl.handler(plain, mno_a).subject_code, codes::kInvalidRequest.subject);
  r = dl.handler(post(body), mno_a);
  EXPECT_EQ(r.response.status, 202);
  EXPECT_TRUE(decode_answer_or_empty(r.response.body).accepted());
  // mno-b's call for mno-a's profile.
  r = dl.handler(post(es2::encode_request(download(kIccidA2))), service::Caller{"mno-b", service::CallerProof::ApiKey});
  EXPECT_EQ(r.subject_code, codes::kIccidUnknown.subject);
  EXPECT_EQ(es2_unauthenticated_reply().response.status, 401);
  svc->stop();
}

TEST(Es3ResultsRoute, DeliversResultsAndRefusesTheRest) {
  auto results = std::make_shared<Es3Results>();
  auto route = es3_results_route(results);
  EXPECT_EQ(route.path, kEs3ResultsPath);
  EXPECT_FALSE(route.authenticated);
  EXPECT_EQ(route.handler(post("{}"), std::nullopt).response.status, 400);
  es3::Result r = ok();
  r.call_id = "op-4";
  r.function = es3::Function::EnableProfile;
  r.operation_id = 4;
  r.eid = kEid;
  EXPECT_EQ(route.handler(post(es3::encode_result(r)), std::nullopt).response.status, 200);
  auto got = results->wait(4, std::chrono::milliseconds(0));
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, r);
}

}  // namespace
}  // namespace rsp::smdp

namespace rsp::smdp {
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
    return es3::Notification{std::move(call_id), f, std::move(eid), std::move(iccid), "", "2026-12-04T17:00:00Z"};
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
  auto h = notes_->handle(note(F::ProfileEnabled, "es3-1"));
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
  h = notes_->handle(note(F::ProfileEnabled, "es3-1"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->outcome, Es3Notifications::Outcome::Duplicate);
  EXPECT_EQ(mno_notes().size(), 1u);
  // Also after a restart: the identifiers are durable.
  reopen_notifications();
  h = notes_->handle(note(F::ProfileEnabled, "es3-1"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->outcome, Es3Notifications::Outcome::Duplicate);

  // Disabled, then deleted: each recorded and told.
  ASSERT_TRUE(notes_->handle(note(F::ProfileDisabled, "es3-2")));
  EXPECT_EQ(on_card(kIccidA), EuiccState::Disabled);
  ASSERT_TRUE(notes_->handle(note(F::ProfileDeleted, "es3-3")));
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
    auto h = notes_->handle(n);
    ASSERT_TRUE(h) << h.error();
    EXPECT_EQ(h->outcome, Es3Notifications::Outcome::Ignored) << n.call_id;
  }
  EXPECT_EQ(on_card(kIccidB), EuiccState::Unknown);
  EXPECT_EQ(on_card(kIccidA), EuiccState::Unknown);
  EXPECT_TRUE(mno_notes().empty());
  // An SM-SR change of an eUICC this SM-DP downloaded nothing to: ignored,
  // no SM-SR recorded for it.
  auto change = note(F::SmsrChange, "x-4", "", "89049032123451234512345678909999");
  change.smsr_id = kSmsr2;
  auto h = notes_->handle(change);
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
  change.smsr_id = kSmsr2;
  auto h = notes_->handle(change);
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
    EXPECT_EQ(n.smsr_id, kSmsr2);
    EXPECT_TRUE(n.iccid.empty());
    EXPECT_EQ(n.completion_timestamp, "2026-12-04T17:00:00Z");
  }
  EXPECT_NE(got[0].second.call_id, got[1].second.call_id);
  // Its body names the SM-SR, not a profile.
  const auto due = outbox_->due();
  ASSERT_TRUE(due);
  EXPECT_NE(due->back().body.find("\"smsrId\":\"smsr-2\""), std::string::npos) << due->back().body;
  EXPECT_EQ(due->back().body.find("iccid"), std::string::npos) << due->back().body;
  // The SM-SR sends it again: dropped, nobody told twice.
  h = notes_->handle(change);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->outcome, Es3Notifications::Outcome::Duplicate);
  EXPECT_EQ(mno_notes().size(), 2u);
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

TEST_F(Es3NotificationsTest, ADownloadInProgressIsRecordedAndARollbackForgetsIt) {
  // The eUICC's confirmation of the enable may come before the SM-SR's
  // result: the profile is still reserved for that eUICC.
  ASSERT_TRUE(inventory_->reserve("mno-a", kIccidA2, "", kEid));
  auto h = notes_->handle(note(es3::NotificationFunction::ProfileEnabled, "es3-r", kIccidA2));
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
  auto route = es3_results_route(results, "/es3/cb", notes, std::string("smsr:smsr-1"));
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

TEST(Es3Results, KeepsABoundedNumberDroppingTheOldest) {
  Es3Results results(2);
  for (std::int64_t id : {7, 3, 9}) {
    es3::Result r = ok();
    r.call_id = "op-" + std::to_string(id);
    r.function = es3::Function::SendData;
    r.operation_id = id;
    r.eid = kEid;
    results.deliver(r);
  }
  EXPECT_EQ(results.size(), 2u);
  EXPECT_EQ(results.dropped(), 1u);
  EXPECT_FALSE(results.wait(3, std::chrono::milliseconds(0)));
  EXPECT_TRUE(results.wait(7, std::chrono::milliseconds(0)));
  EXPECT_TRUE(results.wait(9, std::chrono::milliseconds(0)));
  // A repeated result is kept once.
  es3::Result r = ok();
  r.call_id = "op-11";
  r.function = es3::Function::SendData;
  r.operation_id = 11;
  r.eid = kEid;
  results.deliver(r);
  results.deliver(r);
  EXPECT_EQ(results.size(), 1u);
}

}  // namespace
}  // namespace rsp::smdp
