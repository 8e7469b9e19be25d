#pragma once
/// The SM-DS protocol core (SGP.22 v2.2.2 §3.6, §5.7, §5.8), transport
/// independent; clock and randomness injected, failures as SGP.22 codes.
///
///   ES12 (SM-DP+ or SM-DS -> SM-DS): register_event / delete_event, for the
///        caller the mutual TLS connection authenticated.
///   ES11 (LPA -> SM-DS): initiate_authentication -> authenticate_client,
///        the eUICC authentication of ES9+ (rsp/server_auth) with a DSauth
///        certificate; the answer lists the event records of the
///        authenticated EID only.
///
/// Forwarding (§3.6, the cascade): an event registered with
/// forwardingIndicator is registered at the next SM-DS (`forward_to`) with
/// this SM-DS's address as its RSP server address, so an LPA asking there
/// is sent here; deleting it deletes it there. Both calls leave through the
/// durable outbox (rsp/es12/client.hpp sends them). The direction: the
/// SM-DP+ registers at an alternative SM-DS, which forwards to the root SM-DS
/// the eUICC knows (its rootDsAddress, RSPDefinitions'
/// EuiccConfiguredAddressesResponse); the LPA asks the root, is sent to the
/// alternative, which sends it to the SM-DP+. So `forward_to` is set on an
/// alternative SM-DS and names the root. Read from the ES2+ text of SGP.22
/// v3 (the order with an alternative SM-DS "SHALL be a cascaded
/// registration", the root alone a non-cascaded one, as a public
/// transcription quotes it); the v2.2.2 text of §3.6 itself could not be
/// reached, so this stays to be checked against it.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "rsp/asn1/sgp22.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/messages/es12_json.hpp"
#include "rsp/service/clock.hpp"
#include "rsp/smds/error.hpp"
#include "rsp/smds/event_store.hpp"
#include "rsp/smds/identity.hpp"
#include "rsp/smds/session_store.hpp"

namespace rsp::smds {

struct ServerConfig {
  /// The SM-DS FQDN the eUICC must sign (smdsAddress / serverAddress).
  std::string address;
  /// An ES11 session lives this long between its two calls.
  std::chrono::seconds session_timeout{30};
  /// Sessions held at most (with shared_sessions: by all the instances of
  /// one database); when full the oldest gives way.
  std::size_t max_sessions = 100000;
  /// ES11 sessions in the event store's database, for several instances
  /// sharing it (session_store.hpp); else in this instance's memory.
  bool shared_sessions = false;
  /// Base URL of the next SM-DS that forwarded events are registered at
  /// (the outbox's destination); empty: events with forwardingIndicator are
  /// refused (there is nowhere to forward them).
  std::string forward_to;
};

/// The outbox name of the forwarded ES12 calls.
inline constexpr std::string_view kForwardOutbox = "smds.es12";

class Server {
 public:
  Server(ServerConfig config, std::shared_ptr<const IdentitySet> identities, std::shared_ptr<EventStore> events,
         const service::Clock& clock, crypto::Random& rng);

  /// ES12.RegisterEvent (§5.7.1) from `registrar`.
  SmdsResult<void> register_event(const std::string& registrar, const messages::es12::RegisterEventRequest& request);
  /// ES12.DeleteEvent (§5.7.2) from `registrar`: only its own events.
  SmdsResult<void> delete_event(const std::string& registrar, const messages::es12::DeleteEventRequest& request);

  /// ES11.InitiateAuthentication (§5.8.1); the request's smdpAddress field
  /// holds the SM-DS address.
  SmdsResult<asn1::sgp22::InitiateAuthenticationOkEs9> initiate_authentication(
      const asn1::sgp22::InitiateAuthenticationRequest& request);
  /// ES11.AuthenticateClient (§5.8.2): the authenticated eUICC's events; a
  /// matchingId in ctxParams1 names one eventId (kEventUnknown when that
  /// eUICC has none of that id). An EID with no event gets an empty list.
  SmdsResult<asn1::sgp22::AuthenticateClientOkEs11> authenticate_client(
      const asn1::sgp22::AuthenticateClientRequest& request);

  /// The ES11 sessions held (with shared_sessions: by every instance of the database).
  std::size_t session_count() const { return sessions_.count(); }

 private:
  ServerConfig config_;
  std::shared_ptr<const IdentitySet> identities_;
  std::shared_ptr<EventStore> events_;
  SessionStore sessions_;  ///< in memory, or with shared_sessions in the events' database
  const service::Clock& clock_;
  crypto::Random& rng_;
  std::mutex rng_mu_;
};

}  // namespace rsp::smds
