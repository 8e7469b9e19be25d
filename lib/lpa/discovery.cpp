#include "rsp/lpa/discovery.hpp"

#include "download_errors.hpp"
#include "rsp/lpa/es10_client.hpp"
#include "rsp/messages/es11_json.hpp"
#include "rsp/messages/es9_json.hpp"

namespace rsp::lpa {
namespace {

namespace sg = asn1::sgp22;
namespace es9 = messages::es9;
namespace es11 = messages::es11;
using Source = DownloadError::Source;

using detail::error;
using detail::es10_error;

DownloadError decode_error(Step step, const messages::MessageError& m) { return detail::answer_error(step, m, "SM-DS"); }

/// POSTs one ES11 request; the body of a 200 answer.
expected<std::string, DownloadError> post(Es9Transport& t, Step step, const std::string& address,
                                          std::string_view path, const std::string& body) {
  auto r = t.post(address, path, body);
  if (!r) return error(step, Source::Es9Transport, "ES11 " + std::string(path) + ": " + r.error().message);
  if (r->status != 200)
    return error(step, Source::Es9Transport, "ES11 " + std::string(path) + ": HTTP status " + std::to_string(r->status));
  return std::move(r->body);
}

}  // namespace

expected<DiscoveryResult, DownloadError> discover_events(const std::string& smds_address, Es10Channel& euicc,
                                                         Es9Transport& smds, const DownloadOptions& options) {
  Es10Client client(euicc);
  auto step = [&](Step s) {
    if (options.progress) options.progress(s);
    return s;
  };
  DiscoveryResult result;
  result.smds_address = smds_address;
  if (result.smds_address.empty()) {
    auto a = client.get_euicc_configured_addresses();
    if (!a) return unexpected(es10_error(Step::GetEuiccInfo1, a.error()));
    if (a->rootDsAddress.empty())
      return error(Step::GetEuiccInfo1, Source::User, "the eUICC names no root SM-DS: give the SM-DS address");
    result.smds_address = a->rootDsAddress;
  }

  Step s = step(Step::GetEuiccInfo1);
  auto info1 = client.get_euicc_info1();
  if (!info1) return unexpected(es10_error(s, info1.error()));
  s = step(Step::GetEuiccChallenge);
  auto challenge = client.get_euicc_challenge();
  if (!challenge) return unexpected(es10_error(s, challenge.error()));

  // §5.8.1: the request's address is the SM-DS's, which the eUICC then signs.
  s = step(Step::InitiateAuthentication);
  sg::InitiateAuthenticationRequest init_req;
  init_req.euiccChallenge = challenge->euiccChallenge;
  init_req.smdpAddress = result.smds_address;
  init_req.euiccInfo1 = std::move(*info1);
  RSP_TRY(std::string init_body, post(smds, s, result.smds_address, es11::kInitiateAuthenticationPath,
                                      es11::encode_initiate_authentication_request(init_req)));
  auto init = es9::decode_initiate_authentication_response(init_body);
  if (!init) return unexpected(decode_error(s, init.error()));

  s = step(Step::AuthenticateServer);
  sg::AuthenticateServerRequest auth_req;
  auth_req.serverSigned1 = init->serverSigned1;
  auth_req.serverSignature1 = init->serverSignature1;
  auth_req.euiccCiPKIdToBeUsed = init->euiccCiPKIdToBeUsed;
  auth_req.serverCertificate = init->serverCertificate;
  // §3.6.2: no matchingId: every event of this eUICC.
  auto& ctx = auth_req.ctxParams1.set_ctxParamsForCommonAuthentication();
  ctx.deviceInfo.tac = options.tac;
  ctx.deviceInfo.deviceCapabilities = options.device_capabilities;
  ctx.deviceInfo.imei = options.imei;
  auto auth_resp = client.authenticate_server(auth_req);
  if (!auth_resp) return unexpected(es10_error(s, auth_resp.error()));
  const bool refused = auth_resp->authenticateResponseError() != nullptr;

  // The eUICC's answer goes to the SM-DS either way (it ends the session there).
  const Step asked = step(Step::AuthenticateClient);
  auto body = post(smds, asked, result.smds_address, es11::kAuthenticateClientPath,
                   es9::encode_request(sg::AuthenticateClientRequest{init->transactionId, *auth_resp}));
  if (refused) {
    DownloadError e = error(s, Source::Euicc, "eUICC refused AuthenticateServer for the SM-DS").error();
    e.euicc_code = auth_resp->authenticateResponseError()->authenticateErrorCode;
    return unexpected(std::move(e));
  }
  if (!body) return unexpected(std::move(body).error());
  auto ok = es11::decode_authenticate_client_response(*body);
  if (!ok) return unexpected(decode_error(asked, ok.error()));
  for (const auto& e : ok->eventEntries) result.events.push_back(EventRecord{e.eventId, e.rspServerAddress});
  return result;
}

expected<DownloadTarget, DownloadError> download_target(const std::string& smds_address, Es10Channel& euicc,
                                                        Es9Transport& transport, const DownloadOptions& options) {
  if (smds_address.empty()) {
    Es10Client client(euicc);
    auto a = client.get_euicc_configured_addresses();
    if (!a) return unexpected(es10_error(Step::GetEuiccInfo1, a.error()));
    if (a->defaultDpAddress && !a->defaultDpAddress->empty()) return DownloadTarget{*a->defaultDpAddress, {}, {}};
  }
  RSP_TRY(auto found, discover_events(smds_address, euicc, transport, options));
  if (found.events.empty())
    return error(Step::AuthenticateClient, Source::User, "the SM-DS " + found.smds_address + " holds no event for this eUICC");
  const EventRecord& first = found.events.front();
  return DownloadTarget{first.rsp_server_address, first.event_id, first};
}

}  // namespace rsp::lpa
