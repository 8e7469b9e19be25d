/// ES9+.GetBoundProfilePackage (SGP.22 §5.6.3) and the Bound Profile Package
/// it returns (SGP.22 §2.5.2 - §2.5.5, ES8+ §5.5).

#include "rsp/asn1/runtime.hpp"
#include "rsp/crypto/bsp.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/crypto/ecka.hpp"
#include "rsp/smdpp/server.hpp"
#include "rsp/asn1/sgp22_signed.hpp"
#include "session.hpp"

namespace rsp::smdpp {

namespace sg = asn1::sgp22;

namespace {

/// controlRefTemplate hostId (SGP.22 §2.6.4.2: an SM-DP+ identifier of up
/// to 16 bytes): the address itself when it fits, else a hash prefix of it.
Bytes host_id_for(const std::string& address) {
  if (!address.empty() && address.size() <= 16) return to_bytes(address);
  Bytes h = sha256(as_bytes(address));
  h.resize(16);
  return h;
}

/// Protects `plaintext` as '87' segments or MAC-only '88' segments of at most
/// `segment` bytes (SGP.22 v2.2.2 §2.5.5: StoreMetadata may be split over
/// several '88' segments) and appends their contents to `out`.
bool protect(crypto::BspSession& bsp, std::uint8_t tag, ByteView plaintext, std::vector<Bytes>& out,
             std::size_t segment = crypto::kBspMaxPayload) {
  if (tag == 0x88) {
    for (std::size_t off = 0; off < plaintext.size() || off == 0; off += segment) {
      const auto n = std::min(segment, plaintext.size() - off);
      auto seg = bsp.mac_only(tag, plaintext.subspan(off, n));
      if (!seg) return false;
      out.push_back(asn1::segment_contents(*seg));
      if (plaintext.empty()) break;
    }
    return true;
  }
  auto segs = bsp.encrypt_and_mac_segments(tag, plaintext);
  if (!segs) return false;
  for (const auto& s : *segs) out.push_back(asn1::segment_contents(s));
  return true;
}

}  // namespace

SmdppResult<sg::GetBoundProfilePackageOk> Server::get_bound_profile_package(
    const sg::GetBoundProfilePackageRequest& req) {
  RSP_TRY(auto s, take_session(req.transactionId));
  if (!s || s->state != Session::State::Authenticated || !s->euicc_key || !s->order) {
    if (s) (void)put_session(std::move(s));  // a replay is refused without ending the genuine session
    return smdpp_error(codes::kUnknownTransactionId, "unknown or used transactionId");
  }
  const auto* resp = req.prepareDownloadResponse.downloadResponseOk();
  if (!resp) {
    RSP_TRY_VOID(catalog_->record(s->order->matching_id, OrderEvent::Cancelled));
    return smdpp_error(codes::kExecutionError, "eUICC reported a PrepareDownload error");
  }
  const auto& signed2 = resp->euiccSigned2;
  if (signed2.transactionId != s->transaction_id)
    return smdpp_error(codes::kUnknownTransactionId, "euiccSigned2 carries another transactionId");
  if (!crypto::verify_plain(*s->euicc_key, asn1::euicc_signature2_data(signed2, s->smdp_signature2), resp->euiccSignature2))
    return smdpp_error(codes::kEuiccSignatureInvalid, "euiccSignature2 does not verify");

  if (!s->order->profile) {
    // The session was started by another instance: find the same order's
    // profile again (prepared here; nothing of it was stored with the session).
    auto found = catalog_->find(s->requested_matching_id, s->eid);
    if (!found) {
      (void)put_session(std::move(s));  // the same call may succeed once the storage is back
      return unexpected(found.error());
    }
    auto& again = *found;
    if (!again || again->matching_id != s->order->matching_id)
      return smdpp_error(codes::kMatchingIdRefused, "the order of this session is no longer available");
    if (auto refused = order_block_code(again->block)) return smdpp_error(*refused, "the download order is refused");
    if (!again->profile) return smdpp_error(codes::kMatchingIdRefused, "the order of this session has no profile");
    s->order->profile = std::move(again->profile);
    s->order->bpp_euicc_otpk = std::move(again->bpp_euicc_otpk);  // not kept with a stored session either
  }
  const ProfileOrder& order = *s->order;
  if (order.cc_hash) {
    if (!signed2.hashCc) return smdpp_error(codes::kConfirmationCodeMissing, "confirmation code required");
    // SGP.22 §3.1.3: hashCc = SHA-256(SHA-256(CC) || transactionId).
    const Bytes expected = sha256(concat({*order.cc_hash, s->transaction_id}));
    if (!equal_ct(expected, *signed2.hashCc)) {
      RSP_TRY(const int left, catalog_->record_cc_failure(order.matching_id));
      if (left <= 0)
        return smdpp_error(codes::kConfirmationCodeRetriesExceeded, "confirmation code attempts exhausted");
      RSP_TRY_VOID(put_session(std::move(s)));  // the eUICC may try again in this session
      return smdpp_error(codes::kConfirmationCodeRefused, "confirmation code refused");
    }
  }

  // SGP.22 v2.2.2 §3.1.3.3, §5.6.3: a fresh one-time key pair per BPP, except
  // for a retry: an eUICC that sends again the otPK.EUICC.ECKA a BPP of this
  // order was bound with gets the key pair kept with the order, and so the
  // same session keys.
  const crypto::Curve curve = s->euicc_key->curve();
  auto euicc_otpk = crypto::EcKey::from_public_point(curve, signed2.euiccOtpk);
  if (!euicc_otpk) return smdpp_error(codes::kInvalidRequest, "euiccOtpk is not a point on the eUICC's curve");
  // A kept key that cannot be read only costs the reuse: a fresh key pair is
  // always a correct answer (the eUICC agrees keys with whatever smdpOtpk comes).
  // Only an order that named a kept otPK.EUICC.ECKA in AuthenticateClient
  // (smdpSigned2.bppEuiccOtpk) has one, and only an eUICC that sends that
  // very key again gets it: a first download asks the catalog nothing.
  std::optional<crypto::EcKey> kept;
  if (order.bpp_euicc_otpk && equal_ct(*order.bpp_euicc_otpk, signed2.euiccOtpk)) {
    auto kept_read = catalog_->kept_one_time_key(order.matching_id, s->eid, signed2.euiccOtpk);
    if (kept_read) kept = std::move(*kept_read);
  }
  const bool reused = kept && kept->curve() == curve && kept->has_private();
  crypto::CryptoResult<crypto::EcKey> ot = [&]() -> crypto::CryptoResult<crypto::EcKey> {
    if (reused) return std::move(*kept);
    std::lock_guard lock(rng_mu_);
    return crypto::EcKey::generate(curve, rng_);
  }();
  if (!ot) return smdpp_error(codes::kExecutionError, "one-time key generation failed");
  auto shs = crypto::ecka_shared_secret(*ot, *euicc_otpk);
  if (!shs) return smdpp_error(codes::kExecutionError, "key agreement failed");
  const ServerIdentity& id = *s->identity;
  const Bytes host_id = host_id_for(config_.address);
  auto keys = crypto::derive_bsp_keys(*shs, host_id, s->eid_bytes);
  wipe(*shs);
  if (!keys) return smdpp_error(codes::kExecutionError, "session key derivation failed");

  sg::GetBoundProfilePackageOk ok;
  ok.transactionId = s->transaction_id;
  auto& bpp = ok.boundProfilePackage;
  auto& iscr = bpp.initialiseSecureChannelRequest;
  iscr.remoteOpId = sg::RemoteOpId_values::installBoundProfilePackage;
  iscr.transactionId = s->transaction_id;
  iscr.controlRefTemplate = sg::ControlRefTemplate{Bytes{crypto::kBspKeyTypeAes}, Bytes{crypto::kBspKeyLength128}, host_id};
  iscr.smdpOtpk = ot->public_point();
  auto sign = crypto::sign_plain(id.dp_pb_key, asn1::smdp_sign_data(iscr, signed2.euiccOtpk));
  if (!sign) return smdpp_error(codes::kExecutionError, "smdpSign failed");
  iscr.smdpSign = std::move(*sign);

  const PreparedProfile& profile = *order.profile;
  crypto::BspSession bsp(std::move(*keys));
  bool ok_protect = protect(bsp, 0x87, asn1::encode(sg::ConfigureISDPRequest{}), bpp.firstSequenceOf87) &&
                    protect(bsp, 0x88, profile.metadata_der(), bpp.sequenceOf88, profile.metadata_segment_size());
  if (ok_protect && profile.uses_ppk()) {
    bpp.secondSequenceOf87.emplace();
    ok_protect = protect(bsp, 0x87, profile.replace_session_keys_der(), *bpp.secondSequenceOf87);
    bpp.sequenceOf86 = profile.ppk_segments();
  } else if (ok_protect) {
    ok_protect = protect(bsp, 0x86, profile.upp(), bpp.sequenceOf86);
  }
  if (!ok_protect) return smdpp_error(codes::kExecutionError, "profile protection failed");

  // Durable before the answer: a crash after this point finds the profile
  // downloaded by this eUICC, never released twice.
  // The catalog checks the order again in the transaction that records the
  // release (expired, attempts used up, no longer released): its refusal
  // keeps its own code; only a storage failure is an execution error.
  if (auto stored = catalog_->record_bpp_issued(
          IssuedDownload{order.matching_id, s->eid, s->transaction_id, curve, s->euicc_key->public_point(),
                         signed2.euiccOtpk, *ot, reused});
      !stored) {
    if (!stored.error().storage) return unexpected(stored.error());
    return smdpp_error(codes::kExecutionError, "the download could not be recorded: " + stored.error().message);
  }
  s->state = Session::State::BppIssued;
  RSP_TRY_VOID(put_session(std::move(s)));
  return ok;
}

}  // namespace rsp::smdpp
