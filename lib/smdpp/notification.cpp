/// ES9+.HandleNotification (SGP.22 §5.6.4) and ES9+.CancelSession (§5.6.5).

#include <algorithm>

#include "rsp/asn1/runtime.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/pki/memo.hpp"
#include "rsp/pki/validator.hpp"
#include "rsp/smdpp/server.hpp"
#include "session.hpp"

namespace rsp::smdpp {

namespace sg = asn1::sgp22;

namespace {

/// The outcome of a verified ProfileInstallationResult, recorded on its order.
SmdppResult<NotificationOutcome> record_install_result(ProfileCatalog& catalog,
                                                       const sg::ProfileInstallationResult& pir, std::string eid,
                                                       const std::string& matching_id) {
  const auto& data = pir.profileInstallationResultData;
  RSP_TRY(const InstallOutcome recorded, catalog.record_install_result(matching_id, pir));
  NotificationOutcome out;
  out.eid = std::move(eid);
  out.seq_number = data.notificationMetadata.seqNumber;
  out.iccid = data.notificationMetadata.iccid;
  out.is_install_result = true;
  out.install_success = data.finalResult.successResult() != nullptr;
  out.already_on_euicc = recorded == InstallOutcome::AlreadyOnEuicc;
  return out;
}

}  // namespace

SmdppResult<NotificationOutcome> Server::handle_notification(const sg::PendingNotification& n) {
  if (const auto* pir = n.profileInstallationResult()) {
    const auto& data = pir->profileInstallationResultData;
    // The result carries no certificate: it is verified with the eUICC key of
    // its session, which must therefore still be open.
    RSP_TRY(auto s, take_session(data.transactionId));
    if (!s || s->state != Session::State::BppIssued || !s->euicc_key || !s->order) {
      if (s) (void)put_session(std::move(s));  // not this session's turn yet
      return handle_stored_installation_result(*pir);
    }
    if (!crypto::verify_plain(*s->euicc_key, asn1::encode(data), pir->euiccSignPIR)) {
      RSP_TRY_VOID(put_session(std::move(s)));  // a forged result must not end the genuine session
      return smdpp_error(codes::kEuiccSignatureInvalid, "euiccSignPIR does not verify");
    }
    auto recorded = record_install_result(*catalog_, *pir, s->eid, s->order->matching_id);
    // Not stored: the LPA sends the result again (es9_http.hpp), and finds the
    // session still there (else the stored download serves it).
    if (!recorded && recorded.error().storage) (void)put_session(std::move(s));
    return recorded;
  }
  if (const auto* other = n.otherSignedNotification()) {
    const auto now = clock_.now();
    const auto& cis = identities_->cis();
    auto eum = pki::parse_certificate_memo(other->eumCertificate.der);
    if (!eum) return smdpp_error(codes::kEumCertInvalid, "EUM certificate: " + eum.error().message);
    const pki::Certificate eums[] = {*eum};
    auto chain = pki::validate_chain_der(other->euiccCertificate.der, eums, cis, pki::Role::Euicc, now);
    if (!chain) return smdpp_error(codes::kEuiccCertInvalid, "eUICC certificate: " + chain.error().message);
    if (!crypto::verify_plain(chain->public_key, asn1::encode(other->tbsOtherNotification),
                              other->euiccNotificationSignature))
      return smdpp_error(codes::kEuiccSignatureInvalid, "euiccNotificationSignature does not verify");
    NotificationOutcome out;
    out.eid = chain->eid.value_or("");
    out.seq_number = other->tbsOtherNotification.seqNumber;
    out.iccid = other->tbsOtherNotification.iccid;
    RSP_TRY_VOID(record_profile_notification(n, out));
    return out;
  }
  return smdpp_error(codes::kInvalidRequest, "unknown PendingNotification alternative");
}

SmdppResult<void> Server::record_profile_notification(const sg::PendingNotification& n,
                                                      const NotificationOutcome& verified) {
  // §5.6.4: HandleNotification has no error answer; what is refused here
  // changes nothing, and the caller logs it (es9_http.cpp answers 204).
  const auto& tbs = n.otherSignedNotification()->tbsOtherNotification;
  const std::uint8_t event = notification_event_mask(tbs.profileManagementOperation);
  constexpr std::uint8_t kAfterInstall =
      notification_event::kEnable | notification_event::kDisable | notification_event::kDelete;
  // NotificationMetadata: "only one bit set to 1" (SGP.22 v2.2.2 §5.7.9 ASN.1);
  // an installation is reported by the signed ProfileInstallationResult.
  if ((event & (event - 1)) != 0 || (event & kAfterInstall) == 0)
    return smdpp_error(codes::kInvalidRequest, "notification: profileManagementOperation is not one of enable, "
                                               "disable, delete");
  if (!tbs.iccid) return smdpp_error(codes::kInvalidRequest, "notification names no ICCID");
  ProfileNotification pn{verified.eid, *tbs.iccid, event, tbs.seqNumber, asn1::encode(n)};
  RSP_TRY(const NotificationRecord recorded, catalog_->record_profile_notification(pn));
  switch (recorded) {
    case NotificationRecord::Recorded:
    case NotificationRecord::NotRecorded: return {};
    case NotificationRecord::UnknownProfile:
      return smdpp_error(codes::kInvalidRequest, "notification for an ICCID this SM-DP+ installed on no eUICC");
    case NotificationRecord::OtherEuicc:
      return smdpp_error(codes::kInvalidRequest, "notification from an eUICC the profile was not installed on");
    case NotificationRecord::Replayed:
      return smdpp_error(codes::kInvalidRequest,
                         "notification seqNumber " + std::to_string(tbs.seqNumber) + " was already recorded");
  }
  return {};
}

SmdppResult<NotificationOutcome> Server::handle_stored_installation_result(const sg::ProfileInstallationResult& pir) {
  // The session is gone (timed out, or the server restarted after the BPP was
  // issued) but the catalog kept which eUICC got the BPP: its key verifies the
  // result, so the order still completes exactly once.
  const auto& data = pir.profileInstallationResultData;
  RSP_TRY(auto issued, catalog_->issued_download(data.transactionId));
  if (!issued) return smdpp_error(codes::kUnknownTransactionId, "no download session for this installation result");
  auto key = crypto::EcKey::from_public_point(issued->curve, issued->euicc_public_point);
  if (!key || !crypto::verify_plain(*key, asn1::encode(data), pir.euiccSignPIR))
    return smdpp_error(codes::kEuiccSignatureInvalid, "euiccSignPIR does not verify");
  return record_install_result(*catalog_, pir, issued->eid, issued->matching_id);
}

SmdppResult<void> Server::cancel_session(const sg::CancelSessionRequestEs9& req) {
  RSP_TRY(auto s, take_session(req.transactionId));
  if (!s) return smdpp_error(codes::kUnknownTransactionId, "unknown transactionId");
  // An eUICC that answered with an error signed no reason.
  std::int64_t reason = cancel_reason::kUndefinedReason;
  if (const auto* ok = req.cancelSessionResponse.cancelSessionResponseOk()) {
    const auto& signed_part = ok->euiccCancelSessionSigned;
    if (signed_part.transactionId != s->transaction_id) {
      RSP_TRY_VOID(put_session(std::move(s)));
      return smdpp_error(codes::kUnknownTransactionId, "euiccCancelSessionSigned carries another transactionId");
    }
    // Before authenticate_client the eUICC key is not known yet; the session
    // holds nothing worth protecting then.
    if (s->euicc_key &&
        !crypto::verify_plain(*s->euicc_key, asn1::encode(signed_part), ok->euiccCancelSessionSignature)) {
      RSP_TRY_VOID(put_session(std::move(s)));
      return smdpp_error(codes::kEuiccSignatureInvalid, "euiccCancelSessionSignature does not verify");
    }
    // §5.6.5: the SM-DP+ OID the eUICC signed is the one of our certificate
    // (its subjectAltName registeredID), else the cancel was meant for
    // another SM-DP+ and this session goes on.
    const auto& ours = s->identity->dp_auth_cert.registered_ids();
    if (std::find(ours.begin(), ours.end(), signed_part.smdpOid.content) == ours.end()) {
      RSP_TRY_VOID(put_session(std::move(s)));
      return smdpp_error(codes::kInvalidSmdpOid, "smdpOid " + signed_part.smdpOid.to_string() + " is not this SM-DP+'s");
    }
    reason = signed_part.reason;
  }
  if (s->order) RSP_TRY_VOID(catalog_->record_cancel(s->order->matching_id, reason));
  return {};
}

}  // namespace rsp::smdpp
