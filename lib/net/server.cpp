#include "rsp/net/server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include <algorithm>

#include "rsp/common/socket_io.hpp"
#include "rsp/common/thread_name.hpp"
#include "server_internal.hpp"

namespace rsp::net {

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>(options_)) {
  metrics_ = options_.metrics ? options_.metrics : std::make_shared<Metrics>();
  auto& m = *metrics_;
  impl_->accepted_count = &accepted_;
  impl_->requests = &m.counter("rsp_http_requests_total", "HTTP requests answered, by method, route and status.");
  impl_->latency =
      &m.histogram("rsp_http_request_duration_seconds", "Time spent in request handlers, by method and route.");
  impl_->exceptions = &m.counter("rsp_http_handler_exceptions_total", "Handler exceptions answered with 500.");
  impl_->accepted = &m.counter("rsp_http_connections_accepted_total", "TCP connections accepted.");
  impl_->refusals = &m.counter("rsp_http_connections_refused_total",
                               "Connections closed at once: over the cap (capacity) or the per-peer limit (peer_limit).");
  impl_->timeouts = &m.counter("rsp_http_timeouts_total",
                               "Connections cut for a slow peer, by phase (handshake, head, body, write).");
  impl_->active = &m.gauge("rsp_http_connections_active", "Connections open.");
  impl_->active->set({}, 0);
  impl_->tls_state.handshakes = &m.counter("rsp_tls_handshakes_total", "Completed TLS handshakes, by version.");
  impl_->tls_failures = &m.counter("rsp_tls_handshake_failures_total", "TLS handshakes that failed.");

  if (options_.serve_health) {
    get("/healthz", [check = options_.health_check](const Request&) {
      if (check) {
        if (auto reason = check()) return Response{503, "text/plain; charset=utf-8", {}, "unavailable: " + *reason};
      }
      return Response{200, "text/plain; charset=utf-8", {}, "ok"};
    });
  }
  if (options_.serve_metrics) {
    get("/metrics", [m = metrics_](const Request&) { return Response{200, Metrics::content_type(), {}, m->render()}; });
  }
}

HttpServer::~HttpServer() { stop(); }

// Routes are read without a lock by the server threads: none are added once started.
void HttpServer::get(const std::string& path, Handler handler, std::optional<HandlerThreads> threads) {
  if (!impl_->started)
    impl_->routes[path]["GET"] = RouteEntry{std::move(handler), threads.value_or(options_.handler_threads)};
}
void HttpServer::post(const std::string& path, Handler handler, std::optional<HandlerThreads> threads) {
  if (!impl_->started)
    impl_->routes[path]["POST"] = RouteEntry{std::move(handler), threads.value_or(options_.handler_threads)};
}

bool HttpServer::running() const { return impl_->started && !impl_->stopped; }
std::size_t HttpServer::connections_open() const { return impl_->open.load(); }
std::uint64_t HttpServer::connections_refused() const { return impl_->refused.load(); }

std::string HttpServer::url() const {
  std::string host = options_.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(tls() ? "https://" : "http://") + host + ":" + std::to_string(port_);
}

NetResult<void> HttpServer::start() {
  ignore_sigpipe();  // sends go through Asio (MSG_NOSIGNAL); this covers any write(2) of the libraries below
  if (impl_->started) return net_error(NetError::Kind::InvalidArgument, "server already started");
  if (!options_.tls && !options_.insecure_plain_http)
    return net_error(NetError::Kind::InvalidArgument, "no TLS configuration (plain HTTP must be asked for explicitly)");
  if (options_.max_body_bytes == 0 || options_.keep_alive_max_requests == 0)
    return net_error(NetError::Kind::InvalidArgument, "body limit and keep-alive request count must be positive");
  if (options_.max_connections == 0 || options_.max_connections_per_peer == 0)
    return net_error(NetError::Kind::InvalidArgument, "connection limits must be positive");
  if (options_.port < 0 || options_.port > 65535)
    return net_error(NetError::Kind::InvalidArgument, "port out of range: " + std::to_string(options_.port));

  if (options_.tls) {
    impl_->ctx = SSL_CTX_new(TLS_server_method());
    std::string error;
    if (!impl_->ctx || !detail::configure_server_ctx(impl_->ctx, impl_->tls_state, *options_.tls, error))
      return net_error(NetError::Kind::Credentials, error.empty() ? "cannot create the TLS context" : error);
  }

  const std::string where = options_.host + ":" + (options_.port ? std::to_string(options_.port) : "(any port)");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(options_.host.c_str(), std::to_string(options_.port).c_str(), &hints, &found) != 0 || !found)
    return net_error(NetError::Kind::Bind, "cannot resolve " + where);
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    // Linux gives an accepted socket the listener's TCP_NODELAY: set once
    // here, not on each connection (a syscall fewer per connection).
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return net_error(NetError::Kind::Bind, "cannot listen on " + where);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                            : reinterpret_cast<sockaddr_in&>(bound).sin_port);
  if (options_.transport) {
    auto started = options_.transport->start(fd, impl_->ctx, options_, *impl_);
    if (started) impl_->started = true;
    return started;
  }
  // With inline handlers a loop runs requests as a thread per connection
  // would: one loop per hardware thread keeps every core busy.
  const std::size_t hardware = std::max<std::size_t>(std::thread::hardware_concurrency(), 1);
  std::size_t io_threads = options_.io_threads;
  if (io_threads == 0) io_threads = options_.handler_threads == HandlerThreads::Inline ? hardware : std::min<std::size_t>(hardware, 2);
  for (std::size_t i = 0; i < io_threads; ++i) impl_->loops.push_back(std::make_unique<IoLoop>());
  boost::system::error_code ec;
  impl_->acceptor.emplace(impl_->loops.front()->io);
  impl_->acceptor->assign(bound.ss_family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), fd, ec);
  if (ec) {
    ::close(fd);
    impl_->acceptor.reset();
    return net_error(NetError::Kind::Bind, "cannot listen on " + where + ": " + ec.message());
  }
  impl_->max_connections = options_.max_connections;
  if (rlimit limit{}; ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    // Descriptors for the process's files, databases and outgoing calls stay free.
    constexpr rlim_t kReserve = 128;
    const rlim_t room = limit.rlim_cur > 2 * kReserve ? limit.rlim_cur - kReserve : limit.rlim_cur / 2;
    impl_->max_connections = std::min<std::size_t>(impl_->max_connections, static_cast<std::size_t>(room));
  }
  impl_->accept_retry.emplace(impl_->loops.front()->io);
  impl_->pool = std::make_unique<asio::thread_pool>(std::max<std::size_t>(options_.worker_threads, 1));
  impl_->started = true;
  impl_->accept();
  for (auto& loop : impl_->loops) {
    loop->guard.emplace(loop->io.get_executor());
    loop->thread = std::thread([io = &loop->io, name = options_.thread_name + "-io"] {
      set_thread_name(name);
      io->run();
    });
  }
  return {};
}

void HttpServer::stop() {
  std::lock_guard lock(impl_->stop_mu);
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  if (options_.transport) return options_.transport->stop();
  // Idle connections close at once; requests in flight finish and are
  // answered with "Connection: close"; the loop ends after the last one.
  asio::post(impl_->loops.front()->io, [impl = impl_.get()] { impl->begin_stop(); });
  for (auto& loop : impl_->loops)
    if (loop->thread.joinable()) loop->thread.join();
  impl_->pool->join();
}

HttpServer::Impl::~Impl() {
  // Pending handlers hold connections (and the acceptor's a socket) of the
  // loops; the first loop's may hold the others', so it goes first.
  acceptor.reset();
  accept_retry.reset();
  for (auto& loop : loops) loop.reset();
  SSL_CTX_free(ctx);
}

const RouteEntry* HttpServer::Impl::find_route(const RequestHead& head, const std::string& peer, Response& refusal) {
  const std::string method = head.method == "HEAD" ? std::string("GET") : head.method;
  const auto route = routes.find(head.path);
  if (route != routes.end()) {
    const auto m = route->second.find(method);
    if (m != route->second.end()) return &m->second;
  }
  Headers extra;
  int status = 404;
  if (route != routes.end()) {
    status = 405;
    std::string allow;
    for (const auto& [m, h] : route->second) allow += (allow.empty() ? "" : ", ") + m;
    extra.emplace_back("Allow", allow);
  }
  count(head.method, head.path, status);
  if (options.on_unrouted) options.on_unrouted(peer, status);
  refusal = Response{status, "text/plain; charset=utf-8", std::move(extra), detail::short_reason(status)};
  return nullptr;
}

Response HttpServer::Impl::run(const Handler& handler, const Request& request) {
  const auto start = Clock::now();
  Response response;
  try {
    response = handler(request);
  } catch (...) {
    exceptions->inc({{"route", request.path}});
    response = Response{500, "text/plain; charset=utf-8", {}, detail::short_reason(500)};
  }
  const std::chrono::duration<double> took = Clock::now() - start;
  latency->observe({{"method", request.method == "HEAD" ? std::string("GET") : request.method}, {"route", request.path}},
                   took.count());
  count(request.method, request.path, response.status);
  return response;
}

std::string HttpServer::Impl::response_bytes(const std::string& method, const Response& r, bool close) const {
  std::string out;
  out.reserve(256 + r.body.size());
  out += "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(reason_phrase(r.status)) + "\r\n";
  for (const auto& [k, v] : options.default_headers)
    if (detail::header_is_safe(k, v) && !find_header(r.headers, k)) out += k + ": " + v + "\r\n";
  for (const auto& [k, v] : r.headers)
    if (detail::header_is_safe(k, v)) out += k + ": " + v + "\r\n";
  const bool no_content = r.status == 204 || r.status == 304 || r.status < 200;
  if (!no_content) {
    if (!r.content_type.empty() && detail::header_is_safe("Content-Type", r.content_type))
      out += "Content-Type: " + r.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  }
  out += close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
  if (!no_content && method != "HEAD") out += r.body;
  return out;
}

void HttpServer::Impl::accept() {
  // The next connection goes to the next loop in turn, its socket made there.
  IoLoop& loop = *loops[next_loop];
  next_loop = (next_loop + 1) % loops.size();
  const auto on_accept = [this, &loop](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
    if (stopping || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors or a connection already gone: try again shortly.
      accept_retry->expires_after(std::chrono::milliseconds(10));
      accept_retry->async_wait([this](const boost::system::error_code& e) {
        if (!e && !stopping) accept();
      });
      return;
    }
    on_accepted(loop, std::move(socket));
    accept();
  };
  // The peer's address comes with the accept (no getpeername per connection).
  acceptor->async_accept(loop.io, accept_peer, on_accept);
}

void HttpServer::Impl::on_accepted(IoLoop& loop, asio::ip::tcp::socket socket) {
  boost::system::error_code ec;
  accepted->inc();
  ++*accepted_count;
  std::string peer = accept_peer.address().to_string();
  std::shared_ptr<detail::Connection> c;
  const char* refusal = nullptr;
  {
    std::lock_guard lock(conn_mu);
    if (connections.size() >= max_connections) {
      refusal = "capacity";
    } else if (auto it = per_peer.find(peer); it != per_peer.end() && it->second >= options.max_connections_per_peer) {
      refusal = "peer_limit";
    } else {
      c = std::make_shared<detail::Connection>(*this, loop, std::move(socket), peer);
      connections.insert(c);
      ++per_peer[peer];
    }
  }
  if (refusal) {
    refusals->inc({{"reason", refusal}});
    ++refused;
    socket.close(ec);
    return;
  }
  ++open;
  active->add({}, 1);
  // On this loop (the first) it starts now: a posted start would cost the
  // loop a turn that polls epoll for nothing before it runs.
  if (&loop == loops.front().get()) return c->start();
  asio::post(loop.io, [c] { c->start(); });
}

void HttpServer::Impl::forget(const std::shared_ptr<detail::Connection>& c, const std::string& peer) {
  {
    std::lock_guard lock(conn_mu);
    if (connections.erase(c) == 0) return;
    if (auto it = per_peer.find(peer); it != per_peer.end() && --it->second == 0) per_peer.erase(it);
  }
  --open;
  active->add({}, -1);
  finish_if_drained();
}

void HttpServer::Impl::begin_stop() {
  stopping = true;
  boost::system::error_code ec;
  acceptor->close(ec);
  accept_retry->cancel();
  std::vector<std::shared_ptr<detail::Connection>> all;
  {
    std::lock_guard lock(conn_mu);
    all.assign(connections.begin(), connections.end());
  }
  // Each is looked at on its own loop: one busy there now stays to answer.
  for (const auto& c : all)
    asio::post(c->loop().io, [c] {
      if (c->idle()) c->close();
    });
  finish_if_drained();
}

void HttpServer::Impl::finish_if_drained() {
  if (!stopping) return;
  {
    std::lock_guard lock(conn_mu);
    if (!connections.empty()) return;
  }
  for (auto& loop : loops) loop->io.stop();  // thread-safe; the loops' threads return
}

}  // namespace rsp::net
