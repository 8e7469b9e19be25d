// ISD-R: AuthenticateServer and PrepareDownload (SGP.22 §3.1.2-§3.1.3,
// §5.7.13-§5.7.14), the card side of mutual authentication and binding.

#include <algorithm>

#include "isd_r_internal.hpp"
#include "rsp/common/secret_text.hpp"
#include "rsp/asn1/sgp22_signed.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/euicc/isd_r.hpp"
#include "rsp/pki/validator.hpp"

namespace rsp::euicc {

using namespace asn1::sgp22;
using detail::decode_command;

namespace {

Bytes auth_error(const TransactionId& tid, std::int64_t code) {
  AuthenticateServerResponse r;
  auto& e = r.set_authenticateResponseError();
  e.transactionId = tid;
  e.authenticateErrorCode = code;
  return asn1::encode(r);
}

/// The serverSigned1 element exactly as received: the signature covers those
/// bytes, not a re-encoding.
std::optional<ByteView> first_child(ByteView command) {
  tlv::Reader top(command, tlv::Mode::Ber);
  auto el = top.next();
  if (!el || !top.finish()) return std::nullopt;
  auto inner = top.enter(*el);
  if (!inner) return std::nullopt;
  auto child = inner->next();
  if (!child) return std::nullopt;
  return child->encoded;
}

}  // namespace

expected<Bytes, std::uint16_t> IsdR::authenticate_server(ByteView c) {
  auto req = decode_command<AuthenticateServerRequest>(c);
  auto signed1 = first_child(c);
  if (!req || !signed1) return unexpected(sw::kWrongData);
  using E = AuthenticateErrorCode_values;
  const auto& tid = req->serverSigned1.transactionId;
  const Identity* id = identity();
  if (!id) return auth_error(tid, E::undefinedError);
  // §5.7.13 step 1: the CI to use must be one this eUICC trusts.
  auto ci = std::find_if(id->curves.begin(), id->curves.end(),
                         [&](const CurveIdentity& k) { return k.ci_pkid == req->euiccCiPKIdToBeUsed; });
  if (ci == id->curves.end()) return auth_error(tid, E::ciPKUnknown);
  const pki::Certificate* ci_cert = ci_certificate(ci->curve);
  if (!ci_cert) return auth_error(tid, E::undefinedError);
  // step 2: serverCertificate is a DPauth certificate chaining to that CI,
  // or a DSauth one when the server is an SM-DS (ES11, §5.8.1 / §3.6.2).
  const pki::Certificate trusted[] = {*ci_cert};
  auto chain = pki::validate_chain_der(req->serverCertificate.der, {}, trusted, pki::Role::DpAuth);
  if (!chain && chain.error().code != pki::PkiError::Code::WrongCurve) {
    if (auto ds = pki::validate_chain_der(req->serverCertificate.der, {}, trusted, pki::Role::DsAuth)) chain = std::move(ds);
  }
  if (!chain) {
    return auth_error(tid, chain.error().code == pki::PkiError::Code::WrongCurve ? E::unsupportedCurve
                                                                                  : E::invalidCertificate);
  }
  if (chain->path.back().subject_key_id() != std::optional<Bytes>(ci->ci_pkid)) {
    return auth_error(tid, E::invalidCertificate);
  }
  // step 3: serverSignature1 over serverSigned1.
  if (!crypto::verify_plain(chain->public_key, *signed1, req->serverSignature1)) {
    return auth_error(tid, E::invalidSignature);
  }
  // step 4: the challenge of this session.
  if (!euicc_challenge_) return auth_error(tid, E::noSessionContext);
  if (!equal_ct(*euicc_challenge_, req->serverSigned1.euiccChallenge)) {
    return auth_error(tid, E::euiccChallengeMismatch);
  }
  if (req->ctxParams1.unknown()) return auth_error(tid, E::undefinedError);
  auto state = state_.load(store_);
  auto info2 = state ? detail::make_euicc_info2(*state, id) : std::nullopt;
  const crypto::Curve curve = ci->curve;
  const crypto::EcKey* key = euicc_key(curve);
  if (!info2 || !key) return auth_error(tid, E::undefinedError);
  AuthenticateServerResponse r;
  auto& ok = r.set_authenticateResponseOk();
  ok.euiccSigned1.transactionId = tid;
  ok.euiccSigned1.serverAddress = req->serverSigned1.serverAddress;
  ok.euiccSigned1.serverChallenge = req->serverSigned1.serverChallenge;
  ok.euiccSigned1.euiccInfo2 = std::move(*info2);
  ok.euiccSigned1.ctxParams1 = req->ctxParams1;
  auto sig = crypto::sign_plain(*key, asn1::encode(ok.euiccSigned1));
  if (!sig) return auth_error(tid, E::undefinedError);
  ok.euiccSignature1 = std::move(*sig);
  ok.euiccCertificate.der = ci->euicc_cert;
  ok.eumCertificate.der = ci->eum_cert;
  // §3.1.3: the session now has its transactionId; the challenge is used up.
  end_session();
  transaction_id_ = tid;
  session_curve_ = curve;
  euicc_signature1_ = ok.euiccSignature1;
  server_address_ = req->serverSigned1.serverAddress;
  if (!chain->path.front().registered_ids().empty()) smdp_oid_ = chain->path.front().registered_ids().front();
  return asn1::encode(r);
}

static Bytes download_error(const TransactionId& tid, std::int64_t code) {
  PrepareDownloadResponse r;
  auto& e = r.set_downloadResponseError();
  e.transactionId = tid;
  e.downloadErrorCode = code;
  return asn1::encode(r);
}

expected<Bytes, std::uint16_t> IsdR::prepare_download(ByteView c) {
  auto req = decode_command<PrepareDownloadRequest>(c);
  if (!req) return unexpected(sw::kWrongData);
  using E = DownloadErrorCode_values;
  const auto& tid = req->smdpSigned2.transactionId;
  // §5.7.14: only inside a session opened by AuthenticateServer.
  if (!transaction_id_ || !session_curve_ || euicc_signature1_.empty()) return download_error(tid, E::noSessionContext);
  const pki::Certificate* ci_cert = ci_certificate(*session_curve_);
  if (!ci_cert) return download_error(tid, E::undefinedError);
  const pki::Certificate trusted[] = {*ci_cert};
  auto chain = pki::validate_chain_der(req->smdpCertificate.der, {}, trusted, pki::Role::DpPb);
  if (!chain) {
    return download_error(tid, chain.error().code == pki::PkiError::Code::WrongCurve ? E::unsupportedCurve
                                                                                      : E::invalidCertificate);
  }
  if (!crypto::verify_plain(chain->public_key, asn1::smdp_signature2_data(req->smdpSigned2, euicc_signature1_),
                            req->smdpSignature2)) {
    return download_error(tid, E::invalidSignature);
  }
  if (!equal_ct(*transaction_id_, tid)) return download_error(tid, E::invalidTransactionId);
  // §3.1.3.1: a confirmation code is bound through hashCc, which must come with the flag.
  if (req->smdpSigned2.ccRequiredFlag && !req->hashCc) return download_error(tid, E::undefinedError);
  const crypto::EcKey* key = session_key();
  if (!key) return download_error(tid, E::undefinedError);
  auto ot = one_time_key(req->smdpSigned2.bppEuiccOtpk);
  if (!ot) return download_error(tid, E::undefinedError);
  PrepareDownloadResponse r;
  auto& ok = r.set_downloadResponseOk();
  ok.euiccSigned2.transactionId = tid;
  ok.euiccSigned2.euiccOtpk = ot->public_point();
  ok.euiccSigned2.hashCc = req->hashCc;
  auto sig = crypto::sign_plain(*key, asn1::euicc_signature2_data(ok.euiccSigned2, req->smdpSignature2));
  if (!sig) return download_error(tid, E::undefinedError);
  ok.euiccSignature2 = std::move(*sig);
  ot_key_ = std::move(*ot);
  dp_pb_key_ = std::move(chain->public_key);
  return asn1::encode(r);
}

/// SGP.22 v2.2.2 §5.7.5 (as read here; the wording of the retry rule could
/// not be checked against the text at hand): when smdpSigned2 names, in
/// bppEuiccOtpk, the otPK.EUICC.ECKA a BPP was already bound with and the
/// card still holds that key pair, it is used again; otherwise a fresh pair
/// is made and kept in the folder until the download ends (finish_load(),
/// CancelSession), so that a retry in a later session finds it.
std::optional<crypto::EcKey> IsdR::one_time_key(const std::optional<Bytes>& bpp_euicc_otpk) {
  auto state = state_.load(store_);
  if (!state) return std::nullopt;
  const auto& kept = state->ot_key;
  if (bpp_euicc_otpk && kept && kept->curve == *session_curve_ && equal_ct(kept->public_point, *bpp_euicc_otpk)) {
    auto again = crypto::EcKey::from_pem(kept->private_pem);
    if (again && again->curve() == *session_curve_) return std::move(*again);
  }
  auto ot = crypto::EcKey::generate(*session_curve_);
  if (!ot) return std::nullopt;
  auto pem = ot->private_pem();
  if (!pem) return std::nullopt;
  if (state->ot_key) wipe(state->ot_key->private_pem);
  state->ot_key = RetainedOtKey{*session_curve_, std::move(*pem), ot->public_point()};
  const bool saved = state_.save(store_, *state).has_value();
  wipe(state->ot_key->private_pem);
  if (!saved) return std::nullopt;
  return std::move(*ot);
}

void IsdR::forget_one_time_key() {
  auto state = state_.load(store_);
  if (!state || !state->ot_key) return;
  wipe(state->ot_key->private_pem);
  state->ot_key.reset();
  (void)state_.save(store_, *state);  // a key left behind is replaced by the next PrepareDownload
}

}  // namespace rsp::euicc
