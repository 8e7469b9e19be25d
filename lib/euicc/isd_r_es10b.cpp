// ISD-R: the ES10b functions outside the download (SGP.22 §5.7.7-§5.7.12,
// §5.7.22) and the eUICC-signed notifications (§3.5, §5.7.10).

#include <algorithm>

#include "isd_r_internal.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/euicc/isd_r.hpp"

namespace rsp::euicc {

using namespace asn1::sgp22;
using detail::decode_command;
using Result = expected<Bytes, std::uint16_t>;

namespace detail {

std::uint8_t ppr_mask(const asn1::BitString& bits) {
  std::uint8_t m = 0;
  if (bits.test(PprIds_values::ppr1)) m |= 0x02;
  if (bits.test(PprIds_values::ppr2)) m |= 0x04;
  return m;
}

asn1::BitString ppr_bits(std::uint8_t mask) {
  if ((mask & 0x06) == 0x06) return asn1::BitString::from_bits({1, 2});
  if (mask & 0x02) return asn1::BitString::from_bits({1});
  if (mask & 0x04) return asn1::BitString::from_bits({2});
  return asn1::BitString::from_bits({});
}

asn1::BitString event_bits(NotificationEvent e) {
  return asn1::BitString::from_bits({static_cast<std::size_t>(e)});
}

ProfileInfo to_profile_info(const ProfileRecord& p) {
  ProfileInfo i;
  i.iccid = p.iccid;
  i.isdpAid = p.isdp_aid;
  i.profileState = p.enabled ? ProfileState_values::enabled : ProfileState_values::disabled;
  i.profileNickname = p.nickname;
  i.serviceProviderName = p.service_provider_name;
  i.profileName = p.profile_name;
  if (p.icon_type && !p.icon.empty()) {
    i.iconType = *p.icon_type;
    i.icon = p.icon;
  }
  i.profileClass = p.profile_class;
  if (!p.notification_config.empty()) {
    auto& list = i.notificationConfigurationInfo.emplace();
    for (const auto& c : p.notification_config) {
      NotificationConfigurationInformation n;
      // several events may share one address: set their bits (DER: no trailing zero bits)
      asn1::BitString b;
      for (std::size_t bit = 0; bit < 4; ++bit) {
        if (!(c.events & (1u << bit))) continue;
        b.bytes.resize(1, 0);
        b.bytes[0] = static_cast<std::uint8_t>(b.bytes[0] | (0x80 >> bit));
        b.unused_bits = static_cast<std::uint8_t>(7 - bit);
      }
      n.profileManagementOperation = b;
      n.notificationAddress = c.address;
      list.push_back(std::move(n));
    }
  }
  if (!p.profile_owner.empty()) {
    if (auto owner = asn1::decode<OperatorID>(p.profile_owner)) i.profileOwner = *owner;
  }
  i.profilePolicyRules = ppr_bits(p.ppr);
  return i;
}

}  // namespace detail

bool IsdR::add_notification(EuiccState& state, const ProfileRecord& p, NotificationEvent event) {
  const auto bit = static_cast<std::uint8_t>(1u << static_cast<unsigned>(event));
  auto cfg = std::find_if(p.notification_config.begin(), p.notification_config.end(),
                          [&](const NotificationConfig& c) { return (c.events & bit) != 0; });
  if (cfg == p.notification_config.end()) return false;  // §2.4a: only when the metadata asks
  const Identity* id = identity();
  if (!id) return false;
  const auto& curve = id->curves.front();
  const crypto::EcKey* key = euicc_key(curve.curve);
  if (!key) return false;
  NotificationMetadata meta;
  meta.seqNumber = state.next_seq_number;
  meta.profileManagementOperation = detail::event_bits(event);
  meta.notificationAddress = cfg->address;
  meta.iccid = p.iccid;
  OtherSignedNotification n;
  n.tbsOtherNotification = meta;
  // §5.7.10: euiccNotificationSignature over the DER of tbsOtherNotification.
  auto sig = crypto::sign_plain(*key, asn1::encode(meta));
  if (!sig) return false;
  n.euiccNotificationSignature = std::move(*sig);
  n.euiccCertificate.der = curve.euicc_cert;
  n.eumCertificate.der = curve.eum_cert;
  PendingNotification pending;
  pending.set_otherSignedNotification(std::move(n));
  state.notifications.push_back(
      {state.next_seq_number, event, cfg->address, p.iccid, asn1::encode(pending)});
  ++state.next_seq_number;
  return true;
}

Result IsdR::get_euicc_challenge(ByteView c) {
  if (!decode_command<GetEuiccChallengeRequest>(c)) return unexpected(sw::kWrongData);
  GetEuiccChallengeResponse r;
  r.euiccChallenge = random_->bytes(16);
  end_session();  // §3.1.3: a new challenge starts a new session
  euicc_challenge_ = r.euiccChallenge;
  return asn1::encode(r);
}

Result IsdR::get_euicc_info1(ByteView c) {
  if (!decode_command<GetEuiccInfo1Request>(c)) return unexpected(sw::kWrongData);
  const Identity* id = identity();
  if (!id) return unexpected(sw::kNoPreciseDiagnosis);
  EUICCInfo1 r;
  r.svn.assign(std::begin(kSvn), std::end(kSvn));
  for (const auto& cv : id->curves) {
    r.euiccCiPKIdListForVerification.push_back(cv.ci_pkid);
    r.euiccCiPKIdListForSigning.push_back(cv.ci_pkid);
  }
  return asn1::encode(r);
}

std::optional<EUICCInfo2> detail::make_euicc_info2(const EuiccState& s, const Identity* id) {
  if (!id) return std::nullopt;
  EUICCInfo2 r;
  r.profileVersion = {0x02, 0x03, 0x01};  // SAIP v2.3.1
  r.svn.assign(std::begin(kSvn), std::end(kSvn));
  r.euiccFirmwareVer = {0x01, 0x00, 0x00};
  // §5.7.8 extCardResource: 81 installed applications, 82 free NVM, 83 free RAM.
  const auto apps = static_cast<std::uint8_t>(std::min<std::size_t>(s.profiles.size(), 255));
  constexpr auto nvm = kFreeProfileMemory;
  r.extCardResource = {0x81, 0x01, apps, 0x82, 0x03, static_cast<std::uint8_t>(nvm >> 16),
                       static_cast<std::uint8_t>(nvm >> 8), static_cast<std::uint8_t>(nvm), 0x83, 0x02, 0x40, 0x00};
  // usimSupport, isimSupport, milenage, javacard, gba... the basic set.
  r.uiccCapability = asn1::BitString::from_bits({1, 2, 4, 6, 7, 8});
  r.javacardVersion = VersionType{0x03, 0x00, 0x05};
  r.globalplatformVersion = VersionType{0x02, 0x03, 0x01};
  r.rspCapability = asn1::BitString::from_bits({RspCapability_values::additionalProfile,
                                                RspCapability_values::testProfileSupport});
  for (const auto& cv : id->curves) {
    r.euiccCiPKIdListForVerification.push_back(cv.ci_pkid);
    r.euiccCiPKIdListForSigning.push_back(cv.ci_pkid);
  }
  r.euiccCategory = EUICCInfo2::euiccCategory_values::other;
  r.ppVersion = {0x00, 0x00, 0x01};
  r.sasAcreditationNumber = "RSP-TEST-SAS";
  return r;
}

Result IsdR::get_euicc_info2(ByteView c) {
  if (!decode_command<GetEuiccInfo2Request>(c)) return unexpected(sw::kWrongData);
  auto s = state_.load(store_);
  if (!s) return unexpected(sw::kNoPreciseDiagnosis);
  auto r = detail::make_euicc_info2(*s, identity());
  if (!r) return unexpected(sw::kNoPreciseDiagnosis);
  return asn1::encode(*r);
}

Result IsdR::list_notification(ByteView c) {
  using E = ListNotificationResponse::listNotificationsResultError_values;
  return detail::with_state<ListNotificationRequest, ListNotificationResponse>(
      loader(), c, [](ListNotificationResponse& r) { r.set_listNotificationsResultError(E::undefinedError); },
      [](const ListNotificationRequest& req, EuiccState& s, ListNotificationResponse& r) {
        auto& list = r.set_notificationMetadataList();
        for (const auto& n : s.notifications) {
          if (req.profileManagementOperation &&
              !req.profileManagementOperation->test(static_cast<std::size_t>(n.event))) {
            continue;
          }
          NotificationMetadata m;
          m.seqNumber = n.seq_number;
          m.profileManagementOperation = detail::event_bits(n.event);
          m.notificationAddress = n.address;
          if (!n.iccid.empty()) m.iccid = n.iccid;
          list.push_back(std::move(m));
        }
      });
}

Result IsdR::retrieve_notifications(ByteView c) {
  using E = RetrieveNotificationsListResponse::notificationsListResultError_values;
  return detail::with_state<RetrieveNotificationsListRequest, RetrieveNotificationsListResponse>(
      loader(), c, [](RetrieveNotificationsListResponse& r) { r.set_notificationsListResultError(E::undefinedError); },
      [](const RetrieveNotificationsListRequest& req, EuiccState& s, RetrieveNotificationsListResponse& r) {
        const auto* crit = req.searchCriteria ? &*req.searchCriteria : nullptr;
        if (crit && crit->unknown()) {
          r.set_notificationsListResultError(E::undefinedError);
          return;
        }
        std::vector<PendingNotification> out;
        for (const auto& n : s.notifications) {
          if (crit && crit->seqNumber() && *crit->seqNumber() != n.seq_number) continue;
          if (crit && crit->profileManagementOperation() &&
              !crit->profileManagementOperation()->test(static_cast<std::size_t>(n.event))) {
            continue;
          }
          auto p = asn1::decode<PendingNotification>(n.pending_der);
          if (p) out.push_back(std::move(*p));
        }
        // §5.7.10: a search that finds nothing answers noResultAvailable.
        if (out.empty() && crit) {
          r.set_notificationsListResultError(E::noResultAvailable);
        } else {
          r.set_notificationList(std::move(out));
        }
      });
}

Result IsdR::remove_notification(ByteView c) {
  return detail::with_state<NotificationSentRequest, NotificationSentResponse>(
      loader(), c, &NotificationSentResponse::deleteNotificationStatus,
      [&](const NotificationSentRequest& req, EuiccState& s, NotificationSentResponse& r) {
        using V = NotificationSentResponse::deleteNotificationStatus_values;
        auto it = std::find_if(s.notifications.begin(), s.notifications.end(),
                               [&](const NotificationRecord& n) { return n.seq_number == req.seqNumber; });
        if (it == s.notifications.end()) {
          r.deleteNotificationStatus = V::nothingToDelete;
          return;
        }
        s.notifications.erase(it);
        r.deleteNotificationStatus = state_.save(store_, s) ? V::ok : V::undefinedError;
      });
}

Result IsdR::get_rat(ByteView c) {
  if (!decode_command<GetRatRequest>(c)) return unexpected(sw::kWrongData);
  // §2.9.2.2: this card lets any operator (wildcard MCC/MNC 'EEEEEE') set
  // PPR1 and PPR2 without end-user consent.
  ProfilePolicyAuthorisationRule rule;
  rule.pprIds = asn1::BitString::from_bits({PprIds_values::ppr1, PprIds_values::ppr2});
  OperatorID any;
  any.mccMnc = {0xEE, 0xEE, 0xEE};
  rule.allowedOperators.push_back(any);
  rule.pprFlags = asn1::BitString::from_bits({});
  GetRatResponse r;
  r.rat.push_back(std::move(rule));
  return asn1::encode(r);
}

Result IsdR::load_crl(ByteView c) {
  if (!decode_command<LoadCRLRequest>(c)) return unexpected(sw::kWrongData);
  // crlSupport is not announced in EUICCInfo2 (§5.7.11: optional function).
  LoadCRLResponse r;
  r.set_loadCRLResponseError(LoadCRLResponseError_values::undefinedError);
  return asn1::encode(r);
}

Result IsdR::cancel_session(ByteView c) {
  auto req = decode_command<CancelSessionRequest>(c);
  if (!req) return unexpected(sw::kWrongData);
  using E = CancelSessionResponse::cancelSessionResponseError_values;
  CancelSessionResponse r;
  if (!transaction_id_ || *transaction_id_ != req->transactionId) {
    r.set_cancelSessionResponseError(E::invalidTransactionId);
    return asn1::encode(r);
  }
  // §5.7.14 (CancelSession): the eUICC signs transactionId, the SM-DP+ OID and
  // the reason with the key of the session's curve; the session ends either way.
  const crypto::EcKey* key = session_key();  // the card keeps its keys past end_session()
  CancelSessionResponseOk ok;
  ok.euiccCancelSessionSigned.transactionId = req->transactionId;
  ok.euiccCancelSessionSigned.smdpOid.content = smdp_oid_;
  ok.euiccCancelSessionSigned.reason = req->reason;
  end_session();
  // The download is over: a later one starts with a fresh one-time key pair.
  forget_one_time_key();
  if (!key || ok.euiccCancelSessionSigned.smdpOid.content.empty()) {
    r.set_cancelSessionResponseError(E::undefinedError);
    return asn1::encode(r);
  }
  auto sig = crypto::sign_plain(*key, asn1::encode(ok.euiccCancelSessionSigned));
  if (!sig) {
    r.set_cancelSessionResponseError(E::undefinedError);
    return asn1::encode(r);
  }
  ok.euiccCancelSessionSignature = std::move(*sig);
  r.set_cancelSessionResponseOk(std::move(ok));
  return asn1::encode(r);
}

}  // namespace rsp::euicc
