#pragma once
/// Library-internal: the state of one download session (SGP.22 §3.1.3),
/// keyed by transactionId. A session is taken out of the table while a
/// function works on it, so a replayed or concurrent call finds nothing.

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
  TimePoint expires{};

  // Known after authenticate_client.
  std::string eid;
  Bytes eid_bytes;
  std::optional<crypto::EcKey> euicc_key;
  Bytes smdp_signature2;
  std::optional<ProfileOrder> order;
};

}  // namespace rsp::smdpp
