#include "rsp/smds/server.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "rsp/asn1/sgp22_signed.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/es12/client.hpp"
#include "rsp/messages/header.hpp"
#include "rsp/server_auth/euicc_authentication.hpp"

namespace rsp::smds {

namespace sg = asn1::sgp22;
namespace es12 = messages::es12;

namespace {

constexpr std::size_t kChallengeSize = 16;
constexpr std::size_t kTransactionIdSize = 16;

SmdsError auth_error(server_auth::AuthError e) { return SmdsError{e.code.subject, e.code.reason, std::move(e.message)}; }

}  // namespace

Server::Server(ServerConfig config, std::shared_ptr<const IdentitySet> identities, std::shared_ptr<EventStore> events,
               const service::Clock& clock, crypto::Random& rng)
    : config_(std::move(config)), identities_(std::move(identities)), events_(std::move(events)),
      sessions_(config_.shared_sessions ? events_->database() : nullptr), clock_(clock), rng_(rng) {}

SmdsResult<void> Server::register_event(const std::string& registrar, const es12::RegisterEventRequest& req) {
  if (req.eid.size() != 32) return smds_error(codes::kInvalidEid, "EID must be 32 digits");
  Event e{registrar, req.event_id, req.eid, req.rsp_server_address, req.forwarding_indicator,
          clock_.now().time_since_epoch().count()};
  std::optional<service::OutboxMessage> forward;
  if (req.forwarding_indicator) {
    if (config_.forward_to.empty())
      return smds_error(codes::kInvalidRequest, "forwardingIndicator set, but no SM-DS to forward to is configured");
    // §3.6: the next SM-DS points the LPA here; it forwards no further.
    es12::RegisterEventRequest next{std::nullopt, req.eid, config_.address, req.event_id, false};
    forward = service::OutboxMessage{config_.forward_to, rsp::es12::outbox_body(es12::kRegisterEventPath, es12::encode_request(next)),
                                     config_.forward_to, "RegisterEvent " + req.event_id};
  }
  return events_->add(e, forward);
}

SmdsResult<void> Server::delete_event(const std::string& registrar, const es12::DeleteEventRequest& req) {
  auto removed = events_->remove(registrar, req.eid, req.event_id, [&](const Event& e) -> std::optional<service::OutboxMessage> {
    if (!e.forwarded || config_.forward_to.empty()) return std::nullopt;
    es12::DeleteEventRequest next{std::nullopt, e.eid, e.event_id};
    return service::OutboxMessage{config_.forward_to, rsp::es12::outbox_body(es12::kDeleteEventPath, es12::encode_request(next)),
                                  config_.forward_to, "DeleteEvent " + e.event_id};
  });
  if (!removed) return unexpected(removed.error());
  return {};
}

SmdsResult<sg::InitiateAuthenticationOkEs9> Server::initiate_authentication(const sg::InitiateAuthenticationRequest& req) {
  if (req.smdpAddress != config_.address) return smds_error(codes::kInvalidSmdsAddress, "smdsAddress is not this SM-DS");
  if (req.euiccChallenge.size() != kChallengeSize)
    return smds_error(codes::kInvalidRequest, "euiccChallenge must be 16 bytes");
  const auto& svn = req.euiccInfo1.svn;
  if (svn.size() != 3 || svn[0] != 2) return smds_error(codes::kSvnNotSupported, "eUICC specification version not supported");
  auto chosen = identities_->choose(req.euiccInfo1.euiccCiPKIdListForVerification,
                                    req.euiccInfo1.euiccCiPKIdListForSigning);
  if (!chosen) return unexpected(chosen.error());
  const DsIdentity& id = **chosen;

  Bytes transaction_id, challenge;
  const auto now = clock_.now();
  {
    std::lock_guard lock(rng_mu_);
    transaction_id = rng_.bytes(kTransactionIdSize);
    challenge = rng_.bytes(kChallengeSize);
  }
  sg::InitiateAuthenticationOkEs9 ok;
  ok.transactionId = transaction_id;
  ok.serverSigned1 = sg::ServerSigned1{transaction_id, req.euiccChallenge, config_.address, challenge};
  auto sig = crypto::sign_plain(id.ds_auth_key, asn1::encode(ok.serverSigned1));
  if (!sig) return smds_error(codes::kExecutionError, "serverSignature1 failed");
  ok.serverSignature1 = std::move(*sig);
  ok.euiccCiPKIdToBeUsed = id.ci_pkid;
  ok.serverCertificate = asn1::RawElement{id.ds_auth_cert.der()};

  // Stored before the answer leaves, so that any instance can finish it.
  if (auto stored = sessions_.add(transaction_id, challenge, now + config_.session_timeout, now, config_.max_sessions);
      !stored)
    return unexpected(stored.error());
  return ok;
}

SmdsResult<sg::AuthenticateClientOkEs11> Server::authenticate_client(const sg::AuthenticateClientRequest& req) {
  const auto* resp = req.authenticateServerResponse.authenticateResponseOk();
  if (!resp) {
    const auto* err = req.authenticateServerResponse.authenticateResponseError();
    return smds_error(codes::kExecutionError, err ? "eUICC reported authenticateErrorCode " +
                                                        std::to_string(err->authenticateErrorCode)
                                                  : std::string("unknown AuthenticateServerResponse"));
  }
  auto session = sessions_.take(req.transactionId, clock_.now());  // single use: a replay finds nothing
  if (!session) return unexpected(session.error());
  if (!*session) return smds_error(codes::kUnknownTransactionId, "unknown, used or expired transactionId");
  auto euicc = server_auth::authenticate_euicc(
      *resp, server_auth::Challenge{req.transactionId, **session, config_.address}, identities_->cis(),
      clock_.now());
  if (!euicc) return unexpected(auth_error(std::move(euicc.error())));

  std::optional<std::string> wanted;
  if (const auto* ctx = resp->euiccSigned1.ctxParams1.ctxParamsForCommonAuthentication())
    if (ctx->matchingId && !ctx->matchingId->empty()) wanted = *ctx->matchingId;
  auto events = events_->for_eid(euicc->eid);  // this eUICC's only: the EID its certificate proved
  if (!events) return unexpected(events.error());
  sg::AuthenticateClientOkEs11 ok;
  ok.transactionId = req.transactionId;
  for (const auto& e : *events)
    if (!wanted || e.event_id == *wanted) ok.eventEntries.push_back(sg::EventEntries{e.event_id, e.rsp_server_address});
  if (wanted && ok.eventEntries.empty()) return smds_error(codes::kEventUnknown, "no event with this eventId for this eUICC");
  return ok;
}

}  // namespace rsp::smds
