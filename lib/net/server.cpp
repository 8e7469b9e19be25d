#include "rsp/net/server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "rsp/common/socket_io.hpp"
#include "server_stream.hpp"
#include "tls_internal.hpp"

namespace rsp::net {
namespace {

using Millis = std::chrono::milliseconds;

/// How much of an unwanted body is read and dropped after an early answer,
/// so the client is not reset before it reads that answer.
constexpr std::size_t kDrainBytes = 1024 * 1024;
constexpr Millis kDrainTime{2000};

std::string short_reason(int status) {
  std::string r(reason_phrase(status));
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

/// A header that would break the framing (CR, LF) is never written.
bool header_is_safe(const std::string& name, const std::string& value) {
  return !name.empty() && name.find_first_of("\r\n:") == std::string::npos &&
         value.find_first_of("\r\n") == std::string::npos;
}

void set_timeout(int fd, int option, std::chrono::seconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count());
  ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

std::string address_text(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, buf, sizeof buf);
  } else if (a.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, buf, sizeof buf);
  }
  return buf;
}

}  // namespace

struct HttpServer::Impl {
  // Declared first so it outlives the SSL_CTX that points at it.
  detail::ServerTlsState tls_state;
  SSL_CTX* ctx = nullptr;
  int listen_fd = -1;
  int stop_fd = -1;  ///< an eventfd, readable once stop() began
  /// An eventfd (semaphore) counting connections that were queued while no
  /// worker was free: an idle keep-alive connection takes one token and
  /// closes, so its worker serves the waiting one.
  int backlog_fd = -1;
  int idle_workers = 0;  ///< waiting for a connection (under queue_mu)
  std::thread acceptor;
  std::vector<std::thread> workers;

  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::deque<std::pair<int, std::string>> queue;  ///< accepted sockets and their peer address
  std::atomic<bool> stopping{false};

  std::map<std::string, std::map<std::string, Handler>> routes;  // path -> method -> handler
  bool started = false;
  bool stopped = false;
  std::mutex stop_mu;

  CounterFamily* requests = nullptr;
  HistogramFamily* latency = nullptr;
  CounterFamily* exceptions = nullptr;
  CounterFamily* accepted = nullptr;
  CounterFamily* tls_failures = nullptr;
  GaugeFamily* active = nullptr;

  ~Impl() {
    for (auto& [fd, remote] : queue) ::close(fd);
    if (listen_fd >= 0) ::close(listen_fd);
    if (stop_fd >= 0) ::close(stop_fd);
    if (backlog_fd >= 0) ::close(backlog_fd);
    SSL_CTX_free(ctx);
  }

  /// True when this idle connection should make way for a queued one.
  bool take_backlog_token() {
    std::uint64_t token = 0;
    if (::read(backlog_fd, &token, sizeof token) != sizeof token) return false;  // another worker took it
    std::lock_guard lock(queue_mu);
    return !queue.empty();
  }

  void count(const std::string& method, const std::string& path, int status) {
    const std::string route = routes.count(path) ? path : std::string("other");
    requests->inc({{"method", !method.empty() && method.size() <= 7 ? method : std::string("other")},
                   {"route", route},
                   {"status", std::to_string(status)}});
  }
};

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  metrics_ = options_.metrics ? options_.metrics : std::make_shared<Metrics>();
  auto& m = *metrics_;
  impl_->requests = &m.counter("rsp_http_requests_total", "HTTP requests answered, by method, route and status.");
  impl_->latency =
      &m.histogram("rsp_http_request_duration_seconds", "Time spent in request handlers, by method and route.");
  impl_->exceptions = &m.counter("rsp_http_handler_exceptions_total", "Handler exceptions answered with 500.");
  impl_->accepted = &m.counter("rsp_http_connections_accepted_total", "TCP connections accepted.");
  impl_->active = &m.gauge("rsp_http_connections_active", "Connections being served.");
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
void HttpServer::get(const std::string& path, Handler handler) {
  if (!impl_->started) impl_->routes[path]["GET"] = std::move(handler);
}
void HttpServer::post(const std::string& path, Handler handler) {
  if (!impl_->started) impl_->routes[path]["POST"] = std::move(handler);
}

bool HttpServer::running() const { return impl_->started && !impl_->stopped; }

std::string HttpServer::url() const {
  std::string host = options_.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(tls() ? "https://" : "http://") + host + ":" + std::to_string(port_);
}

NetResult<void> HttpServer::start() {
  ignore_sigpipe();  // its sends use MSG_NOSIGNAL; this covers any write(2) of the libraries below
  if (impl_->started) return net_error(NetError::Kind::InvalidArgument, "server already started");
  if (!options_.tls && !options_.insecure_plain_http)
    return net_error(NetError::Kind::InvalidArgument, "no TLS configuration (plain HTTP must be asked for explicitly)");
  if (options_.max_body_bytes == 0 || options_.keep_alive_max_requests == 0)
    return net_error(NetError::Kind::InvalidArgument, "body limit and keep-alive request count must be positive");
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
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return net_error(NetError::Kind::Bind, "cannot listen on " + where);
  impl_->listen_fd = fd;
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                            : reinterpret_cast<sockaddr_in&>(bound).sin_port);
  impl_->stop_fd = ::eventfd(0, EFD_CLOEXEC);
  impl_->backlog_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
  if (impl_->stop_fd < 0 || impl_->backlog_fd < 0)
    return net_error(NetError::Kind::Bind, "cannot create the server's events");

  impl_->started = true;
  for (std::size_t i = 0; i < std::max<std::size_t>(options_.worker_threads, 1); ++i)
    impl_->workers.emplace_back([this] { work(); });
  impl_->acceptor = std::thread([this] { accept_loop(); });
  return {};
}

void HttpServer::accept_loop() {
  ::pthread_setname_np(::pthread_self(), "rsp-http-accept");
  pollfd fds[2] = {{impl_->listen_fd, POLLIN, 0}, {impl_->stop_fd, POLLIN, 0}};
  for (;;) {
    const int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (fds[1].revents & POLLIN)) return;
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    const int fd = ::accept4(impl_->listen_fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors or a connection already gone: try again later.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        std::this_thread::sleep_for(Millis(10));
      continue;
    }
    ++accepted_;
    impl_->accepted->inc();
    bool saturated = false;
    {
      std::lock_guard lock(impl_->queue_mu);
      impl_->queue.emplace_back(fd, address_text(peer));
      saturated = impl_->idle_workers == 0;
    }
    impl_->queue_cv.notify_one();
    if (saturated) {
      const std::uint64_t one = 1;
      [[maybe_unused]] const auto w = ::write(impl_->backlog_fd, &one, sizeof one);
    }
  }
}

void HttpServer::work() {
  ::pthread_setname_np(::pthread_self(), "rsp-http");
  for (;;) {
    std::pair<int, std::string> next;
    {
      std::unique_lock lock(impl_->queue_mu);
      ++impl_->idle_workers;
      impl_->queue_cv.wait(lock, [this] { return impl_->stopping || !impl_->queue.empty(); });
      --impl_->idle_workers;
      if (impl_->queue.empty()) return;
      next = std::move(impl_->queue.front());
      impl_->queue.pop_front();
    }
    if (impl_->stopping) {  // accepted but not started when the stop came
      ::close(next.first);
      continue;
    }
    impl_->active->add({}, 1);
    serve_connection(next.first, next.second);
    impl_->active->add({}, -1);
  }
}

void HttpServer::serve_connection(int fd, const std::string& remote) {
  Impl& impl = *impl_;
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  set_timeout(fd, SO_RCVTIMEO, options_.read_timeout);
  set_timeout(fd, SO_SNDTIMEO, options_.write_timeout);

  std::unique_ptr<detail::ServerStream> stream;
  if (impl.ctx) {
    std::string failure;
    stream = detail::tls_stream(fd, impl.ctx, options_.read_timeout, failure);
    if (!stream) {
      impl.tls_failures->inc({});
      if (options_.on_tls_failure) options_.on_tls_failure(remote, failure);
      return;
    }
  } else {
    stream = detail::plain_stream(fd);
  }
  const std::string tls_version = stream->tls_version();
  const auto client_certificate = stream->peer_certificate();

  HeadLimits limits;
  limits.max_body_bytes = options_.max_body_bytes;
  std::string in;  // received, not yet parsed (may hold the start of the next request)
  char buf[16384];
  auto read_more = [&]() {
    const long n = stream->read(buf, sizeof buf);
    if (n <= 0) return false;
    in.append(buf, static_cast<std::size_t>(n));
    return true;
  };
  // Writes a response; `close` ends the connection after it, draining what
  // the client may still send so that it gets to read the answer.
  auto respond = [&](const std::string& method, const Response& r, bool close, bool drain) {
    std::string out;
    out.reserve(256 + r.body.size());
    out += "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(reason_phrase(r.status)) + "\r\n";
    for (const auto& [k, v] : options_.default_headers)
      if (header_is_safe(k, v) && !find_header(r.headers, k)) out += k + ": " + v + "\r\n";
    for (const auto& [k, v] : r.headers)
      if (header_is_safe(k, v)) out += k + ": " + v + "\r\n";
    const bool no_content = r.status == 204 || r.status == 304 || r.status < 200;
    if (!no_content) {
      if (!r.content_type.empty() && header_is_safe("Content-Type", r.content_type))
        out += "Content-Type: " + r.content_type + "\r\n";
      out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    }
    out += close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
    if (!no_content && method != "HEAD") out += r.body;
    const bool sent = stream->write(out);
    if (close && sent) {
      stream->finish();
      if (drain) stream->drain(kDrainBytes, kDrainTime);
    }
    return sent;
  };
  auto refuse = [&](const std::string& method, const std::string& path, int status, std::string_view reason,
                    Headers headers = {}) {
    impl.count(method, path, status);
    respond(method, Response{status, "text/plain; charset=utf-8", std::move(headers), std::string(reason)}, true, true);
  };

  for (std::size_t served = 0;;) {
    // The head: wait for it (idle keep-alive connections end here on a stop).
    HeadParse parsed;
    for (;;) {
      parsed = parse_request_head(in, limits);
      if (parsed.status != HeadParse::Status::Incomplete) break;
      if (in.empty()) {
        // Between requests a connection is idle: it ends on a stop, at the
        // keep-alive timeout, or to make way for a connection waiting for a worker.
        const bool between = served > 0;
        const auto idle = Millis(between ? options_.keep_alive_timeout : options_.read_timeout);
        auto w = stream->wait_readable(idle, impl.stop_fd, between ? impl.backlog_fd : -1);
        while (w == detail::ServerStream::Wait::Other) {
          if (impl.take_backlog_token()) return;
          w = stream->wait_readable(idle, impl.stop_fd, impl.backlog_fd);
        }
        if (w != detail::ServerStream::Wait::Readable) return;
      }
      if (!read_more()) return;
    }
    if (parsed.status == HeadParse::Status::Error) {
      refuse(parsed.head.method, parsed.head.path, parsed.error.status, short_reason(parsed.error.status));
      return;
    }
    in.erase(0, parsed.consumed);
    RequestHead& head = parsed.head;

    // Route before the body is read: nothing unwanted is buffered.
    const std::string route_method = head.method == "HEAD" ? std::string("GET") : head.method;
    const auto route = impl.routes.find(head.path);
    const Handler* handler = nullptr;
    if (route != impl.routes.end()) {
      const auto m = route->second.find(route_method);
      if (m != route->second.end()) handler = &m->second;
    }
    if (!handler) {
      Headers extra;
      int status = 404;
      if (route != impl.routes.end()) {
        status = 405;
        std::string allow;
        for (const auto& [m, h] : route->second) allow += (allow.empty() ? "" : ", ") + m;
        extra.emplace_back("Allow", allow);
      }
      const bool has_body = head.chunked || head.content_length.value_or(0) > 0;
      impl.count(head.method, head.path, status);
      // A body that follows is not read: the connection cannot be reused.
      if (!respond(head.method, Response{status, "text/plain; charset=utf-8", std::move(extra), short_reason(status)},
                   has_body || !head.keep_alive, has_body) ||
          has_body || !head.keep_alive)
        return;
      ++served;
      continue;
    }

    // The body.
    if (head.expect_continue && (head.chunked || head.content_length.value_or(0) > 0)) {
      if (!stream->write("HTTP/1.1 100 Continue\r\n\r\n")) return;
    }
    std::string body;
    if (head.chunked) {
      ChunkedDecoder decoder(options_.max_body_bytes);
      for (;;) {
        const auto step = decoder.feed(in, body);
        in.erase(0, step.consumed);
        if (step.status == ChunkedDecoder::Status::Done) break;
        if (step.status == ChunkedDecoder::Status::Error) {
          std::string().swap(body);
          refuse(head.method, head.path, step.error.status, short_reason(step.error.status));
          return;
        }
        if (!read_more()) return;
      }
    } else if (head.content_length) {
      const auto length = static_cast<std::size_t>(*head.content_length);
      while (in.size() < length)
        if (!read_more()) return;
      body.assign(in, 0, length);
      in.erase(0, length);
    }

    Request request;
    request.method = std::move(head.method);
    request.path = std::move(head.path);
    request.headers = std::move(head.headers);
    request.body = std::move(body);
    request.remote_address = remote;
    request.tls_version = tls_version;
    request.client_certificate = client_certificate;
    const auto start = std::chrono::steady_clock::now();
    Response response;
    try {
      response = (*handler)(request);
    } catch (...) {
      impl.exceptions->inc({{"route", request.path}});
      response = Response{500, "text/plain; charset=utf-8", {}, short_reason(500)};
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    impl.latency->observe({{"method", route_method}, {"route", request.path}}, took.count());
    impl.count(request.method, request.path, response.status);
    ++served;
    const bool keep = head.keep_alive && served < options_.keep_alive_max_requests && !impl.stopping;
    if (!respond(request.method, response, !keep, false) || !keep) return;
  }
}

void HttpServer::stop() {
  std::lock_guard lock(impl_->stop_mu);
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  // The event wakes the acceptor and every idle connection; requests in
  // flight finish and are answered with "Connection: close".
  impl_->stopping = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto w = ::write(impl_->stop_fd, &one, sizeof one);
  if (impl_->acceptor.joinable()) impl_->acceptor.join();
  ::close(impl_->listen_fd);
  impl_->listen_fd = -1;
  impl_->queue_cv.notify_all();
  for (auto& t : impl_->workers) t.join();
  impl_->workers.clear();
}

}  // namespace rsp::net
