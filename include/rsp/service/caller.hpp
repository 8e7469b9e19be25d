#pragma once
/// The authenticated caller of a server role's function (SGP.22 §2.6.6: ES2+
/// callers are authenticated; ES9+ callers, the LPAs, are not). A route that
/// asks for authentication gets the caller from an Authenticator; a refused
/// request never reaches the route's handler.

#include <functional>
#include <optional>
#include <string>

#include "rsp/net/server.hpp"

namespace rsp::service {

/// How a caller proved who it is.
enum class CallerProof { ApiKey, ClientCertificate };

struct Caller {
  std::string id;  ///< e.g. the operator's functionRequesterIdentifier
  CallerProof proof = CallerProof::ApiKey;
};

/// "api-key" / "client-certificate", for logs and metrics.
const char* proof_name(CallerProof proof);

/// The caller a request is authenticated as; nullopt: refused. Must not throw
/// (an exception counts as a refusal).
using Authenticator = std::function<std::optional<Caller>(const net::Request&)>;

}  // namespace rsp::service
