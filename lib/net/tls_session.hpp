#pragma once
// The TLS side of one accepted connection, without any I/O (library-internal):
// bytes received from the socket go in, ciphertext to send comes out, both
// through OpenSSL memory BIOs. The event loop that owns the socket moves the
// bytes, so no OpenSSL call ever blocks and SIGPIPE cannot be raised.

#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rsp/net/tls.hpp"

namespace rsp::net::detail {

class TlsSession {
 public:
  /// nullptr when OpenSSL cannot allocate the session.
  static std::unique_ptr<TlsSession> create(SSL_CTX* ctx);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  /// Hands bytes read from the socket to OpenSSL; false when it cannot take them.
  bool feed(std::string_view received);

  enum class Step { NeedMore, Done, Failed };
  /// Advances the handshake with what was fed so far.
  Step handshake();
  /// Appends the plaintext available so far to `out`; Failed on a protocol
  /// error, Done once the peer sent close_notify, NeedMore otherwise.
  Step read(std::string& out);
  /// Encrypts `plain` into the output; false on error.
  bool write(std::string_view plain);
  /// Queues close_notify.
  void close_notify();
  /// Ciphertext waiting to be sent (handshake messages, records, alerts),
  /// appended to `out`; the session's output is then empty.
  void take_output(std::string& out);

  /// "TLSv1.3", "TLSv1.2".
  std::string version() const;
  /// The verified client certificate (mutual TLS), if the client sent one.
  std::optional<PeerCertificate> peer_certificate() const;
  /// The PSK identity the client used (PSK-TLS), empty otherwise.
  std::string psk_identity() const;
  /// Why the handshake failed, in words an operator can act on (OpenSSL's
  /// error names or the certificate verification error; never key material).
  std::string failure_reason() const;

 private:
  explicit TlsSession(SSL* ssl, BIO* in, BIO* out) : ssl_(ssl), in_(in), out_(out) {}
  SSL* ssl_;
  BIO* in_;   // owned by ssl_
  BIO* out_;  // owned by ssl_
  std::string failure_;
};

}  // namespace rsp::net::detail
