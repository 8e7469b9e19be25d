#include "rsp/net/client.hpp"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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

namespace {

struct ParsedUrl {
  bool https = true;
  std::string host;
  int port = 0;
  std::string prefix;  // path prefix without trailing '/'
};

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

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return host.find(':') != std::string::npos ? inet_pton(AF_INET6, host.c_str(), buf) == 1
                                             : inet_pton(AF_INET, host.c_str(), buf) == 1;
}

time_t whole_seconds(std::chrono::milliseconds d) { return static_cast<time_t>(d.count() / 1000); }
time_t rest_usec(std::chrono::milliseconds d) { return static_cast<time_t>((d.count() % 1000) * 1000); }

}  // namespace

struct HttpsClient::Impl {
  HttpsClientOptions options;
  ParsedUrl url;
  std::string server_name;
  std::unique_ptr<httplib::ClientImpl> client;
  std::mutex mu;  // one request at a time; guards the fields below
  std::atomic<std::uint64_t> connections{0};
  /// cancel(): a duplicate of the connection's socket (so that it cannot be
  /// another file by the time it is used) and whether the request in flight
  /// was cancelled. shutdown() on the duplicate ends reads and writes on the
  /// connection, wherever the library is blocked, the TLS handshake included.
  std::mutex cancel_mu;
  int socket_dup = -1;
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
    if (conn_fd >= 0) ::close(conn_fd);
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

namespace {

/// A connected socket to `a` (blocking, each read and write bounded by its
/// timeout; the connect by the connect timeout: Linux bounds a blocking
/// connect by the send timeout), or -1 with `timed_out` set when the connect
/// timed out.
int conn_connect_to(const HttpsClient::Impl& impl, const sockaddr* a, socklen_t len, bool& timed_out) {
  const int fd = ::socket(a->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const auto set_timeout = [fd](int option, std::chrono::milliseconds d) {
    timeval tv{whole_seconds(d), static_cast<suseconds_t>(rest_usec(d))};
    ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
  };
  set_timeout(SO_SNDTIMEO, impl.options.connect_timeout);
  int r;
  do r = ::connect(fd, a, len);
  while (r != 0 && errno == EINTR);  // Linux: the connect goes on; the next call reports its outcome
  if (r != 0 && errno == EISCONN) r = 0;
  if (r != 0) {
    if (errno == EINPROGRESS || errno == EALREADY) timed_out = true;  // the timeout ran out first
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (impl.options.write_timeout != impl.options.connect_timeout) set_timeout(SO_SNDTIMEO, impl.options.write_timeout);
  set_timeout(SO_RCVTIMEO, impl.options.read_timeout);
  return fd;
}

/// Where the PSK connection goes: the URL's host or connect_to; an IP
/// literal's address made once, a name resolved for each connection.
NetResult<int> conn_connect_socket(HttpsClient::Impl& impl, const std::string& where) {
  const std::string& host = impl.options.connect_to.empty() ? impl.url.host : impl.options.connect_to;
  bool timed_out = false;
  if (impl.conn_addr_len == 0 && is_ip_literal(host)) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&impl.conn_addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&impl.conn_addr);
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(static_cast<std::uint16_t>(impl.url.port));
      impl.conn_addr_len = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(static_cast<std::uint16_t>(impl.url.port));
      impl.conn_addr_len = sizeof(sockaddr_in6);
    }
  }
  if (impl.conn_addr_len != 0) {
    const int fd = conn_connect_to(impl, reinterpret_cast<const sockaddr*>(&impl.conn_addr), impl.conn_addr_len, timed_out);
    if (fd >= 0) return fd;
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), std::to_string(impl.url.port).c_str(), &hints, &found) != 0 || !found)
      return net_error(NetError::Kind::Connect, "cannot connect to " + where + " (name not resolved)");
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(found, ::freeaddrinfo);
    for (const addrinfo* a = found; a; a = a->ai_next) {
      const int fd = conn_connect_to(impl, a->ai_addr, a->ai_addrlen, timed_out);
      if (fd >= 0) return fd;
    }
  }
  if (timed_out) return net_error(NetError::Kind::Timeout, "connection to " + where + " timed out");
  return net_error(NetError::Kind::Connect, "cannot connect to " + where);
}

/// Connects and runs the TLS handshake, PSK or certificates (impl.mu held).
NetResult<void> conn_open(HttpsClient::Impl& impl, const std::string& where) {
  RSP_TRY(impl.conn_fd, conn_connect_socket(impl, where));
  ++impl.connections;
  {
    // As httplib's socket hook does: a duplicate for cancel().
    std::lock_guard lock(impl.cancel_mu);
    if (impl.socket_dup >= 0) ::close(impl.socket_dup);
    impl.socket_dup = ::fcntl(impl.conn_fd, F_DUPFD_CLOEXEC, 0);
    if (impl.cancelled && impl.socket_dup >= 0) ::shutdown(impl.socket_dup, SHUT_RDWR);
  }
  impl.conn_ssl = impl.conn_spare ? impl.conn_spare : SSL_new(impl.conn_ctx);
  impl.conn_spare = nullptr;
  if (!impl.conn_ssl || SSL_set_fd(impl.conn_ssl, impl.conn_fd) != 1 || SSL_set_ex_data(impl.conn_ssl, 0, &impl) != 1) {
    impl.close_conn(false);
    return net_error(NetError::Kind::Tls, "TLS handshake with " + where + " failed: cannot create the TLS session");
  }
  if (!is_ip_literal(impl.server_name))  // SNI (SSL_set_tlsext_host_name without its C cast)
    SSL_ctrl(impl.conn_ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(impl.server_name.c_str()));
  if (SSL_connect(impl.conn_ssl) != 1) {
    const std::string reason = detail::openssl_errors();
    impl.close_conn(false);
    if (impl.verify_error != X509_V_OK && impl.options.verify_server && !impl.options.psk)
      return net_error(NetError::Kind::TlsVerification,
                       "server certificate of " + where + " not accepted: " +
                           X509_verify_cert_error_string(impl.verify_error) + " (depth " +
                           std::to_string(impl.verify_depth) + ", " + impl.verify_subject + "); " +
                           impl.handshake_offer);
    return net_error(NetError::Kind::Tls, "TLS handshake with " + where + " failed: " +
                                              (reason.empty() ? std::string("no reason from OpenSSL") : reason) +
                                              (impl.handshake_offer.empty() ? "" : "; " + impl.handshake_offer));
  }
  return {};
}

/// Whether the kept-alive connection can take another request: nothing to
/// read on it (a readable idle connection was closed by the server).
bool conn_idle_and_open(HttpsClient::Impl& impl) {
  if (!impl.conn_ssl || !impl.conn_in.empty() || SSL_has_pending(impl.conn_ssl) == 1) return false;
  pollfd p{impl.conn_fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

/// More bytes of the response into impl.conn_in; the error says why not.
NetResult<void> conn_read_more(HttpsClient::Impl& impl, const std::string& where,
                              std::chrono::steady_clock::time_point started) {
  char buf[16384];
  const int n = SSL_read(impl.conn_ssl, buf, sizeof buf);
  if (n > 0) {
    impl.conn_in.append(buf, static_cast<std::size_t>(n));
    return {};
  }
  const int e = SSL_get_error(impl.conn_ssl, n);
  const bool timeout = (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_WANT_READ) && (errno == EAGAIN || errno == EWOULDBLOCK);
  ERR_clear_error();
  if (timeout || std::chrono::steady_clock::now() - started >= impl.options.read_timeout)
    return net_error(NetError::Kind::Timeout, "no response from " + where + " within the read timeout");
  return net_error(NetError::Kind::Transport, "no complete response from " + where + " (closed or timed out)");
}

/// One request on the own connection, opened first when there is none
/// (impl.mu held). The connection is closed after a failure, and after the
/// response when either side does not keep it alive.
NetResult<HttpResponse> conn_request(HttpsClient::Impl& impl, const std::string& method, const std::string& path,
                                    const std::string& body, const std::string& content_type, const Headers& headers) {
  const std::string where = impl.url.host + ":" + std::to_string(impl.url.port);
  if (impl.conn_ssl && !conn_idle_and_open(impl)) impl.close_conn(false);
  if (!impl.conn_ssl) RSP_TRY_VOID(conn_open(impl, where));

  std::string out;
  out.reserve(256 + body.size());
  out += method;
  out += ' ';
  out += impl.url.prefix;
  out += path;
  out += " HTTP/1.1\r\nHost: ";
  out += impl.server_name;
  if (impl.url.port != 443) out += ":" + std::to_string(impl.url.port);
  out += "\r\n";
  bool user_agent = false;
  for (const auto& [k, v] : headers) {
    user_agent = user_agent || iequals(k, "User-Agent");
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  if (!user_agent) out += "User-Agent: " + impl.options.user_agent + "\r\n";
  out += "Accept: */*\r\n";
  if (!content_type.empty() || !body.empty()) {
    out += "Content-Type: ";
    out += content_type.empty() ? std::string("application/octet-stream") : content_type;
    out += "\r\n";
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (!impl.options.keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  out += body;
  if (out.size() > INT32_MAX || SSL_write(impl.conn_ssl, out.data(), static_cast<int>(out.size())) <= 0) {
    ERR_clear_error();
    impl.close_conn(false);
    return net_error(NetError::Kind::Transport, "cannot send the request to " + where);
  }

  const auto started = std::chrono::steady_clock::now();
  HeadLimits limits;
  limits.max_body_bytes = 64 * 1024 * 1024;
  ResponseHeadParse parsed;
  for (;;) {
    parsed = parse_response_head(impl.conn_in, limits);
    if (parsed.status == ResponseHeadParse::Status::Complete && parsed.head.status >= 100 && parsed.head.status < 200) {
      impl.conn_in.erase(0, parsed.consumed);  // an interim response: the final one follows
      continue;
    }
    if (parsed.status != ResponseHeadParse::Status::Incomplete) break;
    if (auto more = conn_read_more(impl, where, started); !more) {
      impl.close_conn(false);
      return unexpected(more.error());
    }
  }
  if (parsed.status == ResponseHeadParse::Status::Error) {
    impl.close_conn(false);
    return net_error(NetError::Kind::Transport, "malformed response from " + where + ": " + parsed.error);
  }
  impl.conn_in.erase(0, parsed.consumed);
  HttpResponse response;
  response.status = parsed.head.status;
  response.headers = std::move(parsed.head.headers);
  bool keep = parsed.head.keep_alive && impl.options.keep_alive;
  const bool no_body = method == "HEAD" || response.status == 204 || response.status == 304;
  if (no_body) {
  } else if (parsed.head.chunked) {
    ChunkedDecoder decoder(limits.max_body_bytes);
    for (;;) {
      const auto step = decoder.feed(impl.conn_in, response.body);
      impl.conn_in.erase(0, step.consumed);
      if (step.status == ChunkedDecoder::Status::Done) break;
      if (step.status == ChunkedDecoder::Status::Error) {
        impl.close_conn(false);
        return net_error(NetError::Kind::Transport, "malformed chunked response from " + where + ": " +
                                                        step.error.reason);
      }
      if (auto more = conn_read_more(impl, where, started); !more) {
        impl.close_conn(false);
        return unexpected(more.error());
      }
    }
  } else if (parsed.head.content_length) {
    const auto length = static_cast<std::size_t>(*parsed.head.content_length);
    while (impl.conn_in.size() < length) {
      if (auto more = conn_read_more(impl, where, started); !more) {
        impl.close_conn(false);
        return unexpected(more.error());
      }
    }
    response.body = impl.conn_in.substr(0, length);
    impl.conn_in.erase(0, length);
  } else {
    // No framing: the body runs to the end of the connection.
    keep = false;
    for (;;) {
      char buf[16384];
      const int n = SSL_read(impl.conn_ssl, buf, sizeof buf);
      if (n <= 0) break;
      impl.conn_in.append(buf, static_cast<std::size_t>(n));
      if (impl.conn_in.size() > limits.max_body_bytes) {
        impl.close_conn(false);
        return net_error(NetError::Kind::Transport, "response from " + where + " too large");
      }
    }
    ERR_clear_error();
    response.body = std::move(impl.conn_in);
    impl.conn_in.clear();
  }
  // Bytes past the response were never asked for: the connection is not reused.
  if (!keep || !impl.conn_in.empty()) impl.close_conn(keep);
  return response;
}

}  // namespace

void HttpsClient::cancel() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->cancel_mu);
    impl_->cancelled = true;
    if (impl_->socket_dup >= 0) ::shutdown(impl_->socket_dup, SHUT_RDWR);
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
