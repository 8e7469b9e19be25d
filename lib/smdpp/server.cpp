#include "rsp/smdpp/server.hpp"

#include <algorithm>

#include "rsp/crypto/ecdsa.hpp"
#include "rsp/asn1/sgp22_signed.hpp"
#include "rsp/server_auth/euicc_authentication.hpp"
#include "rsp/smdpp/session_store.hpp"
#include "session.hpp"

namespace rsp::smdpp {

namespace sg = asn1::sgp22;

namespace {

constexpr std::size_t kChallengeSize = 16;
constexpr std::size_t kTransactionIdSize = 16;

/// A failed eUICC authentication (rsp/server_auth) as the core's error.
SmdppError auth_error(server_auth::AuthError e) {
  return SmdppError{e.code.subject, e.code.reason, std::move(e.message)};
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
  // SGP.22 §5.6.2: chain, euiccSignature1, transactionId, serverAddress, serverChallenge.
  const auto now = clock_.now();
  auto euicc = server_auth::authenticate_euicc(
      *resp, server_auth::Challenge{s->transaction_id, s->server_challenge, config_.address}, identities_->cis(), now);
  if (!euicc) return unexpected(auth_error(std::move(euicc.error())));

  const auto* ctx = signed1.ctxParams1.ctxParamsForCommonAuthentication();
  if (!ctx) return smdpp_error(codes::kInvalidRequest, "ctxParams1 is not ctxParamsForCommonAuthentication");
  const std::string matching_id = ctx->matchingId.value_or("");
  s->requested_matching_id = matching_id;
  RSP_TRY(auto order, catalog_->find(matching_id, euicc->eid));
  if (!order) return smdpp_error(codes::kMatchingIdRefused, "no download order for this matchingId");
  if (order->eid && *order->eid != euicc->eid)
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

  s->eid = euicc->eid;
  s->eid_bytes = from_hex(s->eid).value_or(Bytes{});
  s->euicc_key = std::move(euicc->public_key);
  s->smdp_signature2 = std::move(*sig2);
  s->order = std::move(*order);
  s->state = Session::State::Authenticated;
  s->expires = now + config_.session_timeout;  // the eUICC proved who it is: the full download time
  RSP_TRY_VOID(put_session(std::move(s)));
  return ok;
}

}  // namespace rsp::smdpp
