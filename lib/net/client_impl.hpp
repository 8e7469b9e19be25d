#pragma once
// What the HTTPS client's two files share (client.cpp: creation, cpp-httplib;
// client_connection.cpp: the client's own connection): HttpsClient::Impl and
// small helpers. Private to lib/net.

#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>

#include "rsp/net/client.hpp"

namespace rsp::net {

namespace client_detail {

struct ParsedUrl {
  bool https = true;
  std::string host;
  int port = 0;
  std::string prefix;  // path prefix without trailing '/'
};

bool is_ip_literal(const std::string& host);
inline time_t whole_seconds(std::chrono::milliseconds d) { return static_cast<time_t>(d.count() / 1000); }
inline time_t rest_usec(std::chrono::milliseconds d) { return static_cast<time_t>((d.count() % 1000) * 1000); }

}  // namespace client_detail

struct HttpsClient::Impl {
  HttpsClientOptions options;
  client_detail::ParsedUrl url;
  std::string server_name;
  std::unique_ptr<httplib::ClientImpl> client;
  std::mutex mu;  // one request at a time; guards the fields below
  std::atomic<std::uint64_t> connections{0};
  /// cancel(): a duplicate of the connection's socket (so that it cannot be
  /// another file by the time it is used) and whether the request in flight
  /// was cancelled. shutdown() on the duplicate ends reads and writes on the
  /// connection, wherever the library is blocked, the TLS handshake included.
  /// The own connection (conn_* below) needs no duplicate: its socket is
  /// published here (conn_cancel_fd) and withdrawn under cancel_mu before it
  /// is closed, so cancel() never reaches a reused descriptor; two syscalls
  /// fewer per connection than a duplicate (a device opens one per session).
  std::mutex cancel_mu;
  int socket_dup = -1;
  int conn_cancel_fd = -1;
  bool cancelled = false;

  /// PSK-TLS (SCP81) mode, and certificates with `own_connection`: its own
  /// connection over OpenSSL on a blocking socket instead of httplib's
  /// (conn_* below): the request in one TLS record, the response read in
  /// blocks and parsed once, no poll before each read. Under mu. PSK: the
  /// process's shared context (one reference); certificates: this client's.
  SSL_CTX* conn_ctx = nullptr;
  SSL* conn_ssl = nullptr;
  /// The TLS object of the last connection, reset (SSL_clear) for the next
  /// one instead of a new one per connection (a device opens a connection
  /// per administration session).
  SSL* conn_spare = nullptr;
  int conn_fd = -1;
  std::string conn_in;  ///< bytes read and not yet used
  /// The server's address when the host is an IP literal, made once (no
  /// resolver call per connection); family AF_UNSPEC: not made yet.
  sockaddr_storage conn_addr{};
  socklen_t conn_addr_len = 0;

  ~Impl() {
    close_conn(true);
    if (conn_spare) SSL_free(conn_spare);
    if (conn_ctx) SSL_CTX_free(conn_ctx);
    if (socket_dup >= 0) ::close(socket_dup);
    if (options.psk) wipe(options.psk->key);
  }
  /// Ends the own connection, with close_notify when `graceful`.
  void close_conn(bool graceful) {
    if (conn_ssl) {
      if (graceful) (void)SSL_shutdown(conn_ssl);
      // Reset now (its session and keys freed, the session cleansed), kept
      // for the next connection; freed when it cannot be reset.
      if (!conn_spare && SSL_clear(conn_ssl) == 1) conn_spare = conn_ssl;
      else SSL_free(conn_ssl);
      conn_ssl = nullptr;
      ERR_clear_error();
    }
    if (conn_fd >= 0) {
      {
        std::lock_guard lock(cancel_mu);
        conn_cancel_fd = -1;
      }
      ::close(conn_fd);
    }
    conn_fd = -1;
    conn_in.clear();
  }
  /// For the message of a failed handshake: "groups offered ...; trust anchors ...".
  std::string handshake_offer;
  int verify_error = X509_V_OK;
  int verify_depth = 0;
  std::string verify_subject;
  Bytes peer_cert;
};

namespace client_detail {

/// One request on the own connection, opened first when there is none
/// (impl.mu held). The connection is closed after a failure, and after the
/// response when either side does not keep it alive.
NetResult<HttpResponse> conn_request(HttpsClient::Impl& impl, const std::string& method, const std::string& path,
                                     const std::string& body, const std::string& content_type, const Headers& headers);

}  // namespace client_detail

}  // namespace rsp::net
