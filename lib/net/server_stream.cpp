#include "server_stream.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "rsp/common/socket_io.hpp"
#include "tls_internal.hpp"

namespace rsp::net::detail {

ServerStream::Wait ServerStream::wait_readable(std::chrono::milliseconds timeout, int stop_fd, int other_fd) const {
  if (buffered()) return Wait::Readable;
  // A negative descriptor is ignored by poll().
  pollfd fds[3] = {{fd_, POLLIN, 0}, {stop_fd, POLLIN, 0}, {other_fd, POLLIN, 0}};
  for (;;) {
    const int n = ::poll(fds, 3, static_cast<int>(timeout.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Wait::Timeout;
    if (fds[1].revents & POLLIN) return Wait::Stop;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) return Wait::Readable;
    if (fds[2].revents & POLLIN) return Wait::Other;
    return Wait::Timeout;
  }
}

void ServerStream::drain(std::size_t budget, std::chrono::milliseconds time) {
  const auto deadline = std::chrono::steady_clock::now() + time;
  char buf[16384];
  while (budget > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || wait_readable(left) != Wait::Readable) return;
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return;
    budget -= std::min(budget, static_cast<std::size_t>(n));
  }
}

namespace {

/// recv() that retries on EINTR; < 0 on error or timeout (SO_RCVTIMEO).
long recv_some(int fd, char* buf, std::size_t n) {
  for (;;) {
    const ssize_t r = ::recv(fd, buf, n, 0);
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

class PlainStream final : public ServerStream {
 public:
  explicit PlainStream(int fd) : ServerStream(fd) {}
  ~PlainStream() override { ::close(fd_); }
  long read(char* buf, std::size_t n) override { return recv_some(fd_, buf, n); }
  bool write(std::string_view data) override { return send_all(fd_, data.data(), data.size()); }
  bool buffered() const override { return false; }
  void finish() override { ::shutdown(fd_, SHUT_WR); }
};

class TlsStream final : public ServerStream {
 public:
  TlsStream(int fd, SSL* ssl) : ServerStream(fd), ssl_(ssl) {
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    if (in && out) {
      // An empty memory BIO asks to retry rather than reporting the end of data.
      BIO_set_mem_eof_return(in, -1);
      SSL_set_bio(ssl_, in, out);
      in_ = in;
      out_ = out;
    } else {
      BIO_free(in);
      BIO_free(out);
    }
  }
  ~TlsStream() override {
    SSL_free(ssl_);
    ::close(fd_);
  }

  bool ready() const { return in_ != nullptr; }

  bool handshake(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      ERR_clear_error();
      const int r = SSL_accept(ssl_);
      if (!flush()) return false;
      if (r == 1) return true;
      if (SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ) return false;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || wait_readable(left) != Wait::Readable || fill() <= 0) return false;
    }
  }

  long read(char* buf, std::size_t n) override {
    for (;;) {
      ERR_clear_error();
      const int r = SSL_read(ssl_, buf, static_cast<int>(std::min<std::size_t>(n, 1 << 30)));
      if (r > 0) return r;
      const int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_ZERO_RETURN) return 0;
      if (e != SSL_ERROR_WANT_READ) return -1;
      // TLS 1.3 may have answered something (a key update) on the way.
      if (!flush()) return -1;
      const long got = fill();
      if (got <= 0) return got;
    }
  }

  bool write(std::string_view data) override {
    while (!data.empty()) {
      ERR_clear_error();
      const int chunk = static_cast<int>(std::min<std::size_t>(data.size(), 1 << 30));
      const int r = SSL_write(ssl_, data.data(), chunk);
      if (r <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(r));
    }
    return flush();
  }

  bool buffered() const override { return SSL_pending(ssl_) > 0 || (in_ && BIO_ctrl_pending(in_) > 0); }

  void finish() override {
    ERR_clear_error();
    SSL_shutdown(ssl_);
    flush();
    ::shutdown(fd_, SHUT_WR);
  }

  std::string tls_version() const override { return SSL_get_version(ssl_); }
  std::optional<PeerCertificate> peer_certificate() const override { return detail::peer_certificate(ssl_); }

  /// Why the handshake failed, in words an operator can act on.
  std::string failure_reason() const {
    const long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) return std::string("client certificate: ") + X509_verify_cert_error_string(verify);
    auto errors = openssl_errors();
    return errors.empty() ? std::string("connection closed or timed out during the handshake") : errors;
  }

 private:
  /// Moves what the socket has into OpenSSL's input: bytes read, 0 at EOF, < 0 on error.
  long fill() {
    char buf[16384 + 512];
    const long n = recv_some(fd_, buf, sizeof buf);
    if (n > 0 && BIO_write(in_, buf, static_cast<int>(n)) != n) return -1;
    return n;
  }
  /// Sends what OpenSSL has written, in one go.
  bool flush() {
    char* data = nullptr;
    const long size = BIO_get_mem_data(out_, &data);
    if (size <= 0) return true;
    const bool ok = send_all(fd_, data, static_cast<std::size_t>(size));
    (void)BIO_reset(out_);
    return ok;
  }

  SSL* ssl_;
  BIO* in_ = nullptr;   // owned by ssl_
  BIO* out_ = nullptr;  // owned by ssl_
};

}  // namespace

std::unique_ptr<ServerStream> plain_stream(int fd) { return std::make_unique<PlainStream>(fd); }

std::unique_ptr<ServerStream> tls_stream(int fd, SSL_CTX* ctx, std::chrono::milliseconds handshake_timeout,
                                         std::string& failure) {
  SSL* ssl = SSL_new(ctx);
  if (!ssl) {
    ::close(fd);
    failure = "out of memory";
    return nullptr;
  }
  auto stream = std::make_unique<TlsStream>(fd, ssl);
  if (!stream->ready() || !stream->handshake(handshake_timeout)) {
    failure = stream->failure_reason();
    ERR_clear_error();  // the reasons stay with this connection, not the thread's next user
    return nullptr;
  }
  return stream;
}

}  // namespace rsp::net::detail
