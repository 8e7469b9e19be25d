#pragma once
/// The SM-DP+ protocol core: the ES9+ functions (SGP.22 §5.6) and the ES8+
/// Bound Profile Package they deliver (SGP.22 §5.5, §2.5, §2.6 BSP), in
/// process and transport independent. Clock and randomness are injected;
/// each failure is an SGP.22 subject/reason code, never an exception.
///
/// One download (SGP.22 §3.1.3):
///   initiate_authentication -> authenticate_client -> get_bound_profile_package
///   -> handle_notification; cancel_session may end it early.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "rsp/asn1/sgp22.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/service/clock.hpp"
#include "rsp/smdpp/catalog.hpp"
#include "rsp/smdpp/error.hpp"
#include "rsp/smdpp/identity.hpp"

namespace rsp::smdpp {

// The service kit's clock (rsp/service/clock.hpp), named here as the SM-DP+ reads it.
using service::TimePoint;
using service::Clock;
using service::SystemClock;
using service::ManualClock;

struct ServerConfig {
  /// The SM-DP+ FQDN the eUICC must address (serverAddress / smdpAddress).
  std::string address;
  /// A session not finished within this time after AuthenticateClient is
  /// gone (SGP.22 §3.1.3 leaves it to the SM-DP+).
  std::chrono::seconds session_timeout{std::chrono::minutes(10)};
  /// A session that has not reached AuthenticateClient is gone after this.
  /// InitiateAuthentication needs no credentials, so such sessions must not
  /// be able to hold the table: a genuine LPA needs only the time of one
  /// ES10b AuthenticateServer on its card between the two calls.
  std::chrono::seconds pending_session_timeout{30};
  /// Upper bound on the sessions held. When it is reached, the oldest session
  /// still waiting for AuthenticateClient gives way; sessions past
  /// AuthenticateClient (eUICCs that proved who they are) are never pushed out.
  std::size_t max_sessions = 100000;
  /// How many sessions waiting for AuthenticateClient one peer address may
  /// hold, as a share of max_sessions (at least 1); beyond it that peer's own
  /// oldest waiting session gives way.
  double peer_session_share = 0.1;

  /// peer_session_share of max_sessions, at least 1.
  std::size_t max_pending_per_peer() const;
};

/// Outcome of a handled notification (SGP.22 §5.6.4).
struct NotificationOutcome {
  std::string eid;
  std::int64_t seq_number = 0;
  std::optional<Bytes> iccid;
  bool install_success = false;  ///< ProfileInstallationResult with successResult
  bool is_install_result = false;
  /// An errorResult saying the eUICC the BPP went to holds this ICCID
  /// already, recorded as installed (InstallOutcome::AlreadyOnEuicc).
  bool already_on_euicc = false;
};

class SessionStore;

class Server {
 public:
  /// `sessions` keeps the download sessions between calls (session_store.hpp);
  /// null gives a private in-memory store.
  Server(ServerConfig config, std::shared_ptr<const IdentitySet> identities,
         std::shared_ptr<ProfileCatalog> catalog, const Clock& clock, crypto::Random& rng,
         std::shared_ptr<SessionStore> sessions = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// ES9+.InitiateAuthentication (SGP.22 §5.6.1); `peer` is the caller's
  /// network address, whose waiting sessions are bounded (ServerConfig).
  SmdppResult<asn1::sgp22::InitiateAuthenticationOkEs9> initiate_authentication(
      const asn1::sgp22::InitiateAuthenticationRequest& request, std::string_view peer = {});
  /// ES9+.AuthenticateClient (SGP.22 §5.6.2).
  SmdppResult<asn1::sgp22::AuthenticateClientOk> authenticate_client(
      const asn1::sgp22::AuthenticateClientRequest& request);
  /// ES9+.GetBoundProfilePackage (SGP.22 §5.6.3).
  SmdppResult<asn1::sgp22::GetBoundProfilePackageOk> get_bound_profile_package(
      const asn1::sgp22::GetBoundProfilePackageRequest& request);
  /// ES9+.HandleNotification (SGP.22 §5.6.4): verifies the eUICC signature.
  SmdppResult<NotificationOutcome> handle_notification(const asn1::sgp22::PendingNotification& notification);
  /// ES9+.CancelSession (SGP.22 §5.6.5).
  SmdppResult<void> cancel_session(const asn1::sgp22::CancelSessionRequestEs9& request);

  /// Sessions currently held (for tests and metrics).
  std::size_t session_count() const;

  struct Session;  // defined in session.hpp (library-internal)

 private:
  /// The session, removed from the store; null when unknown, used, expired
  /// or unreadable (a store failure must not let a call through).
  /// The session (nullptr: none), or the session store's failure.
  SmdppResult<std::shared_ptr<Session>> take_session(const Bytes& transaction_id);
  SmdppResult<void> put_session(std::shared_ptr<Session> s);
  /// A verified OtherSignedNotification into the catalog (ProfileCatalog::record_profile_notification).
  SmdppResult<void> record_profile_notification(const asn1::sgp22::PendingNotification& n,
                                                const NotificationOutcome& verified);
  SmdppResult<NotificationOutcome> handle_stored_installation_result(
      const asn1::sgp22::ProfileInstallationResult& pir);

  ServerConfig config_;
  std::shared_ptr<const IdentitySet> identities_;
  std::shared_ptr<ProfileCatalog> catalog_;
  const Clock& clock_;
  crypto::Random& rng_;
  std::mutex rng_mu_;
  std::shared_ptr<SessionStore> sessions_;
};

}  // namespace rsp::smdpp
