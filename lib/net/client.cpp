#include "client_impl.hpp"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <map>
#include <mutex>

#include "rsp/common/socket_io.hpp"
#include "rsp/net/http1.hpp"
#include "tls_internal.hpp"

namespace rsp::net {

using namespace client_detail;

namespace {

NetResult<ParsedUrl> parse_url(const std::string& url) {
  ParsedUrl out;
  std::string_view rest = url;
  if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
    out.port = 443;
  } else if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
    out.https = false;
    out.port = 80;
  } else {
    return net_error(NetError::Kind::InvalidArgument, "URL must start with https:// or http://: " + url);
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) out.prefix = std::string(rest.substr(slash));
  while (!out.prefix.empty() && out.prefix.back() == '/') out.prefix.pop_back();
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return net_error(NetError::Kind::InvalidArgument, "bad IPv6 address in " + url);
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return net_error(NetError::Kind::InvalidArgument, "bad authority in " + url);
      port_text = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return net_error(NetError::Kind::InvalidArgument, "no host in " + url);
  if (!port_text.empty()) {
    int p = 0;
    auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() || p <= 0 || p > 65535)
      return net_error(NetError::Kind::InvalidArgument, "bad port in " + url);
    out.port = p;
  }
  return out;
}

}  // namespace

namespace client_detail {

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return host.find(':') != std::string::npos ? inet_pton(AF_INET6, host.c_str(), buf) == 1
                                             : inet_pton(AF_INET, host.c_str(), buf) == 1;
}

}  // namespace client_detail

namespace {

int verify_callback(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (!ssl) return preverify_ok;
  auto* impl = static_cast<HttpsClient::Impl*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (!impl) return preverify_ok;
  const int depth = X509_STORE_CTX_get_error_depth(store);
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  if (depth == 0 && cert) {
    const int n = i2d_X509(cert, nullptr);
    if (n > 0) {
      impl->peer_cert.resize(static_cast<std::size_t>(n));
      unsigned char* p = impl->peer_cert.data();
      i2d_X509(cert, &p);
    }
  }
  if (!preverify_ok && impl->verify_error == X509_V_OK) {
    impl->verify_error = X509_STORE_CTX_get_error(store);
    impl->verify_depth = depth;
    if (cert) {
      char buf[256];
      X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
      impl->verify_subject = buf;
    }
  }
  return preverify_ok;
}

/// PSK-TLS, client side: the identity and key of the client whose connection
/// this is (the SSL's app data: the context is shared, see shared_psk_context).
unsigned int psk_client_callback(SSL* ssl, const char*, char* identity, unsigned int max_identity_len,
                                 unsigned char* psk, unsigned int max_psk_len) {
  const auto* impl = static_cast<const HttpsClient::Impl*>(SSL_get_ex_data(ssl, 0));
  if (!impl || !impl->options.psk) return 0;
  const auto& config = *impl->options.psk;
  if (config.key.empty() || config.key.size() > max_psk_len || config.identity.size() + 1 > max_identity_len) return 0;
  std::memcpy(identity, config.identity.c_str(), config.identity.size() + 1);
  std::memcpy(psk, config.key.data(), config.key.size());
  return static_cast<unsigned int>(config.key.size());
}

/// PSK-TLS (SCP81, GP Amendment B §3.2): TLS 1.2 only, PSK suites, no
/// certificate to verify. One context per cipher list for the whole process,
/// shared by every PSK client (a simulated fleet has a client per device):
/// OpenSSL 3 makes a context at the cost of several handshakes, and nothing
/// in it is a client's own (the identity and key come per connection).
/// The caller owns one reference.
NetResult<SSL_CTX*> shared_psk_context(const PskClientConfig& psk) {
  if (psk.key.empty() || psk.key.size() > PSK_MAX_PSK_LEN || psk.identity.empty() ||
      psk.identity.size() > PSK_MAX_IDENTITY_LEN)
    return net_error(NetError::Kind::InvalidArgument, "PSK or PSK identity length out of range");
  static std::mutex mu;
  static auto* contexts = new std::map<std::string, SSL_CTX*>();  // for the process's life
  std::lock_guard lock(mu);
  if (auto it = contexts->find(psk.ciphers); it != contexts->end()) {
    SSL_CTX_up_ref(it->second);
    return it->second;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return net_error(NetError::Kind::Tls, "cannot create the TLS context");
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, psk.ciphers.c_str()) != 1) {
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return net_error(NetError::Kind::InvalidArgument, "invalid PSK cipher list '" + psk.ciphers + "'");
  }
  SSL_CTX_set_psk_client_callback(ctx, psk_client_callback);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  // No session tickets: each session is a new handshake (as a card's BIP
  // channel), so a ticket the server made would never be used.
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  // Records read in as few reads as the socket gives them (a flight of the
  // handshake, a response), not a read for each record's header and one for
  // its body.
  SSL_CTX_set_read_ahead(ctx, 1);
  contexts->emplace(psk.ciphers, ctx);
  SSL_CTX_up_ref(ctx);
  return ctx;
}

}  // namespace

HttpsClient::HttpsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpsClient::~HttpsClient() {
  if (impl_ && impl_->client) impl_->client->stop();
}


void HttpsClient::cancel() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->cancel_mu);
    impl_->cancelled = true;
    if (impl_->socket_dup >= 0) ::shutdown(impl_->socket_dup, SHUT_RDWR);
    if (impl_->conn_cancel_fd >= 0) ::shutdown(impl_->conn_cancel_fd, SHUT_RDWR);
  }
  if (impl_->client) impl_->client->stop();
}

void HttpsClient::close() {
  if (!impl_) return;
  std::lock_guard lock(impl_->mu);  // not in the middle of a request
  if (impl_->client) impl_->client->stop();
  impl_->close_conn(true);
}

NetResult<std::unique_ptr<HttpsClient>> HttpsClient::create(HttpsClientOptions options) {
  ignore_sigpipe();  // a reset server must not end the process (SSL_write and SSL_shutdown use write(2))
  auto impl = std::make_unique<Impl>();
  RSP_TRY(impl->url, parse_url(options.base_url));
  impl->server_name = options.server_name.empty() ? impl->url.host : options.server_name;
  const std::string& host = impl->server_name;
  Impl* raw = impl.get();

  if (impl->url.https && options.psk) {
    // Its own connection (conn_request), on the process's shared context.
    RSP_TRY(impl->conn_ctx, shared_psk_context(*options.psk));
    impl->options = std::move(options);
    return std::unique_ptr<HttpsClient>(new HttpsClient(std::move(impl)));
  } else if (impl->url.https) {
    if (options.trust_anchors.empty() && options.verify_server)
      return net_error(NetError::Kind::InvalidArgument, "https needs at least one trust anchor (CI certificate)");
    if (options.min_version > options.max_version)
      return net_error(NetError::Kind::InvalidArgument, "minimum TLS version above the maximum");
    std::unique_ptr<httplib::SSLClient> ssl_client;
    SSL_CTX* ctx = nullptr;
    if (options.own_connection) {
      // This client's own context (freed with it), set up below as httplib's is.
      ctx = impl->conn_ctx = SSL_CTX_new(TLS_client_method());
      if (ctx) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
        SSL_CTX_set_read_ahead(ctx, 1);
      }
    } else {
      ssl_client = std::make_unique<httplib::SSLClient>(host, impl->url.port);
      ctx = ssl_client->ssl_context();
    }
    if (!ctx) return net_error(NetError::Kind::Tls, "cannot create the TLS context");
    X509_STORE* store = detail::root_store(options.trust_anchors);
    if (!store) return net_error(NetError::Kind::Credentials, "a trust anchor is not a DER certificate");
    SSL_CTX_set_cert_store(ctx, store);  // takes ownership
    if (SSL_CTX_set_min_proto_version(ctx, detail::to_openssl_version(options.min_version)) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, detail::to_openssl_version(options.max_version)) != 1)
      return net_error(NetError::Kind::Tls, "cannot set the TLS versions");
    if (!options.groups.empty() && SSL_CTX_set1_groups_list(ctx, options.groups.c_str()) != 1) {
      ERR_clear_error();
      return net_error(NetError::Kind::InvalidArgument, "invalid group list '" + options.groups + "'");
    }
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int ok = !options.verify_server ? 1
                   : is_ip_literal(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                         : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    if (ok != 1) {
      ERR_clear_error();
      return net_error(NetError::Kind::InvalidArgument, "invalid server name '" + host + "'");
    }
    // OpenSSL verifies chain and name during the handshake and aborts it on a
    // failure; httplib's own check (which would add the system store) is off.
    // Unverified (a lab switch): the chain is still looked at, never enforced.
    SSL_CTX_set_app_data(ctx, raw);
    SSL_CTX_set_verify(ctx, options.verify_server ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, verify_callback);
    impl->handshake_offer = "groups offered: " + (options.groups.empty() ? std::string("OpenSSL's defaults")
                                                                           : options.groups);
    if (options.verify_server) {
      std::string anchors;
      for (const auto& a : options.trust_anchors) anchors += (anchors.empty() ? "" : ", ") + certificate_label(a);
      impl->handshake_offer += "; trust anchors: " + anchors;
    } else {
      impl->handshake_offer += "; server certificate not verified";
    }
    if (options.identity) {
      const auto& id = *options.identity->impl();
      if (SSL_CTX_use_cert_and_key(ctx, id.leaf, id.key, id.extra, 1) != 1) {
        ERR_clear_error();
        return net_error(NetError::Kind::Credentials, "cannot use the client certificate " + id.subject);
      }
    }
    if (options.own_connection) {
      impl->options = std::move(options);
      return std::unique_ptr<HttpsClient>(new HttpsClient(std::move(impl)));
    }
    ssl_client->enable_server_certificate_verification(false);
    impl->client = std::move(ssl_client);
  } else {
    impl->client = std::make_unique<httplib::ClientImpl>(host, impl->url.port);
  }
  auto& cli = *impl->client;
  if (!options.connect_to.empty()) cli.set_hostname_addr_map({{host, options.connect_to}});
  cli.set_keep_alive(options.keep_alive);
  cli.set_connection_timeout(whole_seconds(options.connect_timeout), rest_usec(options.connect_timeout));
  cli.set_read_timeout(whole_seconds(options.read_timeout), rest_usec(options.read_timeout));
  cli.set_write_timeout(whole_seconds(options.write_timeout), rest_usec(options.write_timeout));
  cli.set_follow_location(false);
  cli.set_socket_options([raw](socket_t sock) {
    ++raw->connections;
    int one = 1;
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(raw->cancel_mu);
    if (raw->socket_dup >= 0) ::close(raw->socket_dup);
    raw->socket_dup = ::fcntl(sock, F_DUPFD_CLOEXEC, 0);
    if (raw->cancelled && raw->socket_dup >= 0) ::shutdown(raw->socket_dup, SHUT_RDWR);
  });
  impl->options = std::move(options);
  return std::unique_ptr<HttpsClient>(new HttpsClient(std::move(impl)));
}

NetResult<HttpResponse> HttpsClient::request(const std::string& method, const std::string& path,
                                             const std::string& body, const std::string& content_type,
                                             const Headers& headers) {
  std::lock_guard lock(impl_->mu);
  auto& impl = *impl_;
  if (impl.conn_ctx) {
    {
      std::lock_guard cancel_lock(impl.cancel_mu);
      impl.cancelled = false;
    }
    impl.verify_error = X509_V_OK;
    impl.verify_subject.clear();
    ERR_clear_error();
    return conn_request(impl, method, path, body, content_type, headers);
  }
  httplib::Request req;
  req.method = method;
  req.path = impl.url.prefix + path;
  for (const auto& [k, v] : headers) req.headers.emplace(k, v);
  if (!req.has_header("User-Agent")) req.headers.emplace("User-Agent", impl.options.user_agent);
  if (!content_type.empty() || !body.empty()) {
    req.body = body;
    req.headers.emplace("Content-Type", content_type.empty() ? std::string("application/octet-stream") : content_type);
  }
  {
    std::lock_guard cancel_lock(impl.cancel_mu);
    impl.cancelled = false;
  }
  impl.verify_error = X509_V_OK;
  impl.verify_subject.clear();
  ERR_clear_error();  // what the queue holds after a failure is this request's
  const auto started = std::chrono::steady_clock::now();
  auto result = impl.client->send(req);
  if (!result) {
    const auto err = result.error();
    const std::string where = impl.url.host + ":" + std::to_string(impl.url.port);
    if (impl.verify_error != X509_V_OK && impl.options.verify_server) {
      ERR_clear_error();
      return net_error(NetError::Kind::TlsVerification,
                       "server certificate of " + where + " not accepted: " +
                           X509_verify_cert_error_string(impl.verify_error) + " (depth " +
                           std::to_string(impl.verify_depth) + ", " + impl.verify_subject + "); " +
                           impl.handshake_offer);
    }
    const std::string reason = detail::openssl_errors();
    switch (err) {
      case httplib::Error::Connection:
        return net_error(NetError::Kind::Connect, "cannot connect to " + where);
      case httplib::Error::ConnectionTimeout:
        return net_error(NetError::Kind::Timeout, "connection to " + where + " timed out");
      case httplib::Error::SSLConnection:
      case httplib::Error::SSLLoadingCerts:
      case httplib::Error::SSLServerVerification:
        return net_error(NetError::Kind::Tls, "TLS handshake with " + where + " failed: " +
                                                  (reason.empty() ? std::string("no reason from OpenSSL") : reason) +
                                                  (impl.handshake_offer.empty() ? "" : "; " + impl.handshake_offer));
      case httplib::Error::Read:
        if (std::chrono::steady_clock::now() - started >= impl.options.read_timeout)
          return net_error(NetError::Kind::Timeout, "no response from " + where + " within the read timeout");
        return net_error(NetError::Kind::Transport, "no complete response from " + where + " (closed or timed out)");
      case httplib::Error::Write:
        return net_error(NetError::Kind::Transport, "cannot send the request to " + where);
      default:
        return net_error(NetError::Kind::Transport, "request to " + where + " failed: " + httplib::to_string(err));
    }
  }
  HttpResponse out;
  out.status = result->status;
  for (const auto& [k, v] : result->headers) out.headers.emplace_back(k, v);
  out.body = std::move(result->body);
  return out;
}

namespace {

NetResult<HttpResponse> require_2xx(NetResult<HttpResponse> r, const std::string& path) {
  if (!r) return r;
  if (r->status < 200 || r->status > 299) {
    std::string snippet = r->body.substr(0, 200);
    for (char& c : snippet)
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return net_error(NetError::Kind::HttpStatus, "HTTP " + std::to_string(r->status) + " from " + path +
                                                     (snippet.empty() ? "" : ": " + snippet),
                     r->status);
  }
  return r;
}

}  // namespace

NetResult<HttpResponse> HttpsClient::post(const std::string& path, const std::string& body,
                                          const std::string& content_type, const Headers& headers) {
  return require_2xx(request("POST", path, body, content_type, headers), path);
}

NetResult<HttpResponse> HttpsClient::get(const std::string& path, const Headers& headers) {
  return require_2xx(request("GET", path, {}, {}, headers), path);
}

std::uint64_t HttpsClient::connections_opened() const { return impl_->connections.load(); }

Bytes HttpsClient::last_server_certificate() const {
  std::lock_guard lock(impl_->mu);
  return impl_->peer_cert;
}

}  // namespace rsp::net
