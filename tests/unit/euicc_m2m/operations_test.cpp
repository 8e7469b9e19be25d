// The M2M ISD-R's platform operations (SGP.02 §3, §4.1.1): each one accepted
// and refused as the spec and POL1 say, through the same C-APDUs the SM-SR
// sends; malformed commands answer a status word.
#include "m2m_fixture.hpp"

#include "rsp/apdu/status_words.hpp"
#include "rsp/card/aid.hpp"

namespace rsp::euicc_m2m::test {
namespace {

using m2m::IsdpState;
using namespace apdu::sw;

TEST_F(M2mTest, EnableTheSecondProfileDisablesTheBootstrapAndNotifies) {
  EXPECT_EQ(sw(m2m::EnableProfile{second_}), kOk);
  EXPECT_EQ(isdp(second_).state, IsdpState::kEnabled);
  EXPECT_EQ(isdp(boot_).state, IsdpState::kDisabled);
  auto n = card_->isd_r().pending_notifications();
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].seq_number, 1u);
  EXPECT_EQ(n[0].type, m2m::NotificationType::kProfileChangeSucceeded);
  EXPECT_EQ(n[0].isdp_aid, second_);
  EXPECT_EQ(n[0].eid, card_->isd_r().eid());
  EXPECT_TRUE(m2m::parse_notification(m2m::encode_notification(n[0])));
}

TEST_F(M2mTest, EnableRefusals) {
  EXPECT_EQ(sw(m2m::EnableProfile{boot_}), kConditionsNotSatisfied);  // already enabled
  EXPECT_EQ(sw(m2m::EnableProfile{isdp_aid(9)}), kReferencedDataNotFound);
  // the enabled profile's POL1 forbids disabling it, so no other can be enabled
  EXPECT_EQ(sw(m2m::UpdatePolicyRules{boot_, m2m::pol1::kDisableNotAllowed}), kOk);
  EXPECT_EQ(sw(m2m::EnableProfile{second_}), kConditionsNotSatisfied);
  EXPECT_EQ(isdp(boot_).state, IsdpState::kEnabled);
  EXPECT_TRUE(card_->isd_r().pending_notifications().empty());
}

TEST_F(M2mTest, DisableEnablesTheFallbackProfile) {
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), kOk);
  EXPECT_EQ(sw(m2m::DisableProfile{boot_}), kConditionsNotSatisfied);  // not enabled
  EXPECT_EQ(sw(m2m::DisableProfile{second_}), kOk);
  EXPECT_EQ(isdp(second_).state, IsdpState::kDisabled);
  EXPECT_EQ(isdp(boot_).state, IsdpState::kEnabled);
  // the fallback profile itself cannot be disabled: nothing would take over
  EXPECT_EQ(sw(m2m::DisableProfile{boot_}), kConditionsNotSatisfied);
  EXPECT_EQ(sw(m2m::DisableProfile{isdp_aid(9)}), kReferencedDataNotFound);
  EXPECT_EQ(card_->isd_r().pending_notifications().size(), 2u);
}

TEST_F(M2mTest, Pol1DisableNotAllowed) {
  ASSERT_EQ(sw(m2m::UpdatePolicyRules{second_, m2m::pol1::kDisableNotAllowed}), kOk);
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), kOk);
  EXPECT_EQ(sw(m2m::DisableProfile{second_}), kConditionsNotSatisfied);
  EXPECT_EQ(sw(m2m::EnableProfile{boot_}), kConditionsNotSatisfied);
  EXPECT_EQ(isdp(second_).state, IsdpState::kEnabled);
  EXPECT_EQ(isdp(second_).pol1, m2m::pol1::kDisableNotAllowed);
}

TEST_F(M2mTest, DeleteRules) {
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), kOk);
  EXPECT_EQ(sw(m2m::DeleteProfile{second_}), kConditionsNotSatisfied);  // enabled
  EXPECT_EQ(sw(m2m::DeleteProfile{boot_}), kConditionsNotSatisfied);    // fallback (and POL1)
  ASSERT_EQ(sw(m2m::SetFallbackAttribute{second_}), kOk);
  EXPECT_EQ(sw(m2m::DeleteProfile{boot_}), kConditionsNotSatisfied);  // POL1: delete not allowed
  ASSERT_EQ(sw(m2m::UpdatePolicyRules{boot_, 0}), kOk);
  auto r = send(m2m::DeleteProfile{boot_});
  EXPECT_EQ(r.sw, kOk);
  EXPECT_EQ(r.data, Bytes{0x00});
  EXPECT_FALSE(exists(boot_));
  EXPECT_EQ(sw(m2m::DeleteProfile{boot_}), kReferencedDataNotFound);
}

TEST_F(M2mTest, Pol1DeleteWhenDisabled) {
  ASSERT_EQ(sw(m2m::UpdatePolicyRules{second_, m2m::pol1::kDeleteWhenDisabled}), kOk);
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), kOk);
  ASSERT_EQ(sw(m2m::EnableProfile{boot_}), kOk);
  EXPECT_FALSE(exists(second_));
  EXPECT_EQ(isdp(boot_).state, IsdpState::kEnabled);
}

TEST_F(M2mTest, CreateIsdpLoadAndEnable) {
  const Bytes aid = isdp_aid(2);
  auto r = send(m2m::CreateIsdp{aid, 0x4000});
  ASSERT_EQ(r.sw, kOk);
  EXPECT_EQ(r.data, Bytes{0x00});
  EXPECT_EQ(isdp(aid).state, IsdpState::kSelectable);
  EXPECT_EQ(isdp(aid).memory_quota, 0x4000u);
  EXPECT_EQ(sw(m2m::CreateIsdp{aid, std::nullopt}), kConditionsNotSatisfied);  // exists
  EXPECT_EQ(sw(m2m::CreateIsdp{Bytes(std::begin(card::kEcasdAid), std::end(card::kEcasdAid)), std::nullopt}),
            kConditionsNotSatisfied);
  EXPECT_EQ(sw(m2m::CreateIsdp{isdp_aid(3), 0x7FFFFFFF}), kNotEnoughMemory);
  // no profile yet: neither enabled nor given attributes
  EXPECT_EQ(sw(m2m::EnableProfile{aid}), kConditionsNotSatisfied);
  EXPECT_EQ(sw(m2m::SetFallbackAttribute{aid}), kConditionsNotSatisfied);
  ASSERT_TRUE(card_->isd_r().load_profile(aid, from_hex("98001032547698103236").value(), 0, "mno-three"));
  EXPECT_FALSE(card_->isd_r().load_profile(aid, from_hex("98001032547698103236").value(), 0, "mno-three"));
  EXPECT_EQ(isdp(aid).state, IsdpState::kDisabled);
  EXPECT_EQ(sw(m2m::EnableProfile{aid}), kOk);
  // an ISD-P without a profile can be deleted
  ASSERT_EQ(sw(m2m::CreateIsdp{isdp_aid(3), std::nullopt}), kOk);
  EXPECT_EQ(sw(m2m::DeleteProfile{isdp_aid(3)}), kOk);
}

TEST_F(M2mTest, AttributesMove) {
  ASSERT_EQ(sw(m2m::SetFallbackAttribute{second_}), kOk);
  EXPECT_TRUE(isdp(second_).fallback);
  EXPECT_FALSE(isdp(boot_).fallback);
  ASSERT_EQ(sw(m2m::SetEmergencyProfileAttribute{boot_}), kOk);
  ASSERT_EQ(sw(m2m::SetEmergencyProfileAttribute{second_}), kOk);
  EXPECT_TRUE(isdp(second_).emergency);
  EXPECT_FALSE(isdp(boot_).emergency);
  EXPECT_EQ(sw(m2m::SetFallbackAttribute{isdp_aid(7)}), kReferencedDataNotFound);
  EXPECT_EQ(sw(m2m::SetEmergencyProfileAttribute{isdp_aid(7)}), kReferencedDataNotFound);
}

/// In clear through the ISD-R the parameters are refused (only the
/// SM-DP's ES8 command secured for the ISD-P changes them, es8_card_test).
TEST_F(M2mTest, ConnectivityParametersInClearAreRefused) {
  const Bytes before = isdp(second_).connectivity;
  const Bytes params = from_hex("A00A80080891214365870900").value();
  EXPECT_EQ(sw(m2m::UpdateConnectivityParameters{second_, params}), apdu::sw::kFunctionNotSupported);
  EXPECT_EQ(isdp(second_).connectivity, before);
  EXPECT_EQ(sw(m2m::UpdateConnectivityParameters{isdp_aid(7), params}), kReferencedDataNotFound);
}

TEST_F(M2mTest, AuditAndGetData) {
  auto r = send(m2m::AuditIsdps{});
  ASSERT_EQ(r.sw, kOk);
  auto list = m2m::parse_isdp_status(r.data);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], (m2m::IsdpStatus{boot_, IsdpState::kEnabled, from_hex("98001032547698103214").value(), true,
                                         false, m2m::pol1::kDeleteNotAllowed}));
  EXPECT_EQ((*list)[1].state, IsdpState::kDisabled);
  auto one = send(m2m::AuditIsdps{second_});
  ASSERT_EQ(one.sw, kOk);
  EXPECT_EQ(m2m::parse_isdp_status(one.data).value().size(), 1u);
  EXPECT_EQ(sw(m2m::AuditIsdps{isdp_aid(7)}), kReferencedDataNotFound);

  auto eid = send(m2m::GetEuiccData{m2m::data_tag::kEid});
  ASSERT_EQ(eid.sw, kOk);
  EXPECT_EQ(m2m::parse_eid(eid.data).value(), card_->isd_r().eid());
  auto res = send(m2m::GetEuiccData{m2m::data_tag::kCardResources});
  ASSERT_EQ(res.sw, kOk);
  auto resources = m2m::parse_card_resources(res.data).value();
  EXPECT_EQ(resources.installed_applications, 4u);
  EXPECT_EQ(resources.free_non_volatile, 512u * 1024 - 2 * kDefaultIsdpQuota);
  EXPECT_EQ(sw(m2m::GetEuiccData{m2m::data_tag::kCertificate}), kReferencedDataNotFound);  // the ECASD's
}

TEST_F(M2mTest, EcasdAnswersEidAndCertificateThroughTheCard) {
  auto& card = card_->card();
  auto select = card.transmit(from_hex("00A4040010A0000005591010FFFFFFFF8900000200").value());
  ASSERT_EQ(apdu::parse_response(select).value().sw, kOk);
  auto eid = apdu::parse_response(card.transmit(from_hex("80CA005A00").value())).value();
  ASSERT_EQ(eid.sw, kOk);
  EXPECT_EQ(m2m::parse_eid(eid.data).value(), card_->isd_r().eid());
  auto cert = apdu::parse_response(card.transmit(from_hex("80CA7F2100").value())).value();
  // longer than one response: the card chains with 61xx
  if ((cert.sw >> 8) == 0x61) {
    Bytes all = cert.data;
    while ((cert.sw >> 8) == 0x61) {
      cert = apdu::parse_response(card.transmit(from_hex("80C0000000").value())).value();
      all.insert(all.end(), cert.data.begin(), cert.data.end());
    }
    cert.data = all;
  }
  ASSERT_EQ(cert.sw, kOk);
  EXPECT_EQ(cert.data[0], 0x7F);
  EXPECT_EQ(cert.data[1], 0x21);
}

TEST_F(M2mTest, PlainCommandsFromTheTerminalNeedTheSecureChannel) {
  auto& card = card_->card();
  ASSERT_EQ(apdu::parse_response(card.transmit(from_hex("00A4040010A0000005591010FFFFFFFF8900000100").value()))
                .value()
                .sw,
            kOk);
  auto enable = m2m::build_apdu(m2m::EnableProfile{second_}).value();
  EXPECT_EQ(apdu::parse_response(card.transmit(enable)).value().sw, kSecurityStatusNotSatisfied);
  EXPECT_EQ(isdp(second_).state, IsdpState::kDisabled);
}

TEST_F(M2mTest, MalformedCommandsAnswerAStatusWordAndChangeNothing) {
  auto& isd_r = card_->isd_r();
  const auto before = isd_r.state().isdps.size();
  auto status = [&](std::string_view h) {
    auto r = apdu::parse_response(isd_r.execute(from_hex(h).value()));
    return r ? r->sw : 0;
  };
  EXPECT_EQ(status(""), kWrongLength);
  EXPECT_EQ(status("80E2"), kWrongLength);
  EXPECT_EQ(status("00E2880003" "3A0300"), kClaNotSupported);
  EXPECT_EQ(status("80E2880003" "3A0300"), kWrongData);
  EXPECT_EQ(status("84E2880003" "3A0300"), kSecureMessagingNotSupported);  // the transport's job
  EXPECT_EQ(status("10E2880003" "3A0300"), kCommandChainingNotSupported);
  EXPECT_EQ(status("80E2880015" "3A0F12" "4F10A0000005591010FFFFFFFF8900001100"), kReferencedDataNotFound);
  // every truncation and every single-byte change of a valid command: a status word, never 6F00
  const Bytes valid = m2m::build_apdu(m2m::CreateIsdp{isdp_aid(5), 0x1000}).value();
  std::size_t accepted = 0;
  for (std::size_t n = 0; n < valid.size(); ++n) {
    auto r = apdu::parse_response(isd_r.execute(ByteView(valid).first(n)));
    ASSERT_TRUE(r);
    EXPECT_NE(r->sw, kNoPreciseDiagnosis);
    if (r->sw == kOk) ++accepted;  // only without its Le byte
  }
  EXPECT_EQ(accepted, 1u);
  for (std::size_t i = 0; i < valid.size(); ++i) {
    Bytes m = valid;
    m[i] ^= 0x5A;
    auto r = apdu::parse_response(isd_r.execute(m));
    ASSERT_TRUE(r);
    EXPECT_NE(r->sw, kNoPreciseDiagnosis);
    if (r->sw == kOk) ++accepted;
  }
  // a change inside the new AID or the quota still codes a valid CreateISDP;
  // every other change was refused and created nothing
  EXPECT_GT(accepted, 1u);
  EXPECT_EQ(isd_r.state().isdps.size(), before + accepted);
}

TEST_F(M2mTest, NotificationsStayUntilConfirmed) {
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), kOk);
  ASSERT_EQ(sw(m2m::EnableProfile{boot_}), kOk);
  auto n = card_->isd_r().pending_notifications();
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[1].seq_number, 2u);
  EXPECT_EQ(sw(m2m::ConfirmNotification{7}), kReferencedDataNotFound);
  EXPECT_EQ(sw(m2m::ConfirmNotification{1}), kOk);
  EXPECT_EQ(sw(m2m::ConfirmNotification{1}), kReferencedDataNotFound);
  n = card_->isd_r().pending_notifications();
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].seq_number, 2u);
}

}  // namespace
}  // namespace rsp::euicc_m2m::test
