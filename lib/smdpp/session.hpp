#pragma once
/// Library-internal: the state of one download session (SGP.22 §3.1.3),
/// keyed by transactionId. A session is taken out of the table while a
/// function works on it, so a replayed or concurrent call finds nothing.
/// Every field added here must also be kept by session_store_sql.cpp.

#include <optional>
#include <string>

#include "rsp/crypto/ec_key.hpp"
#include "rsp/smdpp/server.hpp"

namespace rsp::smdpp {

struct Server::Session {
  enum class State { Initiated, Authenticated, BppIssued };
  State state = State::Initiated;
  Bytes transaction_id;
  Bytes server_challenge;  ///< single use: the session leaves Initiated once checked
  const ServerIdentity* identity = nullptr;
  /// The network address InitiateAuthentication came from: while the session
  /// waits for AuthenticateClient it counts against that peer's share.
  std::string peer;
  /// The last second in which the session may be used. Times are whole
  /// seconds, so a session opened late in a second still gets its whole
  /// timeout instead of losing up to a second of it.
  TimePoint expires{};

  // Known after authenticate_client.
  /// The matchingId the eUICC sent (may be empty): a session continued by
  /// another instance finds its order's profile again with it.
  std::string requested_matching_id;
  std::string eid;
  Bytes eid_bytes;
  std::optional<crypto::EcKey> euicc_key;
  Bytes smdp_signature2;
  /// The order; a session restored from a SessionStore that does not keep
  /// objects has no `profile` here until the core looks it up again.
  std::optional<ProfileOrder> order;
};

/// Whether a session whose last usable second is `expires` has timed out at
/// `now` (the rule behind Session::expires, for every session store).
inline bool session_expired(TimePoint expires, TimePoint now) { return expires < now; }

}  // namespace rsp::smdpp
