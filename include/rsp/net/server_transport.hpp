#pragma once
/// A connection transport of one's own for HttpServer
/// (HttpServerOptions::transport). net's own is event-driven (Boost.Asio
/// loops, handlers on a pool or inline); bench_smdpp brings the thread per
/// connection net had before as its reference, so that both serve the same
/// routes, handlers and metrics in one run and only the transport differs.
///
/// The server binds, makes the TLS context from HttpServerOptions::tls and
/// keeps routing, handlers, response framing and metrics (ServerCore); the
/// transport accepts on the listening socket, runs TLS, frames requests with
/// http1.hpp and hands each to the core.

#include <string>

#include "rsp/net/error.hpp"
#include "rsp/net/http1.hpp"
#include "rsp/net/server.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace rsp::net {

/// What a transport asks of its server; every call is thread-safe.
class ServerCore {
 public:
  /// The handler of a request head's route; nullptr when there is none,
  /// with `refusal` set to the 404 (or 405 with Allow) answer, already
  /// counted and reported to on_unrouted.
  virtual const Handler* route(const RequestHead& head, const std::string& peer, Response& refusal) = 0;
  /// Runs a route's handler: an exception becomes a 500 (counted); latency
  /// and status are counted.
  virtual Response run(const Handler& handler, const Request& request) = 0;
  /// Counts an answer the transport made itself (a refused head or body).
  virtual void count(const std::string& method, const std::string& path, int status) = 0;
  /// A response's bytes (status line, default headers, the response's own,
  /// Content-Type and Content-Length, Connection, then the body unless
  /// `method` is HEAD).
  virtual std::string response_bytes(const std::string& method, const Response& response, bool close) const = 0;
  /// A TLS handshake failed: counted and reported to on_tls_failure.
  virtual void tls_failed(const std::string& peer, const std::string& reason) = 0;

 protected:
  ~ServerCore() = default;
};

class ServerTransport {
 public:
  virtual ~ServerTransport() = default;
  /// Starts serving on `listen_fd` (bound and listening; the transport owns
  /// it from here, also on failure). `tls` is null for plain HTTP.
  virtual NetResult<void> start(int listen_fd, ssl_ctx_st* tls, const HttpServerOptions& options,
                                ServerCore& core) = 0;
  /// Stops accepting, finishes the requests in flight and joins its threads.
  virtual void stop() = 0;
};

}  // namespace rsp::net
