#pragma once
/// An HTTP/1.1 server over TLS (or plain HTTP when asked for explicitly) with
/// exact-path routes, keep-alive, a body size limit, metrics and a graceful
/// stop. Connections are served event-driven by a few I/O threads (thousands
/// of idle or slow ones cost memory, not threads); handlers run on a bounded
/// pool of worker threads, so they may block, or inline on the connection's
/// I/O thread when asked (HandlerThreads). Handlers never see a socket: they
/// map a Request to a Response; an exception from a handler becomes a 500 and
/// is counted.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rsp/net/error.hpp"
#include "rsp/net/http1.hpp"
#include "rsp/net/metrics.hpp"
#include "rsp/net/tls.hpp"

namespace rsp::net {

struct Request {
  std::string method;
  std::string path;
  Headers headers;
  std::string body;
  std::string remote_address;
  /// "TLSv1.3", "TLSv1.2"; empty over plain HTTP.
  std::string tls_version;
  /// The client certificate the handshake verified (mutual TLS), if any.
  std::optional<PeerCertificate> client_certificate;
  /// The PSK identity the client used (PSK-TLS), empty otherwise.
  std::string psk_identity;

  std::optional<std::string> header(std::string_view name) const { return find_header(headers, name); }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  Headers headers;
  std::string body;
};

using Handler = std::function<Response(const Request&)>;

class ServerTransport;  // server_transport.hpp

/// Where a request's handler runs.
enum class HandlerThreads {
  /// On the worker pool: a handler may block as long as it likes without
  /// holding up the other connections of its I/O thread; each request then
  /// crosses threads twice (I/O thread -> pool -> I/O thread).
  Pool,
  /// On the connection's own I/O thread, with no hand-off: the cheapest for
  /// short handlers. While one runs, the other connections of its loop wait
  /// (as a thread per connection blocks its thread); connections that are
  /// idle or still sending their head never reach a handler, so they hold up
  /// nobody. Pair it with io_threads = hardware threads (the default then).
  Inline,
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  ///< 0: the system picks one (see HttpServer::port())
  /// TLS settings; without them the server refuses to start unless
  /// `insecure_plain_http` is set.
  std::optional<TlsServerConfig> tls;
  bool insecure_plain_http = false;
  std::size_t worker_threads = 8;  ///< the handler pool (connections need no thread of their own)
  /// Where handlers run; a route may choose otherwise (HttpServer::post).
  HandlerThreads handler_threads = HandlerThreads::Pool;
  /// Event-loop threads that read, parse and write every connection (each
  /// connection stays on one); 0: min(2, hardware threads) with handlers on
  /// the pool, the hardware threads with inline handlers.
  std::size_t io_threads = 0;
  /// The threads' names (rsp/common/thread_name.hpp): the I/O threads are
  /// "<name>-io", the handler pool's "<name>-pool" (from their first
  /// request), so a profile or `top -H` tells one server's threads from
  /// another's in the same process. Cut at 15 characters with the suffix.
  std::string thread_name = "rsp-http";
  std::size_t max_body_bytes = 1024 * 1024;  ///< larger bodies are answered with 413
  std::chrono::seconds keep_alive_timeout{5};
  std::size_t keep_alive_max_requests = 100;
  std::chrono::seconds read_timeout{10};   ///< the longest silence while a request arrives
  std::chrono::seconds write_timeout{10};  ///< the longest a response may take to leave
  /// The whole TLS handshake, from the connection's start.
  std::chrono::milliseconds tls_handshake_timeout{10000};
  /// A request's whole head, from its first byte (the first request of a
  /// connection: from the handshake's end). Not per read: a peer sending a
  /// byte a second is cut off when it passes.
  std::chrono::milliseconds head_timeout{10000};
  /// A request's whole body, from the end of its head.
  std::chrono::milliseconds body_timeout{30000};
  /// Open connections at most; past it new ones are closed at once (counted in
  /// rsp_http_connections_refused_total{reason="capacity"}). Lowered at start
  /// to what the open-file limit leaves (RLIMIT_NOFILE less a reserve), so the
  /// server refuses cleanly instead of running out of descriptors.
  std::size_t max_connections = 16384;
  /// Open connections from one peer address at most; past it new ones from
  /// that address are closed at once (reason="peer_limit").
  std::size_t max_connections_per_peer = 256;
  /// Where request, connection and TLS metrics go (a fresh registry when null).
  std::shared_ptr<Metrics> metrics;
  bool serve_metrics = true;  ///< GET /metrics
  bool serve_health = true;   ///< GET /healthz answers 200 "ok"
  /// When set, /healthz asks it first: a reason (e.g. "database") makes the
  /// answer 503 "unavailable: <reason>". It must be quick and never throw.
  std::function<std::optional<std::string>()> health_check;
  /// Headers added to every response.
  Headers default_headers;
  /// Called (on an I/O thread, several at once: it must be quick and
  /// thread-safe) for each TLS handshake that failed or timed out, with the
  /// peer address and a reason free of key material; the caller rate-limits
  /// its log. Never called for plain HTTP.
  std::function<void(const std::string& peer, const std::string& reason)> on_tls_failure;
  /// Called (on an I/O thread, as on_tls_failure) for each request that
  /// matched no route, with the status it is answered with (404, or 405 for
  /// a path served under another method), so an access log misses none.
  std::function<void(const std::string& peer, int status)> on_unrouted;
  /// Serves connections with a transport of one's own instead of the event
  /// loops above (server_transport.hpp; bench_smdpp's thread-per-connection
  /// reference); routes, handlers, TLS context and metrics stay the server's.
  /// The connection limits, timeouts and counts are then the transport's.
  std::shared_ptr<ServerTransport> transport;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();  ///< stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Routes (exact paths); only before start() (later calls are ignored).
  /// Without `threads`, the handler runs where options.handler_threads says.
  void get(const std::string& path, Handler handler, std::optional<HandlerThreads> threads = std::nullopt);
  void post(const std::string& path, Handler handler, std::optional<HandlerThreads> threads = std::nullopt);

  /// Binds and starts accepting in background threads.
  NetResult<void> start();
  /// Stops accepting, finishes requests in flight and joins the threads.
  /// Idle keep-alive connections end within keep_alive_timeout. Idempotent.
  void stop();

  bool running() const;
  /// The bound port (after start()).
  int port() const { return port_; }
  /// "https://127.0.0.1:PORT" or "http://...".
  std::string url() const;
  bool tls() const { return options_.tls.has_value(); }

  Metrics& metrics() { return *metrics_; }
  const std::shared_ptr<Metrics>& metrics_ptr() const { return metrics_; }
  /// TCP connections accepted so far (refused ones included).
  std::uint64_t connections_accepted() const { return accepted_.load(); }
  /// Connections open now.
  std::size_t connections_open() const;
  /// Connections refused so far (over the cap or the per-peer limit).
  std::uint64_t connections_refused() const;

  struct Impl;

 private:
  HttpServerOptions options_;
  std::shared_ptr<Metrics> metrics_;
  std::atomic<std::uint64_t> accepted_{0};
  int port_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rsp::net
