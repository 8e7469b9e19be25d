// ES3 through the SM-SR to the simulated M2M eUICC in one process, the test
// as SM-DP (es3_link_fixture.hpp): CreateISDP, ES8 key establishment, the
// profile loaded by SendData, ProfileDownloadCompleted and EnableProfile.
// Then the refusals: an unknown ISD-P, an ICCID already there, a receipt that
// does not verify (the ISD-P deleted by DeleteISDP), a card error; AuditEIS
// and the updates, on the caller's own profiles only. The SM-DP's
// ProfileDownload and ES2 over the same link are in es3_profile_download_test,
// es3_es2_download_test, es3_over_http_test and es3_rollback_test.

#include <gtest/gtest.h>

#include <algorithm>

#include "es3_link_fixture.hpp"
#include "rsp/m2m/es8_connectivity.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/smdpp/sample_profile.hpp"

namespace rsp::smsr::testing {
namespace {

using namespace std::chrono_literals;

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
  // Two SendData: CERT.DP.ECDSA, answered with the card's random challenge;
  // then the key agreement signed over it.
  auto ke = smdp::KeyEstablishment::start(*dp_, ecasd_cert_, trust_, eid());
  ASSERT_TRUE(ke) << ke.error().message;
  auto [cert, cert_script] = send(aid, ke->commands());
  ASSERT_EQ(cert.status, "Executed-Success");
  ASSERT_EQ(cert_script.r_apdus.size(), ke->commands().size());
  ASSERT_TRUE(ke->agree(cert_script.r_apdus.back().data));
  auto [ka, ka_script] = send(aid, ke->key_agreement_commands());
  ASSERT_EQ(ka.status, "Executed-Success");
  ASSERT_EQ(ka_script.r_apdus.size(), ke->key_agreement_commands().size());
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
  auto [cert, cert_script] = send(aid, ke->commands());
  ASSERT_EQ(cert.status, "Executed-Success");
  ASSERT_TRUE(ke->agree(cert_script.r_apdus.back().data));
  auto [ka, script] = send(aid, ke->key_agreement_commands());
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
  ASSERT_TRUE(ke->agree({}));
  auto key_agreement = ke->key_agreement_commands().back();  // message 2 alone, as a sequence of its own
  key_agreement.p2 = 0;
  auto [r, script] = send(created.isdp_aid, {key_agreement});
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

}  // namespace
}  // namespace rsp::smsr::testing
