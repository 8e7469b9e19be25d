#pragma once
/// An HTTPS client for the LPA side (ES9+, ES11): keep-alive connection to one
/// base URL, server certificate verified by OpenSSL against the given trust
/// anchors only (the GSMA CI certificates, SGP.22 §2.6.6; no system store),
/// including the host name. Plain http:// only for lab use. A failed
/// handshake says in its message which groups were offered, which trust
/// anchors were checked (subject and SKI) and OpenSSL's reason.
///
/// Like curl --resolve, `connect_to` lets a test reach 127.0.0.1 while the
/// certificate is still checked for the URL's host name.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "rsp/common/bytes.hpp"
#include "rsp/net/error.hpp"
#include "rsp/net/server.hpp"
#include "rsp/net/tls.hpp"

namespace rsp::net {

struct HttpsClientOptions {
  /// "https://host[:port][/prefix]" or "http://..." (port 443 / 80 by default).
  std::string base_url;
  /// Host or IP to connect to instead of the URL's host (empty: the URL's).
  std::string connect_to;
  /// Name the server certificate must carry (empty: the URL's host).
  std::string server_name;
  /// Trusted root certificates, DER (see load_certificates()).
  std::vector<Bytes> trust_anchors;
  /// false: the server certificate is not checked at all, neither chain nor
  /// name (a lab switch: `rsp lpa --insecure`); trust anchors may be empty.
  bool verify_server = true;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  TlsVersion min_version = TlsVersion::Tls12;
  TlsVersion max_version = TlsVersion::Tls13;
  /// Groups offered (OpenSSL list syntax); empty: OpenSSL's defaults.
  std::string groups;
  /// Mutual TLS: the certificate and key this client presents when the server
  /// asks for one (ES2+ operators, SGP.22 §2.6.6).
  std::optional<TlsIdentity> identity;
  /// PSK-TLS (SCP81): TLS 1.2 with this identity and key instead of a server
  /// certificate; trust anchors and `identity` are then not used. In this
  /// mode the client runs its own connection (a blocking socket, each read
  /// and write bounded by its timeout; the request in one TLS record, the
  /// response head parsed by parse_response_head) and sends no session
  /// ticket extension; `groups` does not apply.
  std::optional<PskClientConfig> psk;
  /// https with a certificate: the client runs its own connection as in PSK
  /// mode (above; the server certificate checked as without it) instead of
  /// cpp-httplib's, which reads a response head a byte at a time: for a
  /// client that sends many small requests on one kept connection (the
  /// SM-SR's MNO callbacks). Plain http:// stays on cpp-httplib.
  bool own_connection = false;
  bool keep_alive = true;
  std::string user_agent = "rsp-lpa/0.1";
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;
  std::optional<std::string> header(std::string_view name) const { return find_header(headers, name); }
};

class HttpsClient {
 public:
  static NetResult<std::unique_ptr<HttpsClient>> create(HttpsClientOptions options);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  /// Sends one request; any HTTP status is a response.
  NetResult<HttpResponse> request(const std::string& method, const std::string& path, const std::string& body = {},
                                  const std::string& content_type = {}, const Headers& headers = {});
  /// POST expecting a 2xx status; another status is a Kind::HttpStatus error.
  NetResult<HttpResponse> post(const std::string& path, const std::string& body,
                               const std::string& content_type = "application/json", const Headers& headers = {});
  /// GET expecting a 2xx status.
  NetResult<HttpResponse> get(const std::string& path, const Headers& headers = {});

  /// Ends the request in flight, from any thread: its socket is shut down and
  /// request() returns an error. For an overall deadline, which the per-read
  /// timeouts cannot give against a peer that answers a byte at a time.
  void cancel();

  /// Closes the kept-alive connection, if any; the next request opens a new
  /// one (with a new TLS handshake) on the same configuration. Waits for a
  /// request in flight on another thread to end first.
  void close();

  /// TCP connections opened so far (keep-alive keeps this at 1).
  std::uint64_t connections_opened() const;
  /// DER of the server certificate seen in the last handshake.
  Bytes last_server_certificate() const;

  struct Impl;

 private:
  explicit HttpsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rsp::net
