#pragma once
// A hostile peer for end-to-end tests: a TLS server on 127.0.0.1 that
// completes the handshake, reads what the client sends and then resets the
// connection (SO_LINGER 0: an RST instead of a FIN, no TLS close_notify).
// Any later write of the client, its TLS close_notify included, then meets a
// reset socket: the case that raises SIGPIPE in a process that has not
// ignored it.

#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

namespace rsp::e2e {

class ResettingTlsServer {
 public:
  ~ResettingTlsServer() { stop(); }

  /// Listens on an ephemeral port with the certificate and key (PEM); 0 on failure.
  int start(const std::filesystem::path& cert, const std::filesystem::path& key) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (!ctx_ || SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1)
      return 0;
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return 0;
    thread_ = std::thread([this] { serve(); });
    return ntohs(a.sin_port);
  }

  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (ctx_) SSL_CTX_free(ctx_);
    ctx_ = nullptr;
  }

  /// Connections that got as far as sending data before being reset.
  int resets() const { return resets_.load(); }

 private:
  void serve() {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      timeval tv{5, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, c);
      if (SSL_accept(ssl) == 1) {
        char buf[16384];
        if (SSL_read(ssl, buf, sizeof buf) > 0) ++resets_;
      }
      ERR_clear_error();
      linger l{1, 0};
      ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      SSL_free(ssl);  // no SSL_shutdown: nothing is sent before the reset
      ::close(c);
    }
  }

  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> resets_{0};
  std::thread thread_;
};

}  // namespace rsp::e2e
