#pragma once
// The byte stream of one accepted connection, plain TCP or TLS over it
// (library-internal). Sockets are blocking with SO_RCVTIMEO/SO_SNDTIMEO set,
// so every call is bounded; waiting for a request uses poll() with a stop
// descriptor, so a graceful stop wakes idle connections at once.
//
// TLS runs over memory BIOs: the stream moves bytes between the socket and
// OpenSSL itself, so a whole response (all its records) leaves in one send()
// and SIGPIPE can never be raised (MSG_NOSIGNAL).

#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rsp/net/tls.hpp"

namespace rsp::net::detail {

class ServerStream {
 public:
  virtual ~ServerStream() = default;
  /// > 0: bytes read; 0: the peer ended the stream; < 0: error or timeout.
  virtual long read(char* buf, std::size_t n) = 0;
  /// Sends all of `data`; false when the connection broke or timed out.
  virtual bool write(std::string_view data) = 0;
  /// Received bytes not yet returned by read() (a poll would not see them).
  virtual bool buffered() const = 0;
  /// Ends the stream orderly (TLS close_notify, then FIN).
  virtual void finish() = 0;
  /// The TLS version ("TLSv1.3"), empty for plain TCP.
  virtual std::string tls_version() const { return {}; }
  /// The verified client certificate (mutual TLS), if the client sent one.
  virtual std::optional<PeerCertificate> peer_certificate() const { return std::nullopt; }

  enum class Wait { Readable, Timeout, Stop, Other };
  /// Waits until bytes can be read, the timeout passes, `stop_fd` becomes
  /// readable (Stop) or `other_fd` does (Other); -1 leaves one out.
  Wait wait_readable(std::chrono::milliseconds timeout, int stop_fd = -1, int other_fd = -1) const;
  /// After finish(): reads and drops what the peer still sends, for at most
  /// `budget` bytes and `time`, so that closing does not reset the
  /// connection before the peer has read our answer.
  void drain(std::size_t budget, std::chrono::milliseconds time);

  int fd() const { return fd_; }

 protected:
  explicit ServerStream(int fd) : fd_(fd) {}
  int fd_;
};

/// Takes ownership of `fd` (closed by the stream's destructor).
std::unique_ptr<ServerStream> plain_stream(int fd);
/// Runs the TLS handshake; nullptr when it fails (fd closed), with the reason in
/// `failure` (never key material: OpenSSL's error names or the certificate
/// verification error). `handshake_timeout` bounds the whole handshake.
std::unique_ptr<ServerStream> tls_stream(int fd, SSL_CTX* ctx, std::chrono::milliseconds handshake_timeout,
                                         std::string& failure);

}  // namespace rsp::net::detail
