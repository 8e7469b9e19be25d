// The SM-SR change (SGP.02 §3.8, ES7) with two SM-SRs and one device in one
// process: each SM-SR has its registry, ES4 service, ES5 link and PSK-TLS
// administration server; they reach each other's ES7 in process. The old
// SM-SR runs the key establishment of the new one through its own admin
// session, hands the EIS over and deletes its keys on the card; then an
// EnableProfile goes through the new SM-SR (its own SMS wake-up and PSK) and
// the old one no longer knows the eUICC. Both audit trails tell it. Then the
// refusals: no PrepareSMSRChange at the target, an MNO without a profile on
// the eUICC, an unknown target, a wrong caller, a receipt that does not verify.

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

#include "es5_link_fixture.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/m2m/es7.hpp"
#include "rsp/m2m/es8.hpp"
#include "rsp/pki/certificate.hpp"
#include "rsp/smsr/es7_service.hpp"
#include "rsp/smsr/http_service.hpp"
#include "rsp/store/open.hpp"

namespace rsp::smsr::testing {
namespace {

using namespace std::chrono_literals;
namespace es7 = m2m::es7;
namespace codes = m2m::codes;

const std::string kOld = "smsr.test";
const std::string kNew = "smsr-2";

class SmsrChangeTest : public Es5LinkTest {
 protected:
  SmsrChangeTest() {
    register_card_ecasd_certificate();
    // The second profile came through an SM-DP: it hears of the change over
    // ES3 and tells mno-two itself.
    edit_registered_eis_ = [this, card = edit_registered_eis_](m2m::Eis& e) {
      card(e);
      for (auto& p : e.profiles)
        if (p.iccid == kSecondIccid) p.smdp_id = "smdp-1";
    };
  }

  void SetUp() override {
    Es5LinkTest::SetUp();
    if (HasFatalFailure()) return;
    // The second SM-SR: its own database, SMS address and admin server.
    auto db = store::open_database((tmp_.path() / "smsr2.db").string());
    ASSERT_TRUE(db) << db.error().message;
    RegistryOptions ro;
    ro.kek = std::make_shared<const service::KeyEncryptionKey>(
        std::move(*service::KeyEncryptionKey::make(Bytes(32, 0x4C))));
    ro.clock = clock_;
    ro.callback_url = [](const std::string& mno) { return "https://" + mno + ".example/callbacks"; };
    auto registry = Registry::open(std::shared_ptr<store::Database>(std::move(*db)), std::move(ro));
    ASSERT_TRUE(registry) << registry.error().message;
    registry2_ = std::move(*registry);
    smsr2_sms_ = smsc_->attach(smsr2_address_);
    Es5LinkConfig lc;
    lc.registry = registry2_;
    lc.sms = smsr2_sms_.get();
    lc.source = smsr2_address_;
    lc.clock = clock_;
    link2_ = std::make_unique<Es5Link>(std::move(lc));
    service2_ = std::make_shared<Service>(service_config(registry2_, *link2_));
    link2_->attach(service2_);
    es5::AdminSessionOptions o;
    o.session_idle_timeout = session_idle_timeout_;
    server2_ = std::make_unique<es5::AdminSessionServer>(
        o, [this](std::string_view identity) { return link2_->psk(identity); }, *link2_, *link2_);
    auto started = server2_->start();
    ASSERT_TRUE(started) << started.error().message;
    link2_->set_trigger_address(server2_->host_header(), server2_->path());

    // ES7 at both: the new one signs with CERT.SR.ECDSA and trusts the card's EUM and CI.
    auto store = euicc_m2m::M2mStore::open(dir_);
    ASSERT_TRUE(store);
    auto identity = store->euicc().identity();
    ASSERT_TRUE(identity);
    const auto& curve = identity->curves.front();
    auto sr = euicc_m2m::test::smsr_signing_identity(curve.curve);
    ASSERT_TRUE(sr);
    Es7Config c2;
    c2.registry = registry2_;
    c2.clock = clock_;
    c2.smsr_id = kNew;
    c2.certificate = sr->certificate;
    c2.signing_key = std::move(sr->key);
    c2.eums = {pki::Certificate::from_der(curve.eum_cert).value()};
    c2.cis = {pki::Certificate::from_der(curve.ci_cert).value()};
    c2.wake_up = [this](const std::string& e) { link2_->wake_up(e); };
    es7_new_ = std::make_shared<Es7Service>(std::move(c2));
    Es7Config c1;
    c1.registry = registry_;
    c1.clock = clock_;
    c1.smsr_id = kOld;
    c1.peer = [this](const std::string& id) -> std::shared_ptr<Es7Peer> { return id == kNew ? peer_ : nullptr; };
    c1.wake_up = [this](const std::string& e) { link_->wake_up(e); };
    es7_old_ = std::make_shared<Es7Service>(std::move(c1));
    link_->attach_es7(es7_old_);
    link2_->attach_es7(es7_new_);
    peer_ = local_es7_peer(es7_new_, kOld);
  }

  void TearDown() override {
    if (device_sms_) device_sms_->stop();
    device_.reset();
    if (smsr2_sms_) smsr2_sms_->stop();
    if (server2_) server2_->stop();
    link2_.reset();
    Es5LinkTest::TearDown();
  }

  /// The device answers each SM-SR's wake-up to its originator.
  void start_device_for_both() {
    m2m_device::M2mDeviceOptions o;
    o.msisdn = msisdn_;
    o.default_host = server_->host_header();
    o.http_timeout = 5s;
    device_ = std::make_unique<m2m_device::M2mDevice>(card_->isd_r(), o);
    device_sms_ = smsc_->attach(msisdn_);
    device_->attach(*device_sms_);
  }

  bool has_line(Registry& r, std::string_view function, std::string_view text) {
    auto trail = r.audit_trail(eid());
    if (!trail) return false;
    return std::any_of(trail->begin(), trail->end(), [&](const AuditEntry& a) {
      return a.function == function && a.result.find(text) != std::string::npos;
    });
  }

  const smpp::Address smsr2_address_{"4912346", 1, 1};
  std::shared_ptr<Registry> registry2_;
  std::unique_ptr<smpp::SmsTransport> smsr2_sms_;
  std::unique_ptr<Es5Link> link2_;
  std::shared_ptr<Service> service2_;
  std::unique_ptr<es5::AdminSessionServer> server2_;
  std::shared_ptr<Es7Service> es7_new_, es7_old_;
  /// Where the old SM-SR reaches the new one (SetUp: in process).
  std::shared_ptr<Es7Peer> peer_;

  /// The whole swap, then EnableProfile through the new SM-SR and the old one refusing.
  void swap_and_enable();
};

void SmsrChangeTest::swap_and_enable() {
  start_device_for_both();
  const auto old_psk = card_->isd_r().state().scp81.identity;
  ASSERT_TRUE(es7_new_->prepare_smsr_change("mno-boot", {eid(), kOld}));
  auto accepted = es7_old_->smsr_change("mno-boot", {eid(), kNew, std::nullopt});
  ASSERT_TRUE(accepted) << accepted.error().message;

  // Two sessions of the old SM-SR: the key establishment, then the deletion of its keys.
  ASSERT_TRUE(eventually([&] {
    auto gone = registry_->eis(eid(), false);
    return gone && !*gone;
  }, 20s)) << "the old SM-SR still holds the EIS";
  EXPECT_EQ(op(accepted->operation_id).state, OperationState::Completed);
  EXPECT_EQ(op(accepted->operation_id).status, "Executed-Success");
  bool told = false;
  for (const auto& item : callbacks())
    if (item.ref == "op-" + std::to_string(accepted->operation_id) && item.recipient == "mno-boot" &&
        item.body.find("Executed-Success") != std::string::npos)
      told = true;
  EXPECT_TRUE(told) << "no result for the MNO";

  // The new SM-SR holds the EIS with the new keys; the card has only those.
  auto taken = registry2_->eis(eid(), true);
  ASSERT_TRUE(taken && *taken);
  const m2m::Eis& eis = **taken;
  EXPECT_EQ(eis.smsr_id, kNew);
  ASSERT_EQ(eis.isd_r.scp80_key_sets.size(), 1u);
  const int v = eis.isd_r.scp80_key_sets[0].version;
  EXPECT_EQ(v, 2);
  EXPECT_EQ(eis.profiles.size(), 2u);
  const auto card = card_->isd_r().state();
  ASSERT_EQ(card.scp80.size(), 1u);
  EXPECT_EQ(card.scp80[0].version, v);
  EXPECT_EQ(card.scp80[0].kic, eis.isd_r.scp80_key_sets[0].kic);
  EXPECT_NE(card.scp81.identity, old_psk);
  EXPECT_EQ(card.scp81.identity, es7::additional_psk_identity(eid(), v));
  ASSERT_TRUE(eis.isd_r.scp81_psk);
  EXPECT_EQ(eis.isd_r.scp81_psk->key, card.scp81.key);

  // Both audit trails record it.
  EXPECT_TRUE(has_line(*registry_, "ES4.SMSRChange", "ES7.HandoverEUICC to " + kNew));
  EXPECT_TRUE(has_line(*registry_, "ES4.SMSRChange", "key sets are deleted"));
  EXPECT_TRUE(has_line(*registry2_, "ES4.PrepareSMSRChange", kOld));
  EXPECT_TRUE(has_line(*registry2_, "ES7.AuthenticateSMSR", "Executed-Success"));
  EXPECT_TRUE(has_line(*registry2_, "ES7.HandoverEUICC", "taken from " + kOld));

  // The new SM-SR told the change, queued with the EIS: ES3 to the SM-DP of
  // the second profile, ES4 to mno-boot (whose profile no SM-DP has); not
  // ES4 to mno-two, whom its SM-DP tells.
  auto told2 = registry2_->outbox()->due(100);
  ASSERT_TRUE(told2);
  std::vector<std::string> change_notes;
  for (const auto& item : *told2) {
    if (item.body.find("HandleSMSRChangeNotification") == std::string::npos) continue;
    change_notes.push_back(item.recipient);
    if (item.recipient == "smdp-1") {
      auto n = m2m::es3::decode_notification(item.body);
      ASSERT_TRUE(n) << n.error().message;
      EXPECT_EQ(n->function, m2m::es3::NotificationFunction::SmsrChange);
      ASSERT_TRUE(n->eis);
      EXPECT_EQ(n->eis->smsr_id, kNew);
      EXPECT_EQ(n->eid, eid());
      // The SM-DP's own ISD-Ps only.
      for (const auto& p : n->eis->profiles) EXPECT_EQ(p.smdp_id, "smdp-1");
      EXPECT_FALSE(n->eis->profiles.empty());
    } else {
      EXPECT_NE(item.body.find("\"ES4.HandleSMSRChangeNotification\""), std::string::npos) << item.body;
      EXPECT_NE(item.body.find("\"smsrId\":\"" + kNew + "\""), std::string::npos) << item.body;
    }
    EXPECT_EQ(item.body.find("scp81Psk"), std::string::npos) << item.body;
    EXPECT_EQ(item.body.find("scp80KeySets"), std::string::npos) << item.body;
  }
  std::sort(change_notes.begin(), change_notes.end());
  EXPECT_EQ(change_notes, (std::vector<std::string>{"mno-boot", "smdp-1"}));
  // The old SM-SR tells no one of the change but the caller's result.
  for (const auto& item : callbacks())
    EXPECT_EQ(item.body.find("HandleSMSRChangeNotification"), std::string::npos) << item.body;

  // EnableProfile through the new SM-SR: its own wake-up and session.
  auto enabled = service2_->enable_profile("mno-two", eid(), kSecondIccid, std::nullopt);
  ASSERT_TRUE(enabled) << enabled.error().message;
  ASSERT_TRUE(eventually([&] {
    auto o = registry2_->operation(enabled->operation_id);
    return o && *o && is_final((*o)->state);
  }, 20s));
  EXPECT_EQ((*registry2_->operation(enabled->operation_id))->status, "Executed-Success");
  EXPECT_EQ(isdp(second_).state, m2m::IsdpState::kEnabled);

  // The old SM-SR refuses: it no longer knows the eUICC.
  auto refused = service_->enable_profile("mno-boot", eid(), kBootIccid, std::nullopt);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), codes::kEidUnknown));
  EXPECT_FALSE(es7_old_->smsr_change("mno-boot", {eid(), kNew, std::nullopt}));
}

TEST_F(SmsrChangeTest, SwapThenEnableThroughTheNewSmsr) { swap_and_enable(); }

/// The same with ES7 between the SM-SRs over HTTP (the new SM-SR's routes,
/// the old one's client); the caller is named as mutual TLS would name it.
class SmsrChangeOverHttpTest : public SmsrChangeTest {
 protected:
  void SetUp() override {
    SmsrChangeTest::SetUp();
    if (HasFatalFailure()) return;
    HttpConfig hc;
    hc.insecure_http = true;
    hc.roles.smsrs = {kOld};
    hc.roles.mnos = {"mno-boot"};
    hc.es7 = es7_new_;
    hc.authenticate = [this](const net::Request&) {
      std::lock_guard lock(caller_mu_);
      return std::optional<service::Caller>(service::Caller{caller_, service::CallerProof::ClientCertificate});
    };
    auto http = HttpService::start(service2_, std::move(hc));
    ASSERT_TRUE(http) << http.error().message;
    http_ = std::move(*http);
    Es7PeerOptions po;
    po.url = http_->url();
    po.timeout = 5s;
    auto peer = https_es7_peer(std::move(po));
    ASSERT_TRUE(peer) << peer.error().message;
    peer_ = std::move(*peer);
  }
  void TearDown() override {
    if (http_) http_->stop();
    SmsrChangeTest::TearDown();
  }
  void call_as(std::string caller) {
    std::lock_guard lock(caller_mu_);
    caller_ = std::move(caller);
  }
  std::mutex caller_mu_;
  std::string caller_ = kOld;
  std::unique_ptr<HttpService> http_;
};

TEST_F(SmsrChangeOverHttpTest, SwapThenEnableThroughTheNewSmsr) { swap_and_enable(); }

TEST_F(SmsrChangeOverHttpTest, RoutesRefuseOtherCallersAndBadBodies) {
  // An MNO may not call ES7.
  call_as("mno-boot");
  auto r = peer_->call(es7::AuthenticateSmsr{eid(), Bytes{0x30, 0x00}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, "Failed");
  EXPECT_EQ(r->subject_code + "/" + r->reason_code, "1.1/1.2");
  // PrepareSMSRChange over HTTP, as the MNO.
  r = peer_->call(es7::PrepareSmsrChange{eid(), kOld});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, "Executed-Success");
  // An SM-SR may not call ES4 here.
  call_as(kOld);
  r = peer_->call(es7::SmsrChange{eid(), kNew, std::nullopt});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->subject_code + "/" + r->reason_code, "1.1/1.2");
  // A certificate that is no ECASD's.
  r = peer_->call(es7::AuthenticateSmsr{eid(), Bytes{0x30, 0x00}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->subject_code + "/" + r->reason_code, "8.1.3/6.1");
}

TEST_F(SmsrChangeTest, RefusedBeforeAnythingReachesTheCard) {
  const auto before = card_->isd_r().state();
  // No PrepareSMSRChange at the target: it refuses AuthenticateSMSR.
  auto r = es7_old_->smsr_change("mno-boot", {eid(), kNew, std::nullopt});
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), codes::kRequesterNotAllowed)) << r.error().subject_code << "/" << r.error().reason_code;
  // An MNO without a profile there learns nothing.
  ASSERT_TRUE(es7_new_->prepare_smsr_change("mno-boot", {eid(), kOld}));
  r = es7_old_->smsr_change("mno-other", {eid(), kNew, std::nullopt});
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), codes::kEidUnknown));
  // A target that is no configured peer, or this SM-SR itself.
  EXPECT_TRUE(is(es7_old_->smsr_change("mno-boot", {eid(), "smsr-9", std::nullopt}).error(), codes::kInvalidRequest));
  EXPECT_TRUE(is(es7_old_->smsr_change("mno-boot", {eid(), kOld, std::nullopt}).error(), codes::kInvalidRequest));
  // Nothing was queued for the card, nothing changed on it.
  EXPECT_TRUE(registry_->queued_scripts(eid())->empty());
  EXPECT_EQ(card_->isd_r().state().scp80.size(), before.scp80.size());
  EXPECT_TRUE(has_line(*registry_, "ES4.SMSRChange", "Failed 1.1/1.2"));
  // The new SM-SR refuses to prepare for an eUICC it manages already.
  EXPECT_TRUE(registry2_->register_eis(card_eis(), 1));
  EXPECT_TRUE(is(es7_new_->prepare_smsr_change("mno-boot", {eid(), kOld}).error(), codes::kEidInUse));
}

TEST_F(SmsrChangeTest, NewSmsrChecksCallerCertificateAndReceipt) {
  ASSERT_TRUE(es7_new_->prepare_smsr_change("mno-boot", {eid(), kOld}));
  const auto eis = **registry_->eis(eid(), false);
  // Another SM-SR than the one prepared.
  auto wrong = es7_new_->authenticate_smsr("smsr-9", {eid(), eis.ecasd.certificate});
  ASSERT_FALSE(wrong);
  EXPECT_TRUE(is(wrong.error(), codes::kRequesterNotAllowed));
  // A certificate that is not an ECASD's under the trusted EUM (the CI's own).
  auto store = euicc_m2m::M2mStore::open(dir_);
  const auto ci = store->euicc().identity()->curves.front().ci_cert;
  auto bad_cert = es7_new_->authenticate_smsr(kOld, {eid(), ci});
  ASSERT_FALSE(bad_cert);
  EXPECT_TRUE(is(bad_cert.error(), codes::kEcasdCertificateInvalid));
  // Key set before authentication, hand-over before the key set.
  EXPECT_FALSE(es7_new_->create_additional_keyset(kOld, {eid(), 2, std::nullopt}));
  auto early = eis;
  EXPECT_FALSE(es7_new_->handover_euicc(kOld, {early, m2m::es8::encode_receipt({Bytes(16, 1), Bytes(16, 2)})}));
  // The whole exchange with a receipt the card never made.
  ASSERT_TRUE(es7_new_->prepare_smsr_change("mno-boot", {eid(), kOld}));
  auto auth = es7_new_->authenticate_smsr(kOld, {eid(), eis.ecasd.certificate});
  ASSERT_TRUE(auth) << auth.error().message;
  EXPECT_FALSE(auth->smsr_certificate.empty());
  auto keyset = es7_new_->create_additional_keyset(kOld, {eid(), 2, std::nullopt});
  ASSERT_TRUE(keyset);
  EXPECT_TRUE(m2m::es8::decode_key_agreement_message(keyset->key_agreement));
  auto forged = es7_new_->handover_euicc(kOld, {eis, m2m::es8::encode_receipt({Bytes(16, 1), Bytes(16, 2)})});
  ASSERT_FALSE(forged);
  EXPECT_TRUE(is(forged.error(), codes::kKeysetReceiptInvalid));
  auto none = registry2_->eis(eid(), false);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  // The ephemeral key served once: the same receipt again is refused too.
  EXPECT_FALSE(es7_new_->handover_euicc(kOld, {eis, m2m::es8::encode_receipt({Bytes(16, 1), Bytes(16, 2)})}));
}

}  // namespace
}  // namespace rsp::smsr::testing
