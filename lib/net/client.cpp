#include "rsp/net/client.hpp"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <fcntl.h>
#include <netdb.h>
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

  /// PSK-TLS (SCP81) and own_connection mode: its own connection over
  /// OpenSSL on a blocking socket instead of httplib's (own_* below): the
  /// request in one TLS record, the response read in blocks and parsed once,
  /// no poll before each read. Under mu. own_ctx: the process's shared PSK
  /// context, or this client's own certificate context.
  SSL_CTX* own_ctx = nullptr;
  SSL* own_ssl = nullptr;
  int own_fd = -1;
  std::string own_in;  ///< bytes read and not yet used

  ~Impl() {
    close_own(true);
    if (own_ctx) SSL_CTX_free(own_ctx);
    if (socket_dup >= 0) ::close(socket_dup);
    if (options.psk) wipe(options.psk->key);
  }
  /// Ends the own connection, with close_notify when `graceful`.
  void close_own(bool graceful) {
    if (own_ssl) {
      if (graceful) (void)SSL_shutdown(own_ssl);
      SSL_free(own_ssl);
      own_ssl = nullptr;
      ERR_clear_error();
    }
    if (own_fd >= 0) ::close(own_fd);
    own_fd = -1;
    own_in.clear();
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

/// Where the own connection goes: the URL's host or connect_to, resolved now.
NetResult<int> own_connect_socket(HttpsClient::Impl& impl, const std::string& where) {
  const std::string& host = impl.options.connect_to.empty() ? impl.url.host : impl.options.connect_to;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (is_ip_literal(host)) hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(impl.url.port).c_str(), &hints, &found) != 0 || !found)
    return net_error(NetError::Kind::Connect, "cannot connect to " + where + " (name not resolved)");
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(found, ::freeaddrinfo);
  bool timed_out = false;
  for (const addrinfo* a = found; a; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int r = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      const int ms = static_cast<int>(std::min<std::int64_t>(impl.options.connect_timeout.count(), INT32_MAX));
      do r = ::poll(&p, 1, ms);
      while (r < 0 && errno == EINTR);
      int err = 0;
      socklen_t len = sizeof err;
      if (r == 0) timed_out = true;
      r = (r == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) ? 0 : -1;
    }
    if (r != 0) {
      ::close(fd);
      continue;
    }
    // Blocking from here, each read and write bounded by its timeout.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const auto set_timeout = [fd](int option, std::chrono::milliseconds d) {
      timeval tv{whole_seconds(d), static_cast<suseconds_t>(rest_usec(d))};
      ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
    };
    set_timeout(SO_RCVTIMEO, impl.options.read_timeout);
    set_timeout(SO_SNDTIMEO, impl.options.write_timeout);
    return fd;
  }
  if (timed_out) return net_error(NetError::Kind::Timeout, "connection to " + where + " timed out");
  return net_error(NetError::Kind::Connect, "cannot connect to " + where);
}

/// Connects and runs the TLS handshake, PSK or certificate (impl.mu held).
NetResult<void> own_open(HttpsClient::Impl& impl, const std::string& where) {
  RSP_TRY(impl.own_fd, own_connect_socket(impl, where));
  ++impl.connections;
  {
    // As httplib's socket hook does: a duplicate for cancel().
    std::lock_guard lock(impl.cancel_mu);
    if (impl.socket_dup >= 0) ::close(impl.socket_dup);
    impl.socket_dup = ::fcntl(impl.own_fd, F_DUPFD_CLOEXEC, 0);
    if (impl.cancelled && impl.socket_dup >= 0) ::shutdown(impl.socket_dup, SHUT_RDWR);
  }
  impl.own_ssl = SSL_new(impl.own_ctx);
  if (!impl.own_ssl || SSL_set_fd(impl.own_ssl, impl.own_fd) != 1 || SSL_set_ex_data(impl.own_ssl, 0, &impl) != 1) {
    impl.close_own(false);
    return net_error(NetError::Kind::Tls, "TLS handshake with " + where + " failed: cannot create the TLS session");
  }
  if (!is_ip_literal(impl.server_name))  // SNI (SSL_set_tlsext_host_name without its C cast)
    SSL_ctrl(impl.own_ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(impl.server_name.c_str()));
  if (SSL_connect(impl.own_ssl) != 1) {
    const std::string reason = detail::openssl_errors();
    impl.close_own(false);
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
bool own_idle_and_open(HttpsClient::Impl& impl) {
  if (!impl.own_ssl || !impl.own_in.empty() || SSL_pending(impl.own_ssl) > 0) return false;
  pollfd p{impl.own_fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

/// More bytes of the response into impl.own_in; the error says why not.
NetResult<void> own_read_more(HttpsClient::Impl& impl, const std::string& where,
                              std::chrono::steady_clock::time_point started) {
  char buf[16384];
  const int n = SSL_read(impl.own_ssl, buf, sizeof buf);
  if (n > 0) {
    impl.own_in.append(buf, static_cast<std::size_t>(n));
    return {};
  }
  const int e = SSL_get_error(impl.own_ssl, n);
  const bool timeout = (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_WANT_READ) && (errno == EAGAIN || errno == EWOULDBLOCK);
  ERR_clear_error();
  if (timeout || std::chrono::steady_clock::now() - started >= impl.options.read_timeout)
    return net_error(NetError::Kind::Timeout, "no response from " + where + " within the read timeout");
  return net_error(NetError::Kind::Transport, "no complete response from " + where + " (closed or timed out)");
}

/// One request on the own connection, opened first when there is none
/// (impl.mu held). The connection is closed after a failure, and after the
/// response when either side does not keep it alive.
NetResult<HttpResponse> own_request(HttpsClient::Impl& impl, const std::string& method, const std::string& path,
                                    const std::string& body, const std::string& content_type, const Headers& headers) {
  const std::string where = impl.url.host + ":" + std::to_string(impl.url.port);
  if (impl.own_ssl && !own_idle_and_open(impl)) impl.close_own(false);
  if (!impl.own_ssl) RSP_TRY_VOID(own_open(impl, where));

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
  if (out.size() > INT32_MAX || SSL_write(impl.own_ssl, out.data(), static_cast<int>(out.size())) <= 0) {
    ERR_clear_error();
    impl.close_own(false);
    return net_error(NetError::Kind::Transport, "cannot send the request to " + where);
  }

  const auto started = std::chrono::steady_clock::now();
  HeadLimits limits;
  limits.max_body_bytes = 64 * 1024 * 1024;
  ResponseHeadParse parsed;
  for (;;) {
    parsed = parse_response_head(impl.own_in, limits);
    if (parsed.status == ResponseHeadParse::Status::Complete && parsed.head.status >= 100 && parsed.head.status < 200) {
      impl.own_in.erase(0, parsed.consumed);  // an interim response: the final one follows
      continue;
    }
    if (parsed.status != ResponseHeadParse::Status::Incomplete) break;
    if (auto more = own_read_more(impl, where, started); !more) {
      impl.close_own(false);
      return unexpected(more.error());
    }
  }
  if (parsed.status == ResponseHeadParse::Status::Error) {
    impl.close_own(false);
    return net_error(NetError::Kind::Transport, "malformed response from " + where + ": " + parsed.error);
  }
  impl.own_in.erase(0, parsed.consumed);
  HttpResponse response;
  response.status = parsed.head.status;
  response.headers = std::move(parsed.head.headers);
  bool keep = parsed.head.keep_alive && impl.options.keep_alive;
  const bool no_body = method == "HEAD" || response.status == 204 || response.status == 304;
  if (no_body) {
  } else if (parsed.head.chunked) {
    ChunkedDecoder decoder(limits.max_body_bytes);
    for (;;) {
      const auto step = decoder.feed(impl.own_in, response.body);
      impl.own_in.erase(0, step.consumed);
      if (step.status == ChunkedDecoder::Status::Done) break;
      if (step.status == ChunkedDecoder::Status::Error) {
        impl.close_own(false);
        return net_error(NetError::Kind::Transport, "malformed chunked response from " + where + ": " +
                                                        step.error.reason);
      }
      if (auto more = own_read_more(impl, where, started); !more) {
        impl.close_own(false);
        return unexpected(more.error());
      }
    }
  } else if (parsed.head.content_length) {
    const auto length = static_cast<std::size_t>(*parsed.head.content_length);
    while (impl.own_in.size() < length) {
      if (auto more = own_read_more(impl, where, started); !more) {
        impl.close_own(false);
        return unexpected(more.error());
      }
    }
    response.body = impl.own_in.substr(0, length);
    impl.own_in.erase(0, length);
  } else {
    // No framing: the body runs to the end of the connection.
    keep = false;
    for (;;) {
      char buf[16384];
      const int n = SSL_read(impl.own_ssl, buf, sizeof buf);
      if (n <= 0) break;
      impl.own_in.append(buf, static_cast<std::size_t>(n));
      if (impl.own_in.size() > limits.max_body_bytes) {
        impl.close_own(false);
        return net_error(NetError::Kind::Transport, "response from " + where + " too large");
      }
    }
    ERR_clear_error();
    response.body = std::move(impl.own_in);
    impl.own_in.clear();
  }
  // Bytes past the response were never asked for: the connection is not reused.
  if (!keep || !impl.own_in.empty()) impl.close_own(keep);
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
  impl_->close_own(true);
}

NetResult<std::unique_ptr<HttpsClient>> HttpsClient::create(HttpsClientOptions options) {
  ignore_sigpipe();  // a reset server must not end the process (SSL_write and SSL_shutdown use write(2))
  auto impl = std::make_unique<Impl>();
  RSP_TRY(impl->url, parse_url(options.base_url));
  impl->server_name = options.server_name.empty() ? impl->url.host : options.server_name;
  const std::string& host = impl->server_name;
  Impl* raw = impl.get();

  if (impl->url.https && options.psk) {
    // Its own connection (own_request), on the process's shared context.
    RSP_TRY(impl->own_ctx, shared_psk_context(*options.psk));
    impl->options = std::move(options);
    return std::unique_ptr<HttpsClient>(new HttpsClient(std::move(impl)));
  } else if (impl->url.https) {
    if (options.trust_anchors.empty() && options.verify_server)
      return net_error(NetError::Kind::InvalidArgument, "https needs at least one trust anchor (CI certificate)");
    if (options.min_version > options.max_version)
      return net_error(NetError::Kind::InvalidArgument, "minimum TLS version above the maximum");
    // own_connection: a context of the client's own (own_request); else httplib's.
    std::unique_ptr<httplib::SSLClient> ssl_client;
    SSL_CTX* ctx = nullptr;
    if (options.own_connection) {
      impl->own_ctx = ctx = SSL_CTX_new(TLS_client_method());
      if (ctx) SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
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
    if (!ssl_client) {
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
  if (impl.own_ctx) {
    {
      std::lock_guard cancel_lock(impl.cancel_mu);
      impl.cancelled = false;
    }
    impl.verify_error = X509_V_OK;
    impl.verify_subject.clear();
    ERR_clear_error();
    return own_request(impl, method, path, body, content_type, headers);
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
