#include "reference_transport.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <chrono>
#include <memory>

#include "rsp/common/socket_io.hpp"

namespace rsp::bench {
namespace {

using Millis = std::chrono::milliseconds;

void set_socket_timeout(int fd, int option, std::chrono::seconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count());
  ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

std::string peer_text(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, buf, sizeof buf);
  if (a.ss_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, buf, sizeof buf);
  return buf;
}

/// True when `fd` can be read before `timeout`, false on a timeout or when
/// `stop_fd` became readable first.
bool readable(int fd, Millis timeout, int stop_fd) {
  pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
  for (;;) {
    const int n = ::poll(fds, 2, static_cast<int>(timeout.count()));
    if (n < 0 && errno == EINTR) continue;
    return n > 0 && !(fds[1].revents & POLLIN) && (fds[0].revents & (POLLIN | POLLHUP | POLLERR));
  }
}

/// recv() retried after signals: > 0 bytes, 0 at the end, < 0 on an error or
/// the socket's receive timeout.
long receive(int fd, char* buf, std::size_t n) {
  for (;;) {
    const ssize_t r = ::recv(fd, buf, n, 0);
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

/// One connection's byte stream, blocking: plain TCP, or TLS with OpenSSL
/// between two memory BIOs so that all the records of an answer leave in one
/// send(), as the old server sent them.
class Stream {
 public:
  Stream(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~Stream() {
    SSL_free(ssl_);
    ::close(fd_);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  /// Runs the TLS handshake (no-op over plain TCP); false with `failure` set.
  bool handshake(Millis timeout, int stop_fd, std::string& failure) {
    if (!ssl_) return true;
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    if (!in || !out) {
      BIO_free(in);
      BIO_free(out);
      failure = "out of memory";
      return false;
    }
    BIO_set_mem_eof_return(in, -1);  // an empty input asks to retry
    SSL_set_bio(ssl_, in, out);
    in_ = in;
    out_ = out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      ERR_clear_error();
      const int r = SSL_accept(ssl_);
      if (!flush()) break;
      if (r == 1) return true;
      if (SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ) break;
      const auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !readable(fd_, left, stop_fd) || fill() <= 0) break;
    }
    const unsigned long e = ERR_get_error();
    failure = e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "TLS error"
                : "connection closed or timed out during the handshake";
    ERR_clear_error();
    return false;
  }

  /// Appends what arrives next to `in`; false at the end or on an error.
  bool read_more(std::string& in) {
    char buf[16384];
    if (!ssl_) {
      const long n = receive(fd_, buf, sizeof buf);
      if (n > 0) in.append(buf, static_cast<std::size_t>(n));
      return n > 0;
    }
    for (;;) {
      ERR_clear_error();
      const int r = SSL_read(ssl_, buf, sizeof buf);
      if (r > 0) {
        in.append(buf, static_cast<std::size_t>(r));
        return true;
      }
      if (SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ || !flush() || fill() <= 0) return false;
    }
  }

  /// True when bytes already received wait to be read (poll would not see them).
  bool buffered() const { return ssl_ && (SSL_pending(ssl_) > 0 || BIO_ctrl_pending(in_) > 0); }

  bool write(std::string_view data) {
    if (!ssl_) return send_all(fd_, data.data(), data.size());
    while (!data.empty()) {
      ERR_clear_error();
      const int r = SSL_write(ssl_, data.data(), static_cast<int>(std::min<std::size_t>(data.size(), 1 << 30)));
      if (r <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(r));
    }
    return flush();
  }

  /// close_notify, then FIN.
  void finish() {
    if (ssl_) {
      ERR_clear_error();
      SSL_shutdown(ssl_);
      flush();
      ERR_clear_error();
    }
    ::shutdown(fd_, SHUT_WR);
  }

  std::string tls_version() const { return ssl_ ? SSL_get_version(ssl_) : ""; }
  int fd() const { return fd_; }

 private:
  long fill() {
    char buf[16384 + 512];
    const long n = receive(fd_, buf, sizeof buf);
    if (n > 0 && BIO_write(in_, buf, static_cast<int>(n)) != n) return -1;
    return n;
  }
  bool flush() {
    char* data = nullptr;
    const long size = BIO_get_mem_data(out_, &data);
    if (size <= 0) return true;
    const bool ok = send_all(fd_, data, static_cast<std::size_t>(size));
    (void)BIO_reset(out_);
    return ok;
  }

  int fd_;
  SSL* ssl_;
  BIO* in_ = nullptr;   // owned by ssl_
  BIO* out_ = nullptr;  // owned by ssl_
};

}  // namespace

ThreadPerConnection::~ThreadPerConnection() { stop(); }

net::NetResult<void> ThreadPerConnection::start(int listen_fd, ssl_ctx_st* tls, const net::HttpServerOptions& options,
                                                net::ServerCore& core) {
  listen_fd_ = listen_fd;
  options_ = &options;
  core_ = &core;
  ctx_ = tls;
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return net::net_error(net::NetError::Kind::Bind, "cannot create the stop event");
  }
  for (std::size_t i = 0; i < std::max<std::size_t>(options.worker_threads, 1); ++i)
    workers_.emplace_back([this] { work(); });
  acceptor_ = std::thread([this] { accept_loop(); });
  return {};
}

void ThreadPerConnection::stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  if (stop_fd_ >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto w = ::write(stop_fd_, &one, sizeof one);
  }
  if (acceptor_.joinable()) acceptor_.join();
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  for (auto& [fd, peer] : queue_) ::close(fd);
  queue_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
  listen_fd_ = stop_fd_ = -1;
}

void ThreadPerConnection::accept_loop() {
  ::pthread_setname_np(::pthread_self(), "ref-http-accept");
  while (readable(listen_fd_, Millis(-1), stop_fd_)) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        std::this_thread::sleep_for(Millis(10));
      continue;
    }
    {
      std::lock_guard lock(mu_);
      queue_.emplace_back(fd, peer_text(peer));
    }
    cv_.notify_one();
  }
}

void ThreadPerConnection::work() {
  ::pthread_setname_np(::pthread_self(), "ref-http");
  for (;;) {
    std::pair<int, std::string> next;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_ || queue_.empty()) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    serve(next.first, next.second);
  }
}

/// One connection to its end: requests one after the other, each handler on
/// this thread.
void ThreadPerConnection::serve(int fd, const std::string& peer) {
  const auto& options = *options_;
  auto& core = *core_;
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  set_socket_timeout(fd, SO_RCVTIMEO, options.read_timeout);
  set_socket_timeout(fd, SO_SNDTIMEO, options.write_timeout);
  SSL* ssl = ctx_ ? SSL_new(ctx_) : nullptr;
  if (ctx_ && !ssl) {
    ::close(fd);
    return;
  }
  Stream stream(fd, ssl);
  std::string failure;
  if (!stream.handshake(options.tls_handshake_timeout, stop_fd_, failure)) return core.tls_failed(peer, failure);
  const std::string tls_version = stream.tls_version();

  net::HeadLimits limits;
  limits.max_body_bytes = options.max_body_bytes;
  std::string in;  // received, not yet parsed
  const auto respond = [&](const std::string& method, const net::Response& r, bool close) {
    const bool sent = stream.write(core.response_bytes(method, r, close));
    if (close && sent) stream.finish();
    return sent && !close;
  };
  for (std::size_t served = 0;;) {
    net::HeadParse parsed;
    for (;;) {
      parsed = net::parse_request_head(in, limits);
      if (parsed.status != net::HeadParse::Status::Incomplete) break;
      if (in.empty() && !stream.buffered()) {
        const auto idle = served > 0 ? Millis(options.keep_alive_timeout) : Millis(options.read_timeout);
        if (!readable(stream.fd(), idle, stop_fd_)) return;  // idle past its time, or a stop
      }
      if (!stream.read_more(in)) return;
    }
    if (parsed.status == net::HeadParse::Status::Error) {
      core.count(parsed.head.method, parsed.head.path, parsed.error.status);
      respond(parsed.head.method, net::Response{parsed.error.status, "text/plain", {}, parsed.error.reason}, true);
      return;
    }
    in.erase(0, parsed.consumed);
    net::RequestHead& head = parsed.head;
    net::Response refusal;
    const net::Handler* handler = core.route(head, peer, refusal);
    const bool has_body = head.chunked || head.content_length.value_or(0) > 0;
    if (!handler) {
      // The body is not read: the connection cannot be reused after it.
      if (!respond(head.method, refusal, has_body || !head.keep_alive)) return;
      ++served;
      continue;
    }
    if (head.expect_continue && has_body && !stream.write("HTTP/1.1 100 Continue\r\n\r\n")) return;
    std::string body;
    if (head.chunked) {
      net::ChunkedDecoder decoder(options.max_body_bytes);
      for (;;) {
        const auto step = decoder.feed(in, body);
        in.erase(0, step.consumed);
        if (step.status == net::ChunkedDecoder::Status::Done) break;
        if (step.status == net::ChunkedDecoder::Status::Error) {
          core.count(head.method, head.path, step.error.status);
          respond(head.method, net::Response{step.error.status, "text/plain", {}, step.error.reason}, true);
          return;
        }
        if (!stream.read_more(in)) return;
      }
    } else if (head.content_length) {
      const auto length = static_cast<std::size_t>(*head.content_length);
      while (in.size() < length)
        if (!stream.read_more(in)) return;
      body.assign(in, 0, length);
      in.erase(0, length);
    }
    net::Request request;
    request.method = std::move(head.method);
    request.path = std::move(head.path);
    request.headers = std::move(head.headers);
    request.body = std::move(body);
    request.remote_address = peer;
    request.tls_version = tls_version;
    const net::Response response = core.run(*handler, request);
    ++served;
    const bool keep = head.keep_alive && served < options.keep_alive_max_requests && !stopping_;
    if (!respond(request.method, response, !keep)) return;
  }
}

}  // namespace rsp::bench
