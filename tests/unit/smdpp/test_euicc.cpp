// TEST DOUBLE of the eUICC side (see test_euicc.hpp).
#include "test_euicc.hpp"

#include <cstdlib>

#include "rsp/smdpp/sample_profile.hpp"

#include "rsp/asn1/runtime.hpp"
#include "rsp/asn1/upp.hpp"
#include "rsp/crypto/bsp.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/crypto/ecka.hpp"
#include "rsp/pki/key_store.hpp"
#include "rsp/smdpp/catalog.hpp"
#include "rsp/asn1/sgp22_signed.hpp"

namespace rsp::smdpp::testing {

namespace sg = asn1::sgp22;

const std::string& TestEuicc::eid() const {
  if (eid_.empty()) eid_ = c_.euicc_cert.subject_serial_number().value_or("");
  return eid_;
}

sg::InitiateAuthenticationRequest TestEuicc::initiate(const std::string& smdp_address) {
  address_ = smdp_address;
  euicc_challenge_ = rng_.bytes(16);
  sg::InitiateAuthenticationRequest r;
  r.euiccChallenge = euicc_challenge_;
  r.smdpAddress = smdp_address;
  r.euiccInfo1.svn = Bytes{2, 2, 2};
  const Bytes ci = c_.ci_cert.subject_key_id().value_or(Bytes{});
  r.euiccInfo1.euiccCiPKIdListForVerification = {ci};
  r.euiccInfo1.euiccCiPKIdListForSigning = {ci};
  return r;
}

TestResult<sg::AuthenticateClientRequest> TestEuicc::authenticate_server(const sg::InitiateAuthenticationOkEs9& ok,
                                                                         const std::optional<std::string>& matching_id) {
  auto cert = pki::Certificate::from_der(ok.serverCertificate.der);
  if (!cert) return unexpected(std::string("serverCertificate unreadable"));
  auto key = cert->public_key();
  if (!key) return unexpected(std::string("serverCertificate key unreadable"));
  // The SM-DP+ OID its certificate names, signed back in a CancelSession.
  smdp_oid_ = cert->registered_ids().empty() ? Bytes{} : cert->registered_ids().front();
  if (!crypto::verify_plain(*key, asn1::encode(ok.serverSigned1), ok.serverSignature1))
    return unexpected(std::string("serverSignature1 does not verify"));
  if (ok.serverSigned1.euiccChallenge != euicc_challenge_) return unexpected(std::string("euiccChallenge mismatch"));
  if (ok.serverSigned1.serverAddress != address_) return unexpected(std::string("serverAddress mismatch"));
  transaction_id_ = ok.serverSigned1.transactionId;

  sg::AuthenticateResponseOk resp;
  auto& s1 = resp.euiccSigned1;
  s1.transactionId = transaction_id_;
  s1.serverAddress = address_;
  s1.serverChallenge = ok.serverSigned1.serverChallenge;
  s1.euiccInfo2.profileVersion = Bytes{2, 3, 1};
  s1.euiccInfo2.svn = Bytes{2, 2, 2};
  s1.euiccInfo2.euiccFirmwareVer = Bytes{1, 0, 0};
  s1.euiccInfo2.extCardResource = Bytes{0x81, 0x01, 0x00};
  s1.euiccInfo2.uiccCapability = asn1::BitString::from_bits({1});
  s1.euiccInfo2.rspCapability = asn1::BitString::from_bits({0});
  const Bytes ci = c_.ci_cert.subject_key_id().value_or(Bytes{});
  s1.euiccInfo2.euiccCiPKIdListForVerification = {ci};
  s1.euiccInfo2.euiccCiPKIdListForSigning = {ci};
  s1.euiccInfo2.ppVersion = Bytes{0, 0, 1};
  s1.euiccInfo2.sasAcreditationNumber = "TEST-SAS";
  auto& ctx = s1.ctxParams1.set_ctxParamsForCommonAuthentication();
  ctx.matchingId = matching_id;
  ctx.deviceInfo.tac = Bytes{0x35, 0x29, 0x06, 0x11};
  auto sig = crypto::sign_plain(c_.euicc_key, asn1::encode(s1));
  if (!sig) return unexpected(std::string("euiccSignature1 failed"));
  resp.euiccSignature1 = *sig;
  euicc_signature1_ = *sig;
  resp.euiccCertificate = asn1::RawElement{c_.euicc_cert.der()};
  resp.eumCertificate = asn1::RawElement{c_.eum_cert.der()};

  sg::AuthenticateClientRequest req;
  req.transactionId = transaction_id_;
  req.authenticateServerResponse.set_authenticateResponseOk(std::move(resp));
  return req;
}

TestResult<sg::GetBoundProfilePackageRequest> TestEuicc::prepare_download(
    const sg::AuthenticateClientOk& ok, const std::optional<std::string>& confirmation_code) {
  const auto& pdr = ok.prepareDownloadRequest;
  auto cert = pki::Certificate::from_der(pdr.smdpCertificate.der);
  if (!cert) return unexpected(std::string("smdpCertificate unreadable"));
  auto key = cert->public_key();
  if (!key) return unexpected(std::string("smdpCertificate key unreadable"));
  if (!crypto::verify_plain(*key, asn1::smdp_signature2_data(pdr.smdpSigned2, euicc_signature1_), pdr.smdpSignature2))
    return unexpected(std::string("smdpSignature2 does not verify"));
  if (pdr.smdpSigned2.transactionId != transaction_id_) return unexpected(std::string("transactionId mismatch"));
  dp_pb_key_ = *key;

  auto ot = crypto::EcKey::generate(c_.euicc_key.curve(), rng_);
  if (!ot) return unexpected(std::string("otPK generation failed"));
  ot_key_ = *ot;
  sg::PrepareDownloadResponseOk resp;
  resp.euiccSigned2.transactionId = transaction_id_;
  resp.euiccSigned2.euiccOtpk = ot->public_point();
  if (confirmation_code)
    resp.euiccSigned2.hashCc = sha256(concat({sha256(as_bytes(*confirmation_code)), transaction_id_}));
  auto sig = crypto::sign_plain(c_.euicc_key, asn1::euicc_signature2_data(resp.euiccSigned2, pdr.smdpSignature2));
  if (!sig) return unexpected(std::string("euiccSignature2 failed"));
  resp.euiccSignature2 = *sig;
  euicc_signature2_ = *sig;

  sg::GetBoundProfilePackageRequest req;
  req.transactionId = transaction_id_;
  req.prepareDownloadResponse.set_downloadResponseOk(std::move(resp));
  return req;
}

TestResult<Bytes> TestEuicc::load_bpp(const sg::BoundProfilePackage& bpp, bool verify) {
  const auto& iscr = bpp.initialiseSecureChannelRequest;
  if (!ot_key_ || !dp_pb_key_) return unexpected(std::string("no PrepareDownload before the BPP"));
  if (iscr.remoteOpId != 1 || iscr.transactionId != transaction_id_)
    return unexpected(std::string("InitialiseSecureChannel: wrong remoteOpId or transactionId"));
  if (iscr.controlRefTemplate.keyType != Bytes{0x88} || iscr.controlRefTemplate.keyLen != Bytes{0x10})
    return unexpected(std::string("unsupported controlRefTemplate"));
  if (!crypto::verify_plain(*dp_pb_key_, asn1::smdp_sign_data(iscr, ot_key_->public_point()), iscr.smdpSign))
    return unexpected(std::string("smdpSign does not verify"));
  auto smdp_otpk = crypto::EcKey::from_public_point(ot_key_->curve(), iscr.smdpOtpk);
  if (!smdp_otpk) return unexpected(std::string("smdpOtpk invalid"));
  auto shs = crypto::ecka_shared_secret(*ot_key_, *smdp_otpk);
  if (!shs) return unexpected(std::string("ECKA failed"));
  auto eid_bytes = from_hex(eid()).value_or(Bytes{});
  auto keys = crypto::derive_bsp_keys(*shs, iscr.controlRefTemplate.hostId, eid_bytes);
  if (!keys) return unexpected(std::string("key derivation failed"));
  if (!verify) return Bytes{};

  crypto::BspSession rx(std::move(*keys));
  for (const auto& c : bpp.firstSequenceOf87) {
    auto p = rx.verify_and_decrypt(0x87, asn1::segment_tlv(0x87, c));
    if (!p) return unexpected("ConfigureISDP segment: " + p.error().message);
    if (!asn1::decode<sg::ConfigureISDPRequest>(*p)) return unexpected(std::string("ConfigureISDP undecodable"));
  }
  metadata_.clear();
  for (const auto& c : bpp.sequenceOf88) {
    auto p = rx.verify_mac_only(0x88, asn1::segment_tlv(0x88, c));
    if (!p) return unexpected("StoreMetadata segment: " + p.error().message);
    metadata_.insert(metadata_.end(), p->begin(), p->end());
  }
  if (!asn1::decode<sg::StoreMetadataRequest>(metadata_)) return unexpected(std::string("StoreMetadata undecodable"));
  if (bpp.secondSequenceOf87) {
    Bytes rsk_der;
    for (const auto& c : *bpp.secondSequenceOf87) {
      auto p = rx.verify_and_decrypt(0x87, asn1::segment_tlv(0x87, c));
      if (!p) return unexpected("ReplaceSessionKeys segment: " + p.error().message);
      rsk_der.insert(rsk_der.end(), p->begin(), p->end());
    }
    auto rsk = asn1::decode<sg::ReplaceSessionKeysRequest>(rsk_der);
    if (!rsk) return unexpected(std::string("ReplaceSessionKeys undecodable"));
    rx.replace_keys(crypto::BspKeys(rsk->ppkEnc, rsk->ppkCmac, rsk->initialMacChainingValue));
  }
  Bytes upp;
  for (const auto& c : bpp.sequenceOf86) {
    auto p = rx.verify_and_decrypt(0x86, asn1::segment_tlv(0x86, c));
    if (!p) return unexpected("profile segment: " + p.error().message);
    upp.insert(upp.end(), p->begin(), p->end());
  }
  return upp;
}

sg::PendingNotification TestEuicc::install_result(bool success) {
  sg::ProfileInstallationResult pir;
  auto& d = pir.profileInstallationResultData;
  d.transactionId = transaction_id_;
  d.notificationMetadata.seqNumber = 1;
  d.notificationMetadata.profileManagementOperation = asn1::BitString::from_bits({0});
  d.notificationMetadata.notificationAddress = address_;
  if (success) d.finalResult.set_successResult(sg::SuccessResult{Bytes{0xA0, 0, 0, 5, 0x59, 0x10, 0x10}, Bytes{0x30, 0}});
  else d.finalResult.set_errorResult(sg::ErrorResult{5, 12, std::nullopt});
  pir.euiccSignPIR = crypto::sign_plain(c_.euicc_key, asn1::encode(d)).value_or(Bytes{});
  sg::PendingNotification n;
  n.set_profileInstallationResult(std::move(pir));
  return n;
}

sg::PendingNotification TestEuicc::install_error(std::int64_t bpp_command_id, std::int64_t error_reason,
                                                 const std::optional<Bytes>& iccid) {
  sg::ProfileInstallationResult pir;
  auto& d = pir.profileInstallationResultData;
  d.transactionId = transaction_id_;
  d.notificationMetadata.seqNumber = 1;
  d.notificationMetadata.profileManagementOperation = asn1::BitString::from_bits({0});
  d.notificationMetadata.notificationAddress = address_;
  d.notificationMetadata.iccid = iccid;
  d.finalResult.set_errorResult(sg::ErrorResult{bpp_command_id, error_reason, std::nullopt});
  pir.euiccSignPIR = crypto::sign_plain(c_.euicc_key, asn1::encode(d)).value_or(Bytes{});
  sg::PendingNotification n;
  n.set_profileInstallationResult(std::move(pir));
  return n;
}

sg::PendingNotification TestEuicc::other_notification(std::int64_t seq, std::initializer_list<std::size_t> event_bits,
                                                     const std::optional<Bytes>& iccid) {
  sg::OtherSignedNotification o;
  o.tbsOtherNotification.seqNumber = seq;
  o.tbsOtherNotification.profileManagementOperation = asn1::BitString::from_bits(event_bits);
  o.tbsOtherNotification.notificationAddress = address_;
  o.tbsOtherNotification.iccid = iccid.value_or(Bytes{0x98, 0x10, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0x54, 0x76});
  o.euiccNotificationSignature = crypto::sign_plain(c_.euicc_key, asn1::encode(o.tbsOtherNotification)).value_or(Bytes{});
  o.euiccCertificate = asn1::RawElement{c_.euicc_cert.der()};
  o.eumCertificate = asn1::RawElement{c_.eum_cert.der()};
  sg::PendingNotification n;
  n.set_otherSignedNotification(std::move(o));
  return n;
}

sg::CancelSessionRequestEs9 TestEuicc::cancel(std::int64_t reason, const std::optional<asn1::Oid>& smdp_oid) {
  sg::CancelSessionResponseOk ok;
  ok.euiccCancelSessionSigned.transactionId = transaction_id_;
  ok.euiccCancelSessionSigned.smdpOid = smdp_oid.value_or(asn1::Oid{smdp_oid_});
  ok.euiccCancelSessionSigned.reason = reason;
  ok.euiccCancelSessionSignature =
      crypto::sign_plain(c_.euicc_key, asn1::encode(ok.euiccCancelSessionSigned)).value_or(Bytes{});
  sg::CancelSessionRequestEs9 req;
  req.transactionId = transaction_id_;
  req.cancelSessionResponse.set_cancelSessionResponseOk(std::move(ok));
  return req;
}

Bytes make_test_upp(ByteView iccid, std::size_t extra) {
  crypto::DeterministicRandom rng(Bytes{0x5A});  // fixed keys: tests compare packages byte for byte
  return make_sample_upp(iccid, rng, SampleProfileOptions{"rsp-test", extra});
}

pki::Certificate first_certificate(const std::filesystem::path& file) {
  auto c = pki::Certificate::load_file(file);
  if (!c || c->empty()) std::abort();
  return c->front();
}

TestEuiccCredentials test_pki_euicc_credentials(const std::filesystem::path& d, crypto::Curve curve) {
  const std::string c = curve == crypto::Curve::NistP256 ? "NIST" : "BRP";
  auto key = pki::load_private_key_file(d / ("SK_EUICC_ECDSA_" + c + ".pem"));
  if (!key) std::abort();
  return TestEuiccCredentials{first_certificate(d / ("CERT_EUICC_ECDSA_" + c + ".pem")),
                              first_certificate(d / ("CERT_EUM_ECDSA_" + c + ".pem")), *key,
                              first_certificate(d / ("CERT_CI_ECDSA_" + c + ".pem"))};
}

}  // namespace rsp::smdpp::testing
