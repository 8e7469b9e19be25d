// ES3 through the SM-SR to the simulated M2M eUICC in one process: the test
// plays the SM-DP (the smdp library's ES8 key establishment and profile
// protection) and calls the SM-SR's ES3 functions; each command goes out by
// SMS wake-up and PSK-TLS session, SendData scripts reach the new ISD-P
// (Es8Card) and the results come back as the SM-DP's callbacks. Then the
// refusals: an unknown ISD-P, an ICCID already there, a receipt that does
// not verify (the ISD-P deleted by DeleteISDP). Then an MNO's
// DownloadProfile failing at each step (Es2RollbackTest, SessionDropTest):
// rolled back, the MNO told the failure's code.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "es5_link_fixture.hpp"
#include "rsp/apdu/command.hpp"
#include "rsp/common/file.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/euicc_m2m/es8_card.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/m2m/es8_connectivity.hpp"
#include "rsp/ota/ram.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/smdp/es8.hpp"
#include "rsp/smdp/es2_service.hpp"
#include "rsp/smdp/es3_client.hpp"
#include "rsp/smdp/profile_download.hpp"
#include "rsp/smsr/http_service.hpp"
#include "rsp/store/open.hpp"
#include "rsp/smdpp/sample_profile.hpp"
#include "rsp/smsr/es3_service.hpp"

namespace rsp::smsr::testing {
namespace {

using namespace std::chrono_literals;
namespace es3 = m2m::es3;
namespace codes = m2m::codes;

const std::string kSmdp = "smdp-1";
const Bytes kIccidBytes = from_hex("98001032547698103299").value();
const std::string kIccid = "89000123456789012399";

class Es3LinkTest : public Es5LinkTest {
 protected:
  Es3LinkTest() {
    // The EIS carries the card's real ECASD certificate (GetEIS gives it to the SM-DP).
    edit_registered_eis_ = [this](m2m::Eis& e) {
      auto store = euicc_m2m::M2mStore::open(dir_);
      ASSERT_TRUE(store);
      auto identity = store->euicc().identity();
      ASSERT_TRUE(identity);
      e.ecasd.certificate = identity->curves.front().euicc_cert;
    };
  }

  void SetUp() override {
    Es5LinkTest::SetUp();
    if (HasFatalFailure()) return;
    ServiceConfig sc;
    sc.registry = registry_;
    sc.clock = clock_;
    sc.default_validity = 600s;
    sc.scripts = isdr_script;
    sc.wake_up = [this](const std::string& e) { link_->wake_up(e); };
    es3_ = std::make_shared<Es3Service>(std::move(sc));
    link_->attach_es3(es3_);
    auto store = euicc_m2m::M2mStore::open(dir_);
    ASSERT_TRUE(store);
    auto es8 = euicc_m2m::Es8Card::open(card_->isd_r_shared(), *store);
    ASSERT_TRUE(es8) << es8.error().message;
    es8_ = std::move(*es8);
    device_isdp_ = [this](ByteView aid, ByteView c) {
      Bytes r = es8_->execute(aid, c);
      if (after_isdp_command_) after_isdp_command_(c);
      return r;
    };
    auto identity = store->euicc().identity();
    ASSERT_TRUE(identity);
    const auto& curve = identity->curves.front();
    ecasd_cert_ = curve.euicc_cert;
    trust_ = smdp::EcasdTrust{{pki::Certificate::from_der(curve.eum_cert).value()},
                              {pki::Certificate::from_der(curve.ci_cert).value()}};
    // CERT.DP.ECDSA of the card's curve from the shared test PKI, and its key.
    for (const auto& e : std::filesystem::recursive_directory_iterator(euicc_m2m::test::shared_pki_dir())) {
      const std::string name = e.path().filename().string();
      if (name.rfind("CERT_M2M_SM_DP_ECDSA_", 0) != 0) continue;
      auto cert = pki::Certificate::load_file(e.path());
      ASSERT_TRUE(cert);
      const std::string key_name = "SK_" + name.substr(5);
      for (const auto& k : std::filesystem::recursive_directory_iterator(euicc_m2m::test::shared_pki_dir())) {
        if (k.path().filename() != key_name) continue;
        auto pem = read_file(k.path());
        ASSERT_TRUE(pem);
        auto key = crypto::EcKey::from_pem(std::string(pem->begin(), pem->end()));
        ASSERT_TRUE(key);
        if (key->curve() == curve.curve) dp_.emplace(smdp::DpIdentity{cert->front().der(), std::move(*key)});
      }
    }
    ASSERT_TRUE(dp_) << "no CERT.DP.ECDSA for the card's curve";
  }

  /// The SM-DP's result of operation `a` once it ended.
  es3::Result result(const SmsrResult<Accepted>& a) {
    EXPECT_TRUE(a) << (a ? "" : a.error().message);
    if (!a) return {};
    EXPECT_TRUE(eventually([&] { return is_final(op(a->operation_id).state); }));
    for (const auto& item : callbacks()) {
      if (item.ref != "op-" + std::to_string(a->operation_id)) continue;
      EXPECT_EQ(item.recipient, op(a->operation_id).caller);
      auto r = es3::decode_result(item.body);
      EXPECT_TRUE(r) << (r ? "" : r.error().message);
      return r ? *r : es3::Result{};
    }
    ADD_FAILURE() << "no result for operation " << a->operation_id;
    return {};
  }

  /// An accepted operation's result once it ended, or the refusal as a Failed result.
  es3::Result ended(const SmsrResult<Accepted>& a) {
    if (a) return result(a);
    es3::Result r;
    r.status = "Failed";
    r.subject_code = a.error().subject_code;
    r.reason_code = a.error().reason_code;
    return r;
  }

  es3::Result create() {
    return result(es3_->create_isdp(kSmdp, es3::CreateIsdp{eid(), kIccid, "mno-three", 64 * 1024, true, {}}));
  }

  /// SendData of `commands` to `aid`: the response script.
  std::pair<es3::Result, ota::ResponseScript> send(const Bytes& aid, const std::vector<apdu::Command>& commands) {
    std::vector<Bytes> c_apdus;
    for (const auto& c : commands) c_apdus.push_back(apdu::encode_command(c).value());
    auto r = result(es3_->send_data(kSmdp, es3::SendData{eid(), aid, ota::encode(ota::command_script(c_apdus)).value(),
                                                         true, {}}));
    auto script = ota::decode_response_script(r.euicc_response_data);
    EXPECT_TRUE(script);
    return {r, script ? *script : ota::ResponseScript{}};
  }

  /// The second profile (loaded on the card) becomes this SM-DP's in the EIS.
  void make_second_ours() {
    auto eis = **registry_->eis(eid(), false);
    m2m::ProfileInfo p = *eis.profile(kSecondIccid);
    p.smdp_id = kSmdp;
    ASSERT_TRUE(registry_->put_profile(eid(), p));
  }

  std::optional<euicc_m2m::IsdpRecord> on_card(const Bytes& aid) {
    auto s = card_->isd_r().state();
    auto* p = s.find(aid);
    return p ? std::optional<euicc_m2m::IsdpRecord>(*p) : std::nullopt;
  }

  std::shared_ptr<Es3Service> es3_;
  std::unique_ptr<euicc_m2m::Es8Card> es8_;
  /// Runs on the device after each C-APDU its ISD-Ps executed (a test's fault).
  std::function<void(ByteView c_apdu)> after_isdp_command_;
  Bytes ecasd_cert_;
  smdp::EcasdTrust trust_;
  std::optional<smdp::DpIdentity> dp_;
};

TEST_F(Es3LinkTest, CreateKeysLoadCompleteEnable) {
  start_device();
  // CreateISDP: the ISD-P is made on the card and enters the EIS.
  auto created = create();
  ASSERT_EQ(created.status, "Executed-Success");
  const Bytes aid = created.isdp_aid;
  ASSERT_EQ(aid.size(), 16u);
  ASSERT_TRUE(on_card(aid));
  EXPECT_EQ(on_card(aid)->state, m2m::IsdpState::kSelectable);
  auto eis = **registry_->eis(eid(), false);
  ASSERT_TRUE(eis.profile(kIccid));
  EXPECT_EQ(eis.profile(kIccid)->state, m2m::ProfileState::Created);
  EXPECT_EQ(eis.profile(kIccid)->smdp_id, kSmdp);
  EXPECT_EQ(eis.profile(kIccid)->mno_id, "mno-three");
  EXPECT_EQ(eis.profile(kIccid)->isdp_aid, aid);

  // ES8 key establishment through SendData (ECKA scenario #3).
  auto ke = smdp::KeyEstablishment::start(*dp_, ecasd_cert_, trust_, eid());
  ASSERT_TRUE(ke) << ke.error().message;
  auto [ka, ka_script] = send(aid, ke->commands());
  ASSERT_EQ(ka.status, "Executed-Success");
  ASSERT_EQ(ka_script.r_apdus.size(), ke->commands().size());
  auto keys = ke->finish(ka_script.r_apdus.back().data);
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(on_card(aid)->scp03_enc, keys->enc);

  // The protected profile, in segments of a few STORE DATA each.
  smdpp::SampleProfileOptions po;
  po.filler = 3000;
  const Bytes upp = smdpp::make_sample_upp(kIccidBytes, crypto::system_random(), po);
  auto commands = smdp::protect_profile(*keys, upp);
  ASSERT_TRUE(commands);
  for (std::size_t i = 0; i < commands->size(); i += 6) {
    std::vector<apdu::Command> part(commands->begin() + static_cast<std::ptrdiff_t>(i),
                                    commands->begin() + static_cast<std::ptrdiff_t>(std::min(i + 6, commands->size())));
    auto [r, s] = send(aid, part);
    ASSERT_EQ(r.status, "Executed-Success") << "segment at " << i;
  }
  EXPECT_EQ(on_card(aid)->state, m2m::IsdpState::kDisabled);
  EXPECT_EQ(on_card(aid)->iccid, kIccidBytes);

  // ProfileDownloadCompleted: Disabled in the EIS, with its address and POL2.
  es3::ProfileDownloadCompleted done{eid(), kIccid, "m2m", m2m::SubscriptionAddress{"4915550003", ""},
                                     {m2m::PolicyRule{m2m::PolicyAction::Disable, m2m::PolicyQualification::NotAllowed}}};
  ASSERT_TRUE(es3_->profile_download_completed(kSmdp, done));
  eis = **registry_->eis(eid(), false);
  EXPECT_EQ(eis.profile(kIccid)->state, m2m::ProfileState::Disabled);
  EXPECT_EQ(eis.profile(kIccid)->subscription_address.msisdn, "4915550003");
  EXPECT_EQ(eis.profile(kIccid)->pol2.size(), 1u);
  // Once only.
  auto again = es3_->profile_download_completed(kSmdp, done);
  ASSERT_FALSE(again);
  EXPECT_TRUE(is(again.error(), codes::kProfileInvalidTransition));

  // EnableProfile by the SM-DP: the device's profile list shows it enabled.
  auto enabled = result(es3_->on_profile(kSmdp, es3::Function::EnableProfile, eid(), kIccid, std::nullopt));
  EXPECT_EQ(enabled.status, "Executed-Success");
  EXPECT_EQ(enabled.function, es3::Function::EnableProfile);
  EXPECT_EQ(on_card(aid)->state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(isdp(boot_).state, m2m::IsdpState::kDisabled);
  eis = **registry_->eis(eid(), false);
  EXPECT_EQ(eis.profile(kIccid)->state, m2m::ProfileState::Enabled);
  EXPECT_EQ(eis.profile(kBootIccid)->state, m2m::ProfileState::Disabled);
  // GetEIS for the SM-DP: its ISD-P only, no key.
  auto seen = es3_->get_eis(kSmdp, eid());
  ASSERT_TRUE(seen);
  ASSERT_EQ(seen->profiles.size(), 1u);
  EXPECT_EQ(seen->profiles[0].iccid, kIccid);
  EXPECT_TRUE(seen->isd_r.scp80_key_sets.empty());
  EXPECT_FALSE(seen->isd_r.scp81_psk);
  EXPECT_EQ(device_->sessions_failed(), 0u);
}

TEST_F(Es3LinkTest, SendDataForAnUnknownIsdpIsRefused) {
  const Bytes script = ota::encode(ota::command_script({from_hex("80E2900003010203").value()})).value();
  // No such ISD-P, and an ISD-P that is not this SM-DP's (the second profile).
  for (const Bytes& aid : {euicc_m2m::isdp_aid(40), second_}) {
    auto r = es3_->send_data(kSmdp, es3::SendData{eid(), aid, script, false, {}});
    ASSERT_FALSE(r);
    EXPECT_TRUE(is(r.error(), codes::kIsdpUnknown)) << r.error().subject_code << "/" << r.error().reason_code;
  }
  auto unknown = es3_->send_data(kSmdp, es3::SendData{"89049032000000000000000000000000", second_, script, false, {}});
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(is(unknown.error(), codes::kEidUnknown));
  EXPECT_TRUE(registry_->queued_scripts(eid())->empty());
  // Nor may it touch a profile that is not its own.
  auto other = es3_->on_profile(kSmdp, es3::Function::EnableProfile, eid(), kSecondIccid, std::nullopt);
  ASSERT_FALSE(other);
  EXPECT_TRUE(is(other.error(), codes::kIccidUnknown));
}

TEST_F(Es3LinkTest, CreateIsdpRefusals) {
  auto taken = es3_->create_isdp(kSmdp, es3::CreateIsdp{eid(), kSecondIccid, "mno-three", 0, false, {}});
  ASSERT_FALSE(taken);
  EXPECT_TRUE(is(taken.error(), codes::kIccidInUse));
  auto unknown = es3_->create_isdp(kSmdp, es3::CreateIsdp{"89049032000000000000000000000000", kIccid, "m", 0, false, {}});
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(is(unknown.error(), codes::kEidUnknown));
  // A second CreateISDP of the same ICCID while the first is open.
  ASSERT_TRUE(es3_->create_isdp(kSmdp, es3::CreateIsdp{eid(), kIccid, "mno-three", 0, false, {}}));
  auto twice = es3_->create_isdp(kSmdp, es3::CreateIsdp{eid(), kIccid, "mno-three", 0, false, {}});
  ASSERT_FALSE(twice);
  EXPECT_TRUE(is(twice.error(), codes::kIccidInUse));
}

TEST_F(Es3LinkTest, BadReceiptIsRolledBackByDeleteIsdp) {
  start_device();
  auto created = create();
  ASSERT_EQ(created.status, "Executed-Success");
  const Bytes aid = created.isdp_aid;
  auto ke = smdp::KeyEstablishment::start(*dp_, ecasd_cert_, trust_, eid());
  ASSERT_TRUE(ke);
  auto [ka, script] = send(aid, ke->commands());
  ASSERT_EQ(ka.status, "Executed-Success");
  Bytes answer = script.r_apdus.back().data;
  answer.back() ^= 0x01;  // the receipt changed on its way
  auto keys = ke->finish(answer);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().code, smdp::Es8Failure::Code::ReceiptMismatch);
  // SGP.02 §3.1: the SM-DP has the ISD-P deleted.
  auto deleted = result(es3_->on_profile(kSmdp, es3::Function::DeleteIsdp, eid(), kIccid, std::nullopt));
  EXPECT_EQ(deleted.status, "Executed-Success");
  EXPECT_FALSE(on_card(aid));
  EXPECT_FALSE((**registry_->eis(eid(), false)).profile(kIccid));
}

TEST_F(Es3LinkTest, CardErrorInSendDataComesBackWithItsStatusWord) {
  start_device();
  auto created = create();
  ASSERT_EQ(created.status, "Executed-Success");
  // The key agreement without the certificate first: the card refuses it.
  auto ke = smdp::KeyEstablishment::start(*dp_, ecasd_cert_, trust_, eid());
  ASSERT_TRUE(ke);
  auto [r, script] = send(created.isdp_aid, {ke->commands().back()});
  EXPECT_EQ(r.status, "Failed");
  EXPECT_EQ(r.subject_code, codes::kEuiccRefused.subject);
  ASSERT_EQ(script.r_apdus.size(), 1u);
  EXPECT_EQ(script.r_apdus[0].sw, apdu::sw::kConditionsNotSatisfied);
}

/// ES3.AuditEIS: the card is read with ES4's audit script, the EIS updated
/// from its answer, and the SM-DP's result carries the EIS as that SM-DP
/// sees it (its ISD-Ps only, no key).
TEST_F(Es3LinkTest, AuditEisReadsTheCardAndShowsTheCallersIsdpsOnly) {
  start_device();
  auto created = create();
  ASSERT_EQ(created.status, "Executed-Success");
  auto audited = result(es3_->audit_eis(kSmdp, es3::AuditEis{eid(), 300}));
  EXPECT_EQ(audited.function, es3::Function::AuditEis);
  EXPECT_EQ(audited.status, "Executed-Success");
  ASSERT_TRUE(audited.eis);
  const auto& profiles = (*audited.eis)["profiles"];
  ASSERT_EQ(profiles.size(), 1u);  // not the boot and second profiles (of no SM-DP)
  EXPECT_EQ(profiles[0]["iccid"], kIccid);
  EXPECT_EQ(profiles[0]["isdpAid"], to_hex(created.isdp_aid));
  EXPECT_EQ(audited.eis->dump().find("scp8"), std::string::npos);  // no key
  // Another SM-DP sees none of them.
  auto other = result(es3_->audit_eis("smdp-2", es3::AuditEis{eid(), std::nullopt}));
  EXPECT_EQ(other.status, "Executed-Success");
  ASSERT_TRUE(other.eis);
  EXPECT_TRUE(!other.eis->contains("profiles") || (*other.eis)["profiles"].empty());
  // An unknown eUICC: refused at once, nothing queued.
  auto unknown = es3_->audit_eis(kSmdp, es3::AuditEis{"89049032000000000000000000000000", std::nullopt});
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(is(unknown.error(), codes::kEidUnknown));
}

/// ES3.UpdatePolicyRules / UpdateSubscriptionAddress: kept in the EIS, on
/// the caller's own profile only.
TEST_F(Es3LinkTest, UpdatesTouchOnlyTheCallersProfile) {
  make_second_ours();
  const std::vector<m2m::PolicyRule> pol2 = {
      m2m::PolicyRule{m2m::PolicyAction::Delete, m2m::PolicyQualification::AutoDelete}};
  ASSERT_TRUE(es3_->update_policy_rules(kSmdp, es3::UpdatePolicyRules{eid(), kSecondIccid, pol2}));
  const m2m::SubscriptionAddress address{"4915550007", "262019999999999"};
  ASSERT_TRUE(es3_->update_subscription_address(kSmdp, es3::UpdateSubscriptionAddress{eid(), kSecondIccid, address}));
  auto eis = **registry_->eis(eid(), false);
  EXPECT_EQ(eis.profile(kSecondIccid)->pol2, pol2);
  EXPECT_EQ(eis.profile(kSecondIccid)->subscription_address, address);

  // Another SM-DP's profile, a profile of no SM-DP, an unknown eUICC: refused, the EIS unchanged.
  const std::vector<std::pair<std::string, std::string>> refused = {{"smdp-2", kSecondIccid}, {kSmdp, kBootIccid}};
  for (const auto& [smdp, iccid] : refused) {
    auto r = es3_->update_policy_rules(smdp, es3::UpdatePolicyRules{eid(), iccid, {}});
    ASSERT_FALSE(r);
    EXPECT_TRUE(is(r.error(), codes::kIccidUnknown)) << smdp << " " << iccid;
    auto a = es3_->update_subscription_address(smdp, es3::UpdateSubscriptionAddress{eid(), iccid, {"49", ""}});
    ASSERT_FALSE(a);
    EXPECT_TRUE(is(a.error(), codes::kIccidUnknown)) << smdp << " " << iccid;
  }
  auto unknown = es3_->update_policy_rules(kSmdp, es3::UpdatePolicyRules{"89049032000000000000000000000000", kSecondIccid, {}});
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(is(unknown.error(), codes::kEidUnknown));
  eis = **registry_->eis(eid(), false);
  EXPECT_EQ(eis.profile(kSecondIccid)->pol2, pol2);
  EXPECT_EQ(eis.profile(kSecondIccid)->subscription_address, address);
  EXPECT_TRUE(eis.profile(kBootIccid)->pol2.empty() || eis.profile(kBootIccid)->pol2 != pol2);
  EXPECT_TRUE(registry_->queued_scripts(eid())->empty());  // nothing for the eUICC
}

/// ES3.UpdateConnectivityParameters: the SM-DP's SCP03-secured script
/// (ES8.UpdateConnectivityParameters) goes unchanged to the ISD-P, which
/// verifies, deciphers and keeps the parameters; the result carries the
/// card's answers. A script changed on its way is refused by the card
/// (Failed 8.1/3.8, its status words in the response script) and changes
/// nothing; the EIS never holds the parameters (the SM-SR cannot read them).
TEST_F(Es3LinkTest, ConnectivityParametersReachTheIsdp) {
  start_device();
  make_second_ours();
  // The second ISD-P's key set, as an ES8 key establishment would leave it.
  m2m::es8::DerivedKeys keys;
  keys.enc = Bytes(16, 0x42);
  keys.mac = Bytes(16, 0x43);
  ASSERT_FALSE(card_->isd_r().change_isdp(second_, [&](euicc_m2m::IsdpRecord& r) -> std::optional<std::uint16_t> {
    r.scp03_version = m2m::es8::kDefaultKeyVersion;
    r.scp03_enc = keys.enc;
    r.scp03_mac = keys.mac;
    r.scp03_dek = Bytes(16, 0x44);
    return std::nullopt;
  }));
  const Bytes eis_before = (**registry_->eis(eid(), false)).profile(kSecondIccid)->connectivity_parameters;
  const Bytes params = from_hex("A00A8008" "0891214365870900").value();
  auto script = smdp::secure_connectivity(keys, second_, 1, params);
  ASSERT_TRUE(script) << script.error().message;
  auto r = result(es3_->update_connectivity_parameters(kSmdp, es3::UpdateConnectivityParameters{eid(), kSecondIccid, *script, {}}));
  EXPECT_EQ(r.function, es3::Function::UpdateConnectivityParameters);
  EXPECT_EQ(r.status, "Executed-Success");
  auto answers = ota::decode_response_script(r.euicc_response_data);
  ASSERT_TRUE(answers);
  ASSERT_EQ(answers->r_apdus.size(), 3U);
  EXPECT_EQ(m2m::es8::answered_counter(answers->r_apdus.front()), 1U);
  ASSERT_TRUE(on_card(second_));
  EXPECT_EQ(on_card(second_)->connectivity, params);
  EXPECT_EQ(on_card(second_)->scp03_counter, 1U);
  EXPECT_EQ((**registry_->eis(eid(), false)).profile(kSecondIccid)->connectivity_parameters, eis_before);

  // One enciphered byte changed on the way: the ISD-P's C-MAC check refuses it.
  auto next = smdp::secure_connectivity(keys, second_, 2, from_hex("A0038001FF").value());
  ASSERT_TRUE(next);
  auto c_apdus = ota::c_apdus(ota::decode_command_script(*next).value());
  c_apdus.back().at(8) ^= 0x01;
  auto bad = result(es3_->update_connectivity_parameters(
      kSmdp, es3::UpdateConnectivityParameters{eid(), kSecondIccid, ota::encode(ota::command_script(c_apdus)).value(), {}}));
  EXPECT_EQ(bad.status, "Failed");
  EXPECT_EQ(bad.subject_code, codes::kEuiccRefused.subject);
  EXPECT_EQ(bad.reason_code, codes::kEuiccRefused.reason);
  answers = ota::decode_response_script(bad.euicc_response_data);
  ASSERT_TRUE(answers);
  EXPECT_EQ(answers->r_apdus.back().sw, apdu::sw::kSecurityStatusNotSatisfied);
  EXPECT_EQ(on_card(second_)->connectivity, params);
  EXPECT_EQ(on_card(second_)->scp03_counter, 1U);
  // The first script again (a replay): the host cryptogram no longer verifies.
  auto replay = result(es3_->update_connectivity_parameters(kSmdp, es3::UpdateConnectivityParameters{eid(), kSecondIccid, *script, {}}));
  EXPECT_EQ(replay.status, "Failed");
  EXPECT_EQ(on_card(second_)->scp03_counter, 1U);

  // Not a command script, another SM-DP's ISD-P, no ISD-P of ours: refused at once.
  auto garbage = es3_->update_connectivity_parameters(kSmdp, es3::UpdateConnectivityParameters{eid(), kSecondIccid, params, {}});
  ASSERT_FALSE(garbage);
  EXPECT_TRUE(is(garbage.error(), codes::kInvalidRequest));
  auto other = es3_->update_connectivity_parameters("smdp-2", es3::UpdateConnectivityParameters{eid(), kSecondIccid, *script, {}});
  ASSERT_FALSE(other);
  EXPECT_TRUE(is(other.error(), codes::kIccidUnknown));
  auto none = es3_->update_connectivity_parameters(kSmdp, es3::UpdateConnectivityParameters{eid(), kBootIccid, *script, {}});
  ASSERT_FALSE(none);
  EXPECT_TRUE(is(none.error(), codes::kIccidUnknown));
}

/// The SM-DP's ES3 port on the SM-SR's functions in the same process: each
/// call made, the operation awaited, its result read from the outbox.
class DirectPort : public smdp::Es3Port {
 public:
  explicit DirectPort(std::function<expected<es3::Result, std::string>(const es3::Request&)> f) : f_(std::move(f)) {}
  expected<es3::Result, std::string> call(const es3::Request& r) override { return f_(r); }

 private:
  std::function<expected<es3::Result, std::string>(const es3::Request&)> f_;
};

/// Where a test cuts the SM-DP off its SM-SR: before the request reaches it
/// (connection refused) or after (the answer lost).
enum class Cut { Before, After };

class ProfileDownloadTest : public Es3LinkTest {
 protected:
  void SetUp() override {
    Es3LinkTest::SetUp();
    if (HasFatalFailure()) return;
    auto db = store::open_database((tmp_.path() / "smdp.db").string());
    ASSERT_TRUE(db);
    auto table = smdp::DownloadTable::open(std::shared_ptr<store::Database>(std::move(*db)));
    ASSERT_TRUE(table) << table.error();
    table_ = std::move(*table);
    port_ = std::make_unique<DirectPort>([this](const es3::Request& r) -> expected<es3::Result, std::string> {
      if (cut_ && cut_(r, Cut::Before)) return unexpected(std::string("connection refused"));
      auto out = dispatch(r);
      if (cut_ && cut_(r, Cut::After)) return unexpected(std::string("no result in time"));
      return out;
    });
    start_device();
  }

  es3::Result dispatch(const es3::Request& request) {
    calls_.push_back(es3::function_of(request));
    if (const auto* g = std::get_if<es3::GetEis>(&request)) {
      es3::Result r;
      auto eis = es3_->get_eis(kSmdp, g->eid);
      r.status = eis ? "Executed-Success" : "Failed";
      if (eis) r.eis = m2m::eis_to_json(*eis, m2m::Keys::Omit);
      return r;
    }
    if (const auto* c = std::get_if<es3::CreateIsdp>(&request)) return ended(es3_->create_isdp(kSmdp, *c));
    if (const auto* s = std::get_if<es3::SendData>(&request)) {
      if (tamper_segment_ && send_data_ == 1) {
        ++send_data_;
        // One byte of the first STORE DATA's protected block changed.
        auto c_apdus = ota::c_apdus(ota::decode_command_script(s->data).value());
        c_apdus.front().at(20) ^= 0x01;
        es3::SendData changed = *s;
        changed.data = ota::encode(ota::command_script(c_apdus)).value();
        return ended(es3_->send_data(kSmdp, changed));
      }
      auto r = ended(es3_->send_data(kSmdp, *s));
      if (tamper_segment_) ++send_data_;
      if (tamper_receipt_ && ++send_data_ == 1) {
        // The receipt changed on its way back.
        auto script = ota::decode_response_script(r.euicc_response_data).value();
        script.r_apdus.back().data.back() ^= 0x01;
        r.euicc_response_data = ota::encode(script).value();
      }
      return r;
    }
    if (const auto* p = std::get_if<es3::ProfileDownloadCompleted>(&request))
      return at_once(es3_->profile_download_completed(kSmdp, *p));
    if (const auto* e = std::get_if<es3::EnableProfile>(&request))
      return ended(es3_->on_profile(kSmdp, es3::Function::EnableProfile, e->eid, e->iccid, e->validity));
    if (const auto* d = std::get_if<es3::DeleteIsdp>(&request))
      return ended(es3_->on_profile(kSmdp, es3::Function::DeleteIsdp, d->eid, d->iccid, d->validity));
    if (const auto* a = std::get_if<es3::AuditEis>(&request)) return ended(es3_->audit_eis(kSmdp, *a));
    if (const auto* u = std::get_if<es3::UpdatePolicyRules>(&request)) return at_once(es3_->update_policy_rules(kSmdp, *u));
    if (const auto* u = std::get_if<es3::UpdateSubscriptionAddress>(&request))
      return at_once(es3_->update_subscription_address(kSmdp, *u));
    if (const auto* u = std::get_if<es3::UpdateConnectivityParameters>(&request)) {
      if (!tamper_connectivity_) return ended(es3_->update_connectivity_parameters(kSmdp, *u));
      // One byte of the secured STORE DATA changed on its way.
      auto c_apdus = ota::c_apdus(ota::decode_command_script(u->connectivity_parameters).value());
      c_apdus.back().at(8) ^= 0x01;
      es3::UpdateConnectivityParameters changed = *u;
      changed.connectivity_parameters = ota::encode(ota::command_script(c_apdus)).value();
      return ended(es3_->update_connectivity_parameters(kSmdp, changed));
    }
    ADD_FAILURE() << "unexpected ES3 call";
    return {};
  }

  /// A function the SM-SR executed at once, as the SM-DP's client reads its answer.
  static es3::Result at_once(const SmsrResult<void>& done) {
    es3::Result r;
    r.status = done ? "Executed-Success" : "Failed";
    if (!done) {
      r.subject_code = done.error().subject_code;
      r.reason_code = done.error().reason_code;
    }
    return r;
  }

  smdp::DownloadRequest request(bool enable) {
    smdpp::SampleProfileOptions po;
    po.filler = 3000;
    smdp::DownloadRequest r;
    r.eid = eid();
    r.iccid = kIccid;
    r.mno_id = "mno-three";
    r.required_memory = 64 * 1024;
    r.upp = smdpp::make_sample_upp(kIccidBytes, crypto::system_random(), po);
    r.enable = enable;
    r.subscription_address = m2m::SubscriptionAddress{"4915550003", ""};
    return r;
  }

  std::unique_ptr<smdp::DownloadTable> table_;
  std::unique_ptr<DirectPort> port_;
  std::vector<es3::Function> calls_;
  /// Whether the SM-SR is out of reach for this call (a test's fault).
  std::function<bool(const es3::Request&, Cut)> cut_;
  bool tamper_receipt_ = false;
  bool tamper_segment_ = false;  ///< the first profile segment changed on its way
  bool tamper_connectivity_ = false;  ///< the secured connectivity parameters changed on their way
  int send_data_ = 0;
};

TEST_F(ProfileDownloadTest, DownloadAndEnable) {
  smdp::ProfileDownload download({*dp_, trust_, 6, {}}, *port_, *table_);
  auto d = download.run(request(true));
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->state, smdp::DownloadState::Enabled) << d->error;
  EXPECT_TRUE(d->error.empty()) << d->error;
  // The device's profile list: the new ISD-P, enabled, with the profile's ICCID.
  auto p = on_card(d->isdp_aid);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(p->iccid, kIccidBytes);
  EXPECT_EQ(isdp(boot_).state, m2m::IsdpState::kDisabled);
  auto eis = **registry_->eis(eid(), false);
  EXPECT_EQ(eis.profile(kIccid)->state, m2m::ProfileState::Enabled);
  EXPECT_EQ(eis.profile(kIccid)->subscription_address.msisdn, "4915550003");
  // The table holds the final state.
  auto stored = table_->get(d->id);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->state, smdp::DownloadState::Enabled);
  EXPECT_TRUE(table_->unfinished()->empty());
  EXPECT_EQ(calls_.front(), es3::Function::GetEis);
  EXPECT_EQ(calls_.back(), es3::Function::EnableProfile);

}

/// A download with connectivity parameters: after the profile, the SM-DP
/// sends them under the new ISD-P's SCP03 keys (ES8.UpdateConnectivity-
/// Parameters through ES3.UpdateConnectivityParameters); the device's
/// profile holds them.
TEST_F(ProfileDownloadTest, DownloadWithConnectivityParameters) {
  smdp::ProfileDownload download({*dp_, trust_, 6, {}}, *port_, *table_);
  auto req = request(true);
  req.connectivity_parameters = from_hex("A00A8008" "0891214365870900" "A1058103010203").value();
  auto d = download.run(req);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->state, smdp::DownloadState::Enabled) << d->error;
  auto p = on_card(d->isdp_aid);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->connectivity, req.connectivity_parameters);
  EXPECT_EQ(p->scp03_counter, 1U);
  EXPECT_EQ(p->state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(std::count(calls_.begin(), calls_.end(), es3::Function::UpdateConnectivityParameters), 1);
  // Sent after the profile, before the SM-SR is told the download completed.
  auto at = std::find(calls_.begin(), calls_.end(), es3::Function::UpdateConnectivityParameters);
  EXPECT_EQ(*(at - 1), es3::Function::SendData);
  EXPECT_EQ(*(at + 1), es3::Function::ProfileDownloadCompleted);
}

TEST_F(ProfileDownloadTest, BadReceiptRollsBackTheIsdp) {
  tamper_receipt_ = true;
  smdp::ProfileDownload download({*dp_, trust_, 6, {}}, *port_, *table_);
  auto d = download.run(request(true));
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->state, smdp::DownloadState::Failed);
  EXPECT_NE(d->error.find("receipt"), std::string::npos) << d->error;
  EXPECT_EQ(calls_.back(), es3::Function::DeleteIsdp);
  EXPECT_FALSE(on_card(d->isdp_aid));
  EXPECT_FALSE((**registry_->eis(eid(), false)).profile(kIccid));
}

TEST_F(ProfileDownloadTest, UntrustedEcasdFailsAndDeletesTheIsdp) {
  smdp::EcasdTrust other = trust_;
  other.eums.clear();  // no EUM to chain the ECASD certificate to
  smdp::ProfileDownload download({*dp_, other, 6, {}}, *port_, *table_);
  auto d = download.run(request(false));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state, smdp::DownloadState::Failed);
  EXPECT_EQ(calls_.back(), es3::Function::DeleteIsdp);
  EXPECT_FALSE(on_card(d->isdp_aid));
}

// ProfileDownloadCompleted reaches the SM-SR but its answer is lost (or a
// restart repeats it and the SM-SR refuses the repeat): the EIS shows the
// profile loaded, so the download goes on instead of deleting it.
TEST_F(ProfileDownloadTest, ALostCompletionAnswerDoesNotRollBackALoadedProfile) {
  class LosingPort : public smdp::Es3Port {
   public:
    explicit LosingPort(smdp::Es3Port& inner) : inner_(inner) {}
    expected<es3::Result, std::string> call(const es3::Request& r) override {
      auto out = inner_.call(r);
      if (std::holds_alternative<es3::ProfileDownloadCompleted>(r) && lose_next) {
        lose_next = false;
        return unexpected(std::string("connection reset before the answer"));
      }
      return out;
    }
    bool lose_next = true;

   private:
    smdp::Es3Port& inner_;
  } losing(*port_);
  smdp::ProfileDownload download({*dp_, trust_, 6, {}}, losing, *table_);
  auto d = download.run(request(true));
  ASSERT_TRUE(d) << d.error();
  EXPECT_FALSE(losing.lose_next);
  EXPECT_EQ(d->state, smdp::DownloadState::Enabled) << d->error;
  auto p = on_card(d->isdp_aid);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(std::count(calls_.begin(), calls_.end(), es3::Function::DeleteIsdp), 0);

  // The restart case: the same download left at Loaded, its completion
  // already recorded; recover() repeats ProfileDownloadCompleted, the SM-SR
  // refuses it, and the record ends Completed, the profile kept.
  smdp::Download left = *d;
  left.id = 0;
  left.state = smdp::DownloadState::Loaded;
  auto json_request = nlohmann::json::parse(left.request);
  json_request["enable"] = false;
  left.request = json_request.dump();
  ASSERT_TRUE(table_->create(left));
  auto recovered = download.recover();
  ASSERT_TRUE(recovered) << recovered.error();
  ASSERT_EQ(recovered->size(), 1u);
  EXPECT_EQ(recovered->front().state, smdp::DownloadState::Completed) << recovered->front().error;
  EXPECT_TRUE(on_card(d->isdp_aid));
  EXPECT_EQ(std::count(calls_.begin(), calls_.end(), es3::Function::DeleteIsdp), 0);
}

TEST_F(ProfileDownloadTest, RestartRollsBackADownloadStoppedBeforeTheLoad) {
  // A download that stopped right after CreateISDP (the process died).
  auto created = create();
  ASSERT_EQ(created.status, "Executed-Success");
  smdp::Download left;
  left.eid = eid();
  left.iccid = kIccid;
  left.state = smdp::DownloadState::IsdpCreated;
  left.isdp_aid = created.isdp_aid;
  left.request = "{}";
  auto id = table_->create(left);
  ASSERT_TRUE(id);
  smdp::ProfileDownload download({*dp_, trust_, 6, {}}, *port_, *table_);
  auto recovered = download.recover();
  ASSERT_TRUE(recovered) << recovered.error();
  ASSERT_EQ(recovered->size(), 1u);
  EXPECT_EQ(recovered->front().state, smdp::DownloadState::Failed);
  EXPECT_FALSE(on_card(created.isdp_aid));
  EXPECT_TRUE(table_->unfinished()->empty());
}

/// ES2 on the SM-DP's service with the real SM-SR behind its ES3 port: an
/// MNO's DownloadProfile(enable) by profile type ends with the profile
/// enabled on the card, in the EIS, marked downloaded in the inventory and
/// the MNO's callback queued; another MNO's profile is refused.
class Es2DownloadTest : public ProfileDownloadTest {
 protected:
  void SetUp() override {
    ProfileDownloadTest::SetUp();
    if (HasFatalFailure()) return;
    auto db = store::open_database((tmp_.path() / "smdp-es2.db").string());
    ASSERT_TRUE(db);
    std::shared_ptr<store::Database> shared(std::move(*db));
    smdp_db_ = shared;
    auto kek = service::KeyEncryptionKey::make(crypto::system_random().bytes(32));
    ASSERT_TRUE(kek);
    auto inventory = smdp::Inventory::open(shared, std::make_shared<const service::KeyEncryptionKey>(std::move(*kek)));
    ASSERT_TRUE(inventory);
    inventory_ = std::move(*inventory);
    ASSERT_TRUE(inventory_->add(kIccid, "m2m-data", "mno-three", request(false).upp, crypto::system_random()));
    auto outbox = service::SqlOutbox::open(shared, std::string(smdp::kMnoCallbackOutbox), clock_);
    ASSERT_TRUE(outbox);
    outbox_ = *outbox;
    auto svc = smdp::Es2Service::open(
        smdp::Es2ServiceConfig("smsr-1", {*dp_, trust_, 6, {}}), shared, inventory_, *port_,
        outbox_);
    ASSERT_TRUE(svc) << svc.error();
    es2_ = std::move(*svc);
  }

  service::SystemClock clock_;
  std::shared_ptr<store::Database> smdp_db_;
  std::shared_ptr<smdp::Inventory> inventory_;
  std::shared_ptr<service::SqlOutbox> outbox_;
  std::unique_ptr<smdp::Es2Service> es2_;
};

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

/// ES2.UpdateConnectivityParameters on a downloaded profile: the SM-DP
/// kept the ISD-P's key set (sealed) from the download and secures the
/// parameters with it; the card shows them. Changed on the way: refused by
/// the ISD-P, the MNO told 8.1/3.8, the card keeps the old ones. The SM-DP's
/// counter is then ahead of the card's: the next update is refused once,
/// resynchronised from the ISD-P's INITIALIZE UPDATE answer, and succeeds.
TEST_F(Es2DownloadTest, UpdateConnectivityParametersUsesTheKeptKeySet) {
  namespace es2 = m2m::es2;
  // Not enabled: the wake-ups keep going to the bootstrap profile's number.
  auto accepted = es2_->handle(es2::DownloadProfile{eid(), kIccid, "", "smsr-1", false, std::nullopt}, "mno-three");
  ASSERT_TRUE(accepted.answer.accepted()) << accepted.answer.message;
  ASSERT_TRUE(es2_->run_next().value_or(false));
  auto kept = inventory_->isdp_keys(kIccid);
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->counter, 0U);
  const Bytes aid = (**registry_->eis(eid(), false)).profile(kIccid)->isdp_aid;
  EXPECT_EQ((*kept)->isdp_aid, aid);

  auto update = [&](const Bytes& params) -> es2::Result {
    auto a = es2_->handle(es2::UpdateConnectivityParameters{eid(), kIccid, "smsr-1", params, std::nullopt}, "mno-three");
    EXPECT_TRUE(a.answer.accepted()) << a.answer.message;
    EXPECT_TRUE(es2_->run_next().value_or(false));
    auto due = outbox_->due();
    EXPECT_TRUE(due);
    if (!due) return {};
    for (const auto& item : *due) {
      auto c = es2::decode_callback(item.body);
      if (!c || !std::holds_alternative<es2::Result>(*c)) continue;
      const auto& r = std::get<es2::Result>(*c);
      if (r.operation_id == a.answer.operation_id) return r;
    }
    ADD_FAILURE() << "no result";
    return {};
  };
  const Bytes first = from_hex("A00A8008" "0891214365870900").value();
  auto r = update(first);
  EXPECT_EQ(r.function, es2::Function::UpdateConnectivityParameters);
  EXPECT_EQ(r.status, "Executed-Success") << r.subject_code << "/" << r.reason_code;
  EXPECT_EQ(on_card(aid)->connectivity, first);
  EXPECT_EQ(on_card(aid)->scp03_counter, 1U);

  tamper_connectivity_ = true;
  r = update(from_hex("A0038001FF").value());
  EXPECT_EQ(r.status, "Failed");
  EXPECT_EQ(r.subject_code, codes::kEuiccRefused.subject);
  EXPECT_EQ(r.reason_code, codes::kEuiccRefused.reason);
  EXPECT_EQ(on_card(aid)->connectivity, first);
  EXPECT_EQ(on_card(aid)->scp03_counter, 1U);
  EXPECT_EQ((*inventory_->isdp_keys(kIccid))->counter, 2U);

  tamper_connectivity_ = false;
  const auto before = std::count(calls_.begin(), calls_.end(), es3::Function::UpdateConnectivityParameters);
  r = update(from_hex("A0038001FF").value());
  EXPECT_EQ(r.status, "Executed-Success");
  EXPECT_EQ(std::count(calls_.begin(), calls_.end(), es3::Function::UpdateConnectivityParameters) - before, 2);
  EXPECT_EQ(on_card(aid)->connectivity, from_hex("A0038001FF").value());
  EXPECT_EQ(on_card(aid)->scp03_counter, 2U);
  EXPECT_EQ((*inventory_->isdp_keys(kIccid))->counter, 2U);

  // Malformed parameters never reach a worker; another MNO's profile is unknown.
  EXPECT_FALSE(es2::decode_request(es2::Function::UpdateConnectivityParameters,
                                   nlohmann::json{{"eid", eid()}, {"iccid", kIccid}, {"smsrId", "smsr-1"},
                                        {"connectivityParameters", "A00580"}}.dump()));
  auto other = es2_->handle(es2::UpdateConnectivityParameters{eid(), kIccid, "smsr-1", first, std::nullopt}, "mno-two");
  EXPECT_EQ(other.answer.subject_code, codes::kIccidUnknown.subject);
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

/// The same download over HTTP: the SM-SR's ES3 routes, the SM-DP's client,
/// and the callbacks carried from the SM-SR's outbox to the client's results.
class Es3OverHttpTest : public ProfileDownloadTest {
 protected:
  void SetUp() override {
    ProfileDownloadTest::SetUp();
    if (HasFatalFailure()) return;
    HttpConfig hc;
    hc.insecure_http = true;
    hc.roles.smdps = {kSmdp};
    hc.es3 = es3_;
    hc.authenticate = [this](const net::Request&) {
      return std::optional<service::Caller>(service::Caller{caller_, service::CallerProof::ClientCertificate});
    };
    auto http = HttpService::start(service_, std::move(hc));
    ASSERT_TRUE(http) << http.error().message;
    http_ = std::move(*http);
    results_ = std::make_shared<smdp::Es3Results>();
    smdp::Es3ClientOptions o;
    o.smsr_url = http_->url();
    o.result_timeout = 20s;
    auto client = smdp::Es3Client::create(std::move(o), results_);
    ASSERT_TRUE(client) << client.error();
    client_ = std::move(*client);
    // The callback sender's part: each SM-DP result delivered once (the
    // ES3 notifications, e.g. the card's confirmation of the enable, are
    // not results: no call waits on them).
    carrier_ = std::thread([this] {
      std::set<std::int64_t> sent;
      while (!stop_) {
        // Held in a variable: a range-for over `*due(100)` would outlive the
        // temporary it dereferences.
        auto due = registry_->outbox()->due(100);
        if (due)
          for (const auto& item : *due)
            if (item.recipient == kSmdp && sent.insert(item.id).second && !es3::decode_notification(item.body))
              EXPECT_TRUE(results_->deliver(item.body));
        std::this_thread::sleep_for(10ms);
      }
    });
  }
  void TearDown() override {
    stop_ = true;
    if (carrier_.joinable()) carrier_.join();
    if (http_) http_->stop();
    ProfileDownloadTest::TearDown();
  }

  std::string caller_ = kSmdp;
  std::unique_ptr<HttpService> http_;
  std::shared_ptr<smdp::Es3Results> results_;
  std::unique_ptr<smdp::Es3Client> client_;
  std::atomic<bool> stop_{false};
  std::thread carrier_;
};

TEST_F(Es3OverHttpTest, DownloadAndEnableOverHttp) {
  smdp::ProfileDownload download({*dp_, trust_, 8, {}}, *client_, *table_);
  auto d = download.run(request(true));
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->state, smdp::DownloadState::Enabled) << d->error;
  auto p = on_card(d->isdp_aid);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state, m2m::IsdpState::kEnabled);
  EXPECT_EQ((**registry_->eis(eid(), false)).profile(kIccid)->state, m2m::ProfileState::Enabled);
}

TEST_F(Es3OverHttpTest, UpdatesAndAuditOverHttp) {
  // Executed at once: a refusal for a profile that is not this SM-DP's.
  auto r = client_->call(es3::UpdatePolicyRules{eid(), kSecondIccid, {}});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, "Failed");
  EXPECT_EQ(r->subject_code, codes::kIccidUnknown.subject);
  EXPECT_EQ(r->reason_code, codes::kIccidUnknown.reason);
  r = client_->call(es3::UpdateSubscriptionAddress{eid(), kSecondIccid, {"4915550003", ""}});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->subject_code, codes::kIccidUnknown.subject);
  r = client_->call(es3::UpdateConnectivityParameters{eid(), kSecondIccid, from_hex("A0038001FF").value(), {}});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->subject_code, codes::kIccidUnknown.subject);
  // AuditEIS: accepted, run on the card, its result called back with the EIS.
  r = client_->call(es3::AuditEis{eid(), std::nullopt});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->function, es3::Function::AuditEis);
  EXPECT_EQ(r->status, "Executed-Success");
  ASSERT_TRUE(r->eis);
  EXPECT_EQ((*r->eis)["eid"], eid());
}

TEST_F(Es3OverHttpTest, RefusalsOverHttp) {
  // An unknown ISD-P: refused at once with its codes.
  auto r = client_->call(es3::SendData{eid(), euicc_m2m::isdp_aid(40), from_hex("AA03220100").value(), false, {}});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, "Failed");
  EXPECT_EQ(r->subject_code, codes::kIsdpUnknown.subject);
  EXPECT_EQ(r->reason_code, codes::kIsdpUnknown.reason);
  // A caller that is not a configured SM-DP.
  caller_ = "mno-two";
  r = client_->call(es3::GetEis{eid()});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, "Failed");
  EXPECT_EQ(r->subject_code, codes::kRequesterNotAllowed.subject);
  EXPECT_EQ(r->reason_code, codes::kRequesterNotAllowed.reason);
  EXPECT_FALSE(r->eis);
}

/// Failures of an MNO's DownloadProfile at each step, through the SM-DP's
/// ES2 service, the real SM-SR, ES5 and the simulated device: each ends
/// with its ISD-P deleted on the card and in the EIS (or the profile
/// quarantined when it could not be), the profile back in the inventory,
/// the MNO told with the failure's code, and nothing left in flight.
class Es2RollbackTest : public Es2DownloadTest {
 protected:
  /// Opens the SM-DP's ES2 service again on the same database (a restart),
  /// `edit` changing its configuration.
  void reopen(const std::function<void(smdp::Es2ServiceConfig&)>& edit = {}) {
    es2_.reset();
    smdp::Es2ServiceConfig config("smsr-1", {*dp_, trust_, 6, {}});
    if (edit) edit(config);
    auto svc = smdp::Es2Service::open(std::move(config), smdp_db_, inventory_, *port_, outbox_);
    ASSERT_TRUE(svc) << svc.error();
    es2_ = std::move(*svc);
  }

  /// DownloadProfile(enable) of the test's profile, accepted and run to its end.
  void download() {
    auto accepted = es2_->handle(m2m::es2::DownloadProfile{eid(), kIccid, "", "smsr-1", true, std::nullopt}, "mno-three");
    ASSERT_TRUE(accepted.answer.accepted()) << accepted.answer.message;
    auto ran = es2_->run_next();
    ASSERT_TRUE(ran && *ran) << (ran ? "" : ran.error());
  }

  /// The one callback queued for the MNO: its DownloadProfile result.
  m2m::es2::Result told() {
    auto due = outbox_->due();
    EXPECT_TRUE(due);
    if (!due || due->size() != 1) {
      ADD_FAILURE() << "expected one callback, got " << (due ? due->size() : 0);
      return {};
    }
    EXPECT_EQ(due->front().recipient, "mno-three");
    auto callback = m2m::es2::decode_callback(due->front().body);
    EXPECT_TRUE(callback);
    if (!callback) return {};
    const auto& r = std::get<m2m::es2::Result>(*callback);
    EXPECT_EQ(r.function, m2m::es2::Function::DownloadProfile);
    EXPECT_EQ(r.iccid, kIccid);
    return r;
  }

  void expect_told(m2m::Code c) {
    const auto r = told();
    EXPECT_EQ(r.status, "Failed");
    EXPECT_EQ(r.subject_code, c.subject);
    EXPECT_EQ(r.reason_code, c.reason);
  }

  /// Nothing of the download left: no ISD-P of the profile on the card or
  /// in the EIS, the profile `state` in the inventory, no operation open at
  /// the SM-SR or pending at the SM-DP, no download unfinished.
  void expect_rolled_back(smdp::ProfileState state = smdp::ProfileState::Available) {
    EXPECT_EQ(card_->isd_r().state().isdps.size(), 2u) << "an ISD-P was left on the card";
    EXPECT_FALSE((**registry_->eis(eid(), false)).profile(kIccid));
    EXPECT_EQ(inventory_->get("mno-three", kIccid)->state, state);
    expect_nothing_in_flight();
  }
  void expect_nothing_in_flight() {
    EXPECT_TRUE(registry_->open_operations(eid())->empty());
    auto table = smdp::DownloadTable::open(smdp_db_);
    ASSERT_TRUE(table);
    EXPECT_TRUE((*table)->unfinished()->empty());
    auto more = es2_->run_next();
    ASSERT_TRUE(more);
    EXPECT_FALSE(*more);
  }

  std::size_t count(es3::Function f) const { return static_cast<std::size_t>(std::count(calls_.begin(), calls_.end(), f)); }
};

TEST_F(Es2RollbackTest, SmsrUnreachableAtCreateIsdp) {
  cut_ = [](const es3::Request& r, Cut c) { return c == Cut::Before && std::holds_alternative<es3::CreateIsdp>(r); };
  download();
  // The rollback asks the SM-SR to delete what CreateISDP might have made:
  // it knows no such ICCID, so nothing was.
  EXPECT_EQ(count(es3::Function::DeleteIsdp), 1u);
  expect_rolled_back();
  expect_told(codes::kExecutionError);
}

// The SM-SR made the ISD-P but its answer never came back: the rollback
// finds it by ICCID and deletes it, so the profile handed out again is on
// no eUICC.
TEST_F(Es2RollbackTest, CreateIsdpAnswerLostDeletesTheIsdpMadeAllTheSame) {
  cut_ = [](const es3::Request& r, Cut c) { return c == Cut::After && std::holds_alternative<es3::CreateIsdp>(r); };
  download();
  EXPECT_EQ(calls_.back(), es3::Function::DeleteIsdp);
  expect_rolled_back();
  expect_told(codes::kExecutionError);
}

TEST_F(Es2RollbackTest, SmsrUnreachableOnceWhileTheProfileLoads) {
  int sends = 0;
  cut_ = [&](const es3::Request& r, Cut c) {
    return c == Cut::Before && std::holds_alternative<es3::SendData>(r) && ++sends == 3;
  };
  download();
  EXPECT_EQ(calls_.back(), es3::Function::DeleteIsdp);
  expect_rolled_back();
  expect_told(codes::kExecutionError);
}

// The SM-SR goes away mid-download and stays away: the ISD-P cannot be
// deleted, so the profile is quarantined, never offered again.
TEST_F(Es2RollbackTest, SmsrGoneForGoodQuarantinesTheProfile) {
  int sends = 0;
  bool gone = false;
  cut_ = [&](const es3::Request& r, Cut c) {
    if (c == Cut::Before && std::holds_alternative<es3::SendData>(r) && ++sends == 2) gone = true;
    return gone;
  };
  download();
  EXPECT_EQ(count(es3::Function::DeleteIsdp), 0u);  // it never reached the SM-SR
  EXPECT_EQ(card_->isd_r().state().isdps.size(), 3u);  // left behind, and known to be
  EXPECT_EQ(inventory_->get("mno-three", kIccid)->state, smdp::ProfileState::Quarantined);
  expect_told(codes::kExecutionError);
  auto again = es2_->handle(m2m::es2::DownloadProfile{eid(), kIccid, "", "smsr-1", true, std::nullopt}, "mno-three");
  EXPECT_EQ(again.answer.subject_code, codes::kIccidInUse.subject);
  gone = false;
  EXPECT_TRUE(registry_->open_operations(eid())->empty());
}

// The card has less free memory than the ISD-P asked: INSTALL is refused
// (6A84), CreateISDP fails with the eUICC's code, nothing to delete.
TEST_F(Es2RollbackTest, EuiccOutOfMemoryAtCreateIsdp) {
  reopen([](smdp::Es2ServiceConfig& c) { c.memory_margin = 1024 * 1024; });
  download();
  EXPECT_EQ(count(es3::Function::SendData), 0u);
  expect_rolled_back();
  expect_told(codes::kEuiccRefused);
}

// The package does not fit the ISD-P's quota: the card refuses the
// segment (6A84), SendData fails with the eUICC's code, the ISD-P is deleted.
TEST_F(ProfileDownloadTest, IsdpQuotaSmallerThanThePackageRollsBack) {
  smdp::ProfileDownload download({*dp_, trust_, 6, {}}, *port_, *table_);
  auto r = request(false);
  r.required_memory = 1024;
  auto d = download.run(r);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->state, smdp::DownloadState::Failed);
  EXPECT_EQ(d->subject_code, codes::kEuiccRefused.subject);
  EXPECT_EQ(d->reason_code, codes::kEuiccRefused.reason);
  EXPECT_EQ(calls_.back(), es3::Function::DeleteIsdp);
  EXPECT_FALSE(on_card(d->isdp_aid));
  EXPECT_FALSE((**registry_->eis(eid(), false)).profile(kIccid));
  EXPECT_TRUE(registry_->open_operations(eid())->empty());
}

TEST_F(Es2RollbackTest, UntrustedEcasdCertificateIsRefusedWithItsCode) {
  reopen([](smdp::Es2ServiceConfig& c) { c.download.trust.eums.clear(); });
  download();
  expect_rolled_back();
  expect_told(codes::kEcasdCertificateInvalid);
}

TEST_F(Es2RollbackTest, EcasdCertificateOfAnotherCiIsRefused) {
  reopen([](smdp::Es2ServiceConfig& c) { c.download.trust.cis.clear(); });
  download();
  expect_rolled_back();
  expect_told(codes::kEcasdCertificateInvalid);
}

TEST_F(Es2RollbackTest, ForgedReceiptIsRefusedAndRolledBack) {
  tamper_receipt_ = true;
  download();
  expect_rolled_back();
  expect_told(codes::kKeysetReceiptInvalid);
}

TEST_F(Es2RollbackTest, TamperedScp03tSegmentIsRefusedByTheCardAndRolledBack) {
  tamper_segment_ = true;
  download();
  expect_rolled_back();
  expect_told(codes::kEuiccRefused);
}

/// The MNO's profile type has connectivity parameters; their secured
/// command is changed on its way: the ISD-P refuses it (its C-MAC), the
/// parameters never reach the card, the download is rolled back and the
/// MNO told the SM-SR's code, the eUICC refused (8.1/3.8).
TEST_F(Es2RollbackTest, TamperedConnectivityParametersAreRefusedAndRolledBack) {
  reopen([](smdp::Es2ServiceConfig& c) { c.connectivity_parameters["m2m-data"] = from_hex("A0038001FF").value(); });
  tamper_connectivity_ = true;
  download();
  expect_rolled_back();
  expect_told(codes::kEuiccRefused);
  for (const auto& isdp : card_->isd_r().state().isdps) EXPECT_NE(isdp.connectivity, from_hex("A0038001FF").value());
}

/// The same without the change: the profile arrives with its parameters.
TEST_F(Es2RollbackTest, ProfileTypeConnectivityParametersReachTheCard) {
  reopen([](smdp::Es2ServiceConfig& c) { c.connectivity_parameters["m2m-data"] = from_hex("A0038001FF").value(); });
  download();
  EXPECT_EQ(told().status, "Executed-Success");
  const auto eis = **registry_->eis(eid(), false);
  ASSERT_TRUE(eis.profile(kIccid));
  auto p = on_card(eis.profile(kIccid)->isdp_aid);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->connectivity, from_hex("A0038001FF").value());
}

/// A device whose connection is cut while the profile loads: after its
/// ISD-P ran the `n`th command it stalls past the session's idle timeout
/// (or, held, until the test lets it go), so the SM-SR drops the session
/// and the device's answer is lost.
class SessionDropTest : public Es2RollbackTest {
 protected:
  void cut_after(int n, bool held = false) {
    after_isdp_command_ = [this, n, held](ByteView) {
      if (++commands_ != n) return;
      stalled_ = true;
      if (!held) {
        std::this_thread::sleep_for(600ms);  // the server's idle timeout is 300 ms
        return;
      }
      (void)eventually([&] { return release_.load(); }, 20s);
    };
  }
  /// Runs `then` on a thread of its own once `ready` holds.
  void when(std::function<bool()> ready, std::function<void()> then) {
    watcher_ = std::thread([is_ready = std::move(ready), act = std::move(then)] {
      if (eventually(is_ready, 20s)) act();
    });
  }
  void TearDown() override {
    release_ = true;
    if (watcher_.joinable()) watcher_.join();
    Es2RollbackTest::TearDown();
  }
  std::atomic<int> commands_{0};
  std::atomic<bool> stalled_{false};
  std::atomic<bool> release_{false};
  std::thread watcher_;
};

// The device comes back (a new wake-up): the SM-SR sends the unanswered
// script again (at least once, ES5), the card refuses the replayed SCP03t
// segment, and the download is rolled back with the eUICC's code.
TEST_F(SessionDropTest, DeviceBackAfterADroppedSessionEndsInRollback) {
  cut_after(10);
  when([this] { return device_->sessions_failed() > 0; }, [this] { link_->wake_up(eid()); });
  download();
  EXPECT_GE(device_->sessions_failed(), 1u);
  EXPECT_EQ(calls_.back(), es3::Function::DeleteIsdp);
  expect_rolled_back();
  expect_told(codes::kEuiccRefused);
}

// The device does not come back while the SendData is valid (held past
// the session's timeout until then): it expires at the SM-SR (1.6/5.3),
// the SM-DP has the ISD-P deleted (its wake-up brings the device back), and
// the MNO is told the expiry.
TEST_F(SessionDropTest, SendDataExpiredAfterADroppedSessionEndsInRollback) {
  cut_after(10, true);
  when([this] { return stalled_.load(); },
       [this] {
         std::this_thread::sleep_for(400ms);  // past the session's idle timeout
         Es5LinkTest::clock_->advance(601s);
         EXPECT_EQ(*service_->expire(), 1u);
         release_ = true;
       });
  download();
  EXPECT_EQ(calls_.back(), es3::Function::DeleteIsdp);
  expect_rolled_back();
  expect_told(codes::kExpired);
}

}  // namespace
}  // namespace rsp::smsr::testing
