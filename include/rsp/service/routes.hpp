#pragma once
/// The route table of a server role: each function as its specification
/// names it ("ES9+.InitiateAuthentication", "ES2+.DownloadOrder"), its HTTP
/// method and path, whether its caller must be authenticated, and its
/// handler. The service server (server.hpp) wraps every handler with the
/// per-function metrics, the access log and the failure log.

#include <functional>
#include <optional>
#include <string>

#include "rsp/net/server.hpp"
#include "rsp/service/caller.hpp"

namespace rsp::service {

/// A handler's answer and, for a failed function, the spec's result code
/// (already in the body) for metrics and logs.
struct Reply {
  net::Response response;
  std::string subject_code;  ///< e.g. SGP.22 "8.1.1"
  std::string reason_code;   ///< e.g. SGP.22 "3.8"
  /// A failed function's whole message, for the server's log only; never a
  /// key, secret or confirmation code.
  std::string detail;
};

/// (request, authenticated caller or nullopt for an open route) -> reply.
/// An exception is answered with 500 and logged as such.
using FunctionHandler = std::function<Reply(const net::Request&, const std::optional<Caller>&)>;

struct Route {
  std::string function;
  std::string method = "POST";  ///< "GET" or "POST"
  std::string path;
  bool authenticated = false;  ///< refused (the role's `unauthenticated` reply) without a caller
  FunctionHandler handler;
  /// Where the handler runs; unset: the server's default. Inline suits a
  /// short handler that never waits for a disk flush (net/server.hpp).
  std::optional<net::HandlerThreads> threads = std::nullopt;
};

}  // namespace rsp::service
