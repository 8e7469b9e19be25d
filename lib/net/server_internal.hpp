#pragma once
// The server's shared state and one connection's state machine
// (library-internal).
//
// Event loop: Boost.Asio (Debian's libboost-dev, header-only), chosen over an
// epoll loop of our own as the well-kept library, as issue 15 prefers unless
// it costs the SM-DP+ more than 10 % of its CPU per download. TLS stays on
// our memory-BIO session (tls_session.hpp), so Asio only waits for sockets
// and timers.
//
// I/O threads (HttpServerOptions::io_threads): one io_context per thread, each
// run by that thread alone. The acceptor lives on the first; each accepted
// connection is given to the next loop in turn and stays there, so all of a
// connection's state below is touched by its loop's thread only (no strand
// needed). What the loops share (the connection table and per-peer counts) is
// under conn_mu; the stop flag is atomic.
//
// Handlers (HandlerThreads): on the pool, a request crosses threads twice
// (loop -> pool, then the answer posted back to the loop), and each crossing
// wakes a sleeping thread; inline, the loop runs the handler itself and
// writes the answer before it waits again, as a thread per connection does.
// An answer is sent from where it is made when the socket takes it all (the
// common case), so it waits for no turn of the loop either.
//
// Measured with bench_smdpp, which serves the SM-DP+ on this server and on
// the thread per connection net had before (bench/smdpp/
// reference_transport.hpp) in one run, rounds alternated (release, 2 clients,
// 400 downloads, NIST, a 2-core VM at a load of 17 from other builds): server
// CPU per download against the reference 0.96-1.08 inline, 1.07-1.21 on the
// pool; the HTTPS transport alone 0.98-1.10 inline, 1.36-2.09 on the pool.
// What inline still pays over a blocking read is Asio's re-arming of the
// socket's read interest (an epoll_ctl per wait for readability).

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rsp/net/server.hpp"
#include "rsp/net/server_transport.hpp"
#include "tls_internal.hpp"
#include "tls_session.hpp"

namespace rsp::net {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace detail {
class Connection;

/// The reason phrase in lower case ("not found"), a refusal's body.
std::string short_reason(int status);
/// A header that would break the framing (CR, LF) is never written.
bool header_is_safe(const std::string& name, const std::string& value);
}

/// One event loop: an io_context and the thread that runs it.
struct IoLoop {
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::thread thread;
  /// This loop's read scratch: idle connections hold no buffer of their own.
  std::string read_buffer = std::string(16384 + 512, '\0');
};

/// A route's handler and where it runs.
struct RouteEntry {
  Handler handler;
  HandlerThreads threads = HandlerThreads::Pool;
};

struct HttpServer::Impl final : ServerCore {
  explicit Impl(const HttpServerOptions& o) : options(o) {}
  ~Impl();

  const HttpServerOptions& options;  // owned by the HttpServer
  // Declared before ctx's use so it outlives the SSL_CTX that points at it.
  detail::ServerTlsState tls_state;
  SSL_CTX* ctx = nullptr;

  /// The event loops; the first also accepts. Handlers queued on the first
  /// may hold connections of the others, never the reverse: ~Impl ends the
  /// first one first.
  std::vector<std::unique_ptr<IoLoop>> loops;
  std::optional<asio::ip::tcp::acceptor> acceptor;      // on loops[0]
  std::optional<asio::steady_timer> accept_retry;       // on loops[0]
  std::size_t next_loop = 0;                            // loops[0]'s thread only
  asio::ip::tcp::endpoint accept_peer;                  // the accept in progress's peer; loops[0]'s thread only
  std::unique_ptr<asio::thread_pool> pool;

  std::map<std::string, std::map<std::string, RouteEntry>> routes;  // path -> method -> handler
  bool started = false;
  bool stopped = false;
  std::mutex stop_mu;

  std::atomic<bool> stopping{false};
  std::mutex conn_mu;  ///< guards the two below, which every loop's connections change
  std::unordered_set<std::shared_ptr<detail::Connection>> connections;
  std::unordered_map<std::string, std::size_t> per_peer;

  std::size_t max_connections = 0;  ///< the option, within the open-file limit
  std::atomic<std::uint64_t>* accepted_count = nullptr;  ///< HttpServer::connections_accepted()
  std::atomic<std::size_t> open{0};
  std::atomic<std::uint64_t> refused{0};

  CounterFamily* requests = nullptr;
  HistogramFamily* latency = nullptr;
  CounterFamily* exceptions = nullptr;
  CounterFamily* accepted = nullptr;
  CounterFamily* refusals = nullptr;
  CounterFamily* timeouts = nullptr;
  CounterFamily* tls_failures = nullptr;
  GaugeFamily* active = nullptr;

  /// The route of a head (HEAD served as GET); nullptr with the 404 or 405
  /// answer in `refusal`, counted and reported to on_unrouted.
  const RouteEntry* find_route(const RequestHead& head, const std::string& peer, Response& refusal);

  // ServerCore: what every transport, the event loops included, goes through.
  const Handler* route(const RequestHead& head, const std::string& peer, Response& refusal) override {
    const RouteEntry* r = find_route(head, peer, refusal);
    return r ? &r->handler : nullptr;
  }
  Response run(const Handler& handler, const Request& request) override;
  void count(const std::string& method, const std::string& path, int status) override {
    const std::string route = routes.count(path) ? path : std::string("other");
    requests->inc({{"method", !method.empty() && method.size() <= 7 ? method : std::string("other")},
                   {"route", route},
                   {"status", std::to_string(status)}});
  }
  std::string response_bytes(const std::string& method, const Response& response, bool close) const override;
  void tls_failed(const std::string& peer, const std::string& reason) override {
    tls_failures->inc({});
    if (options.on_tls_failure) options.on_tls_failure(peer, reason);
  }

  void accept();
  void on_accepted(IoLoop& loop, asio::ip::tcp::socket socket);
  /// Called by a connection (on its loop) as it closes.
  void forget(const std::shared_ptr<detail::Connection>& c, const std::string& peer);
  /// Stop, on the first loop: no more accepting, idle connections closed
  /// (each on its own loop); the loops end once the last busy connection has
  /// answered.
  void begin_stop();
  /// Ends every loop when stopping and no connection is left.
  void finish_if_drained();
};

namespace detail {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpServer::Impl& server, IoLoop& loop, asio::ip::tcp::socket socket, std::string peer);
  /// On the connection's loop, as everything below.
  void start();
  /// Closes at once (idempotent).
  void close();
  /// Waiting for a request (or a handshake) with nothing of one received yet.
  bool idle() const;
  const std::string& peer() const { return peer_; }
  IoLoop& loop() const { return loop_; }

 private:
  enum class Phase { Handshake, Idle, Head, Body, Handling, Writing, Draining, Closed };

  void want_read();
  void on_readable();
  void on_handshake_input();
  void process();
  void dispatch(const RouteEntry& route);
  void on_response(Response response);
  void respond(const std::string& method, const Response& r, bool close, bool drain);
  void refuse(int status);
  void send(std::string_view plain);
  void start_write();
  void written();
  void on_written();
  void tls_failed(const std::string& reason);

  void set_deadline(Clock::time_point phase_deadline);
  void arm_timer();
  void on_timer();

  HttpServer::Impl& server_;
  IoLoop& loop_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  std::string peer_;
  std::unique_ptr<TlsSession> tls_;
  std::string tls_version_;
  std::optional<PeerCertificate> client_certificate_;
  std::string psk_identity_;

  Phase phase_ = Phase::Handshake;
  Clock::time_point phase_deadline_ = Clock::time_point::max();
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point timer_expiry_ = Clock::time_point::max();
  bool timer_pending_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool in_written_ = false;     ///< written() is running (further answers queue behind it)
  bool written_again_ = false;  ///< an answer left while it ran

  std::string in_;       ///< plaintext received, not yet parsed
  std::string out_;      ///< bytes to send after the write in progress
  std::string sending_;  ///< the write in progress
  std::size_t served_ = 0;
  bool close_after_ = false;
  bool drain_after_ = false;
  std::size_t drain_left_ = 0;

  // The request being read.
  RequestHead head_;
  std::optional<ChunkedDecoder> chunked_;
  std::string body_;
  const RouteEntry* route_ = nullptr;
};

}  // namespace detail
}  // namespace rsp::net
