// The card's side of a RAM over HTTP administration session.

#include "admin_client.hpp"

#include <algorithm>

#include "rsp/apdu/status_words.hpp"
#include "rsp/card/aid.hpp"
#include "rsp/common/ascii.hpp"
#include "rsp/euicc_m2m/ram_script.hpp"
#include "rsp/net/client.hpp"
#include "rsp/ota/admin_http.hpp"
#include "rsp/ota/ram.hpp"

namespace rsp::m2m_device::detail {

namespace {

unexpected<DeviceError> fail(DeviceError::Kind kind, std::string message) {
  return unexpected(DeviceError{kind, std::move(message)});
}

/// The Amendment B request headers without Content-Type (the client sets it).
net::Headers request_headers(const ota::AdminRequest& r) {
  net::Headers out;
  for (auto& [name, value] : ota::format_request_headers(r))
    if (!iequals(name, "Content-Type")) out.emplace_back(name, value);
  return out;
}

/// The first POST's body: the pending notifications as R-APDUs ('E1' and
/// '9000') of a response script; empty when there are none.
Bytes notification_script(euicc_m2m::M2mIsdR& isd_r, std::size_t& count) {
  ota::ResponseScript script;
  for (const auto& n : isd_r.pending_notifications())
    script.r_apdus.push_back(apdu::Response{m2m::encode_notification(n), apdu::sw::kOk});
  count = script.r_apdus.size();
  if (count == 0) return {};
  script.executed = static_cast<std::uint8_t>(std::min<std::size_t>(count, 0xFF));
  return ota::encode(script).value_or(Bytes{});
}

/// Where the session's first POST broke: the client was closed after the
/// last session, so that POST makes the connection and its handshake.
/// A timeout is counted with the exchange: its message says whether it was
/// the connect's or a read's, its kind does not.
DeviceError::Stage stage_of(const net::NetError& e) {
  switch (e.kind) {
    case net::NetError::Kind::Connect: return DeviceError::Stage::Connect;
    case net::NetError::Kind::Tls:
    case net::NetError::Kind::TlsVerification: return DeviceError::Stage::Handshake;
    default: return DeviceError::Stage::Exchange;
  }
}

}  // namespace

SessionClient::~SessionClient() { wipe(key); }

namespace {

/// The client for `target` with the card's PSK: the cached one when it was
/// made for the same host, PSK and timeout.
expected<net::HttpsClient*, DeviceError> session_client(euicc_m2m::M2mIsdR& isd_r, const SessionTarget& target,
                                                        SessionClient& cache) {
  auto psk = isd_r.scp81();
  if (cache.client && cache.host == target.host && cache.identity == psk.identity && cache.key == psk.key &&
      cache.timeout == target.timeout) {
    wipe(psk.key);
    return cache.client.get();
  }
  cache.client.reset();
  wipe(cache.key);
  net::HttpsClientOptions o;
  o.base_url = "https://" + target.host;
  o.psk = net::PskClientConfig{psk.identity, psk.key};
  o.connect_timeout = target.timeout;
  o.read_timeout = target.timeout;
  o.write_timeout = target.timeout;
  o.user_agent = "rsp-m2m-device/0.1";
  auto client = net::HttpsClient::create(std::move(o));
  if (!client) {
    wipe(psk.key);
    return fail(DeviceError::Kind::Connect, client.error().message);
  }
  cache.client = std::move(*client);
  cache.host = target.host;
  cache.identity = psk.identity;
  cache.key = std::move(psk.key);
  cache.timeout = target.timeout;
  return cache.client.get();
}

expected<SessionReport, DeviceError> run_session(euicc_m2m::M2mIsdR& isd_r, const SessionTarget& target,
                                                 net::HttpsClient& client);

}  // namespace

expected<SessionReport, DeviceError> run_admin_session(euicc_m2m::M2mIsdR& isd_r, const SessionTarget& target,
                                                       SessionClient& cache) {
  if (target.host.empty()) return fail(DeviceError::Kind::NoServer, "no administration host");
  RSP_TRY(auto* client, session_client(isd_r, target, cache));
  auto report = run_session(isd_r, target, *client);
  // The session's connection ends with it, however it ended.
  client->close();
  return report;
}

namespace {

expected<SessionReport, DeviceError> run_session(euicc_m2m::M2mIsdR& isd_r, const SessionTarget& target,
                                                 net::HttpsClient& client) {
  SessionReport report;
  Bytes body = notification_script(isd_r, report.notifications);
  ota::AdminRequest request{target.agent_id, std::nullopt, false, !body.empty()};
  std::string uri = target.uri;
  for (std::size_t i = 0; i < target.max_exchanges; ++i) {
    auto response = client.request("POST", uri, std::string(body.begin(), body.end()),
                                       request.has_body ? std::string(ota::kContentTypeScriptResponse) : std::string(),
                                       request_headers(request));
    if (!response) return unexpected(DeviceError{DeviceError::Kind::Connect, response.error().message,
                                                 i == 0 ? stage_of(response.error()) : DeviceError::Stage::Exchange});
    auto admin = ota::parse_response_headers(response->status, response->headers);
    if (!admin) {
      return fail(DeviceError::Kind::Protocol,
                  "HTTP " + std::to_string(response->status) + ": " + admin.error().to_string());
    }
    if (!admin->has_script) return report;  // 204: the session is over
    auto script = ota::decode_command_script(Bytes(response->body.begin(), response->body.end()));
    request = ota::AdminRequest{target.agent_id, ota::ScriptStatus::Ok, false, true};
    if (!script) {
      request.script_status = ota::ScriptStatus::ScriptFormatError;
      request.has_body = false;
      body.clear();
    } else {
      // A script for an ISD-P (ES3 SendData) runs there, any other on the ISD-R.
      const auto& aid = admin->targeted_application;
      const bool isdp = aid && !aid->empty() && !std::equal(aid->begin(), aid->end(), std::begin(card::kIsdRAid), std::end(card::kIsdRAid));
      auto encoded = ota::encode(
          !isdp ? euicc_m2m::run_script(isd_r, *script)
          : target.isdp
              ? euicc_m2m::run_script([&](ByteView c) { return target.isdp(*aid, c); }, *script)
              : euicc_m2m::run_script([](ByteView) { return Bytes{0x6A, 0x82}; }, *script));
      if (!encoded) return fail(DeviceError::Kind::Protocol, "response script: " + encoded.error().to_string());
      body = std::move(*encoded);
      ++report.scripts;
    }
    if (!admin->next_uri) return report;  // no next URI: the server ended the session
    uri = *admin->next_uri;
  }
  return fail(DeviceError::Kind::Protocol, "the session went past its exchange limit");
}

}  // namespace

}  // namespace rsp::m2m_device::detail
