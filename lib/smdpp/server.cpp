#include "rsp/smdpp/server.hpp"

#include <algorithm>

#include "rsp/crypto/ecdsa.hpp"
#include "rsp/pki/memo.hpp"
#include "rsp/pki/validator.hpp"
#include "rsp/asn1/sgp22_signed.hpp"
#include "rsp/smdpp/session_store.hpp"
#include "session.hpp"

namespace rsp::smdpp {

namespace sg = asn1::sgp22;

namespace {

constexpr std::size_t kChallengeSize = 16;
constexpr std::size_t kTransactionIdSize = 16;

/// Maps an EUM / eUICC validation failure onto SGP.22 §5.6.2 codes.
SmdppError chain_error(const pki::PkiError& e, bool eum) {
  using C = pki::PkiError::Code;
  codes::Code c = eum ? codes::kEumCertInvalid : codes::kEuiccCertInvalid;
  if (e.code == C::Expired) c = eum ? codes::kEumCertExpired : codes::kEuiccCertExpired;
  if (e.code == C::UnknownIssuer && eum) c = codes::kUnknownCiPk;
  return SmdppError{c.subject, c.reason, std::string(eum ? "EUM" : "eUICC") + " certificate: " + e.message};
}

/// The checks SGP.22 v2.2.2 §5.6.2 names before the certificate profile, in
/// the order its table implies: a certificate issued under no CI we trust
/// is an unknown CI (8.11.1 / 3.9, EUM only: an eUICC certificate names its
/// EUM), then an expired one is expired (6.3), whatever else is wrong with
/// it; pki::validate_chain then checks role, profile and signatures (6.1).
std::optional<SmdppError> precheck(const pki::Certificate& c, std::span<const pki::Certificate> cis, TimePoint now,
                                   bool eum) {
  if (eum) {
    const auto& aki = c.authority_key_id();
    const bool known = aki && std::any_of(cis.begin(), cis.end(), [&](const pki::Certificate& ci) {
                         return ci.subject_key_id() == aki;
                       });
    if (!known)
      return chain_error(pki::PkiError{pki::PkiError::Code::UnknownIssuer, "issued by no trusted CI"}, true);
  }
  if (now > c.not_after())
    return chain_error(pki::PkiError{pki::PkiError::Code::Expired, "expired " + pki::format_utc_time(c.not_after())},
                       eum);
  return std::nullopt;
}

}  // namespace

std::size_t ServerConfig::max_pending_per_peer() const {
  const double share = static_cast<double>(max_sessions) * peer_session_share;
  return share < 1.0 ? 1 : static_cast<std::size_t>(share);
}

Server::Server(ServerConfig config, std::shared_ptr<const IdentitySet> identities,
               std::shared_ptr<ProfileCatalog> catalog, const Clock& clock, crypto::Random& rng,
               std::shared_ptr<SessionStore> sessions)
    : config_(std::move(config)), identities_(std::move(identities)), catalog_(std::move(catalog)),
      clock_(clock), rng_(rng),
      sessions_(sessions ? std::move(sessions) : std::make_shared<MemorySessionStore>()) {}

Server::~Server() = default;

std::size_t Server::session_count() const { return sessions_->count(); }

SmdppResult<std::shared_ptr<Server::Session>> Server::take_session(const Bytes& transaction_id) {
  return sessions_->take(transaction_id, clock_.now());
}

SmdppResult<void> Server::put_session(std::shared_ptr<Session> s) { return sessions_->put(s); }

SmdppResult<sg::InitiateAuthenticationOkEs9> Server::initiate_authentication(
    const sg::InitiateAuthenticationRequest& req, std::string_view peer) {
  if (req.smdpAddress != config_.address)
    return smdpp_error(codes::kInvalidSmdpAddress, "smdpAddress is not this SM-DP+");
  if (req.euiccChallenge.size() != kChallengeSize)
    return smdpp_error(codes::kInvalidRequest, "euiccChallenge must be 16 bytes");
  const auto& svn = req.euiccInfo1.svn;
  if (svn.size() != 3 || svn[0] != 2)
    return smdpp_error(codes::kSvnNotSupported, "eUICC specification version not supported");
  RSP_TRY(const ServerIdentity* id, identities_->choose(req.euiccInfo1.euiccCiPKIdListForVerification,
                                                        req.euiccInfo1.euiccCiPKIdListForSigning));

  auto s = std::make_shared<Session>();
  {
    std::lock_guard lock(rng_mu_);
    s->transaction_id = rng_.bytes(kTransactionIdSize);
    s->server_challenge = rng_.bytes(kChallengeSize);
  }
  s->identity = id;
  s->peer = std::string(peer);
  s->expires = clock_.now() + config_.pending_session_timeout;

  sg::InitiateAuthenticationOkEs9 ok;
  ok.transactionId = s->transaction_id;
  ok.serverSigned1 = sg::ServerSigned1{s->transaction_id, req.euiccChallenge, config_.address, s->server_challenge};
  auto sig = crypto::sign_plain(id->dp_auth_key, asn1::encode(ok.serverSigned1));
  if (!sig) return smdpp_error(codes::kExecutionError, "serverSignature1 failed");
  ok.serverSignature1 = std::move(*sig);
  ok.euiccCiPKIdToBeUsed = id->ci_pkid;
  ok.serverCertificate = asn1::RawElement{id->dp_auth_cert.der()};

  RSP_TRY_VOID(sessions_->add(s, SessionLimits{config_.max_sessions, config_.max_pending_per_peer()}, clock_.now()));
  return ok;
}

SmdppResult<sg::AuthenticateClientOk> Server::authenticate_client(const sg::AuthenticateClientRequest& req) {
  RSP_TRY(auto s, take_session(req.transactionId));
  if (!s || s->state != Session::State::Initiated) {
    if (s) (void)put_session(std::move(s));  // a replay is refused without ending the genuine session
    return smdpp_error(codes::kUnknownTransactionId, "unknown or used transactionId");
  }
  const auto* resp = req.authenticateServerResponse.authenticateResponseOk();
  if (!resp) {
    const auto* err = req.authenticateServerResponse.authenticateResponseError();
    return smdpp_error(codes::kExecutionError, err ? "eUICC reported authenticateErrorCode " +
                                                         std::to_string(err->authenticateErrorCode)
                                                   : std::string("unknown AuthenticateServerResponse"));
  }
  const auto& signed1 = resp->euiccSigned1;
  if (signed1.transactionId != s->transaction_id)
    return smdpp_error(codes::kUnknownTransactionId, "euiccSigned1 carries another transactionId");

  // Chain CI -> EUM -> eUICC (SGP.22 §5.6.2 steps on the certificates).
  const auto now = clock_.now();
  auto eum = pki::parse_certificate_memo(resp->eumCertificate.der);  // one EUM serves a whole fleet
  if (!eum) return unexpected(chain_error(eum.error(), true));
  const auto& cis = identities_->cis();
  if (auto refused = precheck(*eum, cis, now, true)) return unexpected(std::move(*refused));
  if (auto v = pki::validate_chain(*eum, {}, cis, pki::Role::Eum, now); !v)
    return unexpected(chain_error(v.error(), true));
  auto euicc = pki::parse_certificate_memo(resp->euiccCertificate.der);
  if (!euicc) return unexpected(chain_error(euicc.error(), false));
  if (auto refused = precheck(*euicc, cis, now, false)) return unexpected(std::move(*refused));
  const pki::Certificate eums[] = {*eum};
  auto chain = pki::validate_chain(*euicc, eums, cis, pki::Role::Euicc, now);
  if (!chain) return unexpected(chain_error(chain.error(), false));

  if (!crypto::verify_plain(chain->public_key, asn1::encode(signed1), resp->euiccSignature1))
    return smdpp_error(codes::kEuiccSignatureInvalid, "euiccSignature1 does not verify");
  // Checked after the signature so the comparison is over authenticated data.
  if (signed1.serverAddress != config_.address ||
      !equal_ct(signed1.serverChallenge, s->server_challenge))
    return smdpp_error(codes::kEuiccSignatureInvalid, "serverChallenge or serverAddress mismatch");
  if (!chain->eid) return smdpp_error(codes::kEuiccCertInvalid, "eUICC certificate without EID");

  const auto* ctx = signed1.ctxParams1.ctxParamsForCommonAuthentication();
  if (!ctx) return smdpp_error(codes::kInvalidRequest, "ctxParams1 is not ctxParamsForCommonAuthentication");
  const std::string matching_id = ctx->matchingId.value_or("");
  s->requested_matching_id = matching_id;
  RSP_TRY(auto order, catalog_->find(matching_id, *chain->eid));
  if (!order) return smdpp_error(codes::kMatchingIdRefused, "no download order for this matchingId");
  if (order->eid && *order->eid != *chain->eid)
    return smdpp_error(codes::kEidMismatch, "the order is bound to another EID");
  if (order->cc_hash && order->cc_attempts_left <= 0) order->block = OrderBlock::ConfirmationCodeExhausted;
  if (auto refused = order_block_code(order->block)) return smdpp_error(*refused, "the download order is refused");
  if (!order->profile) return smdpp_error(codes::kMatchingIdRefused, "no profile for this download order");

  const ServerIdentity& id = *s->identity;
  sg::AuthenticateClientOk ok;
  ok.transactionId = s->transaction_id;
  ok.profileMetaData = order->profile->metadata();
  auto& pdr = ok.prepareDownloadRequest;
  // SGP.22 v2.2.2 §5.6.2: a retry names the otPK.EUICC.ECKA the BPP already
  // issued to this eUICC was bound with, so that it may use its key again.
  pdr.smdpSigned2 = sg::SmdpSigned2{s->transaction_id, order->cc_hash.has_value(), order->bpp_euicc_otpk};
  auto sig2 = crypto::sign_plain(id.dp_pb_key, asn1::smdp_signature2_data(pdr.smdpSigned2, resp->euiccSignature1));
  if (!sig2) return smdpp_error(codes::kExecutionError, "smdpSignature2 failed");
  pdr.smdpSignature2 = *sig2;
  pdr.smdpCertificate = asn1::RawElement{id.dp_pb_cert.der()};

  s->eid = *chain->eid;
  s->eid_bytes = from_hex(s->eid).value_or(Bytes{});
  s->euicc_key = chain->public_key;
  s->smdp_signature2 = std::move(*sig2);
  s->order = std::move(*order);
  s->state = Session::State::Authenticated;
  s->expires = now + config_.session_timeout;  // the eUICC proved who it is: the full download time
  RSP_TRY_VOID(put_session(std::move(s)));
  return ok;
}

}  // namespace rsp::smdpp
