// The HTTPS client's own connection (PSK-TLS mode, and certificates with
// HttpsClientOptions::own_connection): a blocking socket under OpenSSL, the
// request in one TLS record, the response head parsed by parse_response_head.

#include "client_impl.hpp"

#include <openssl/err.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include "rsp/common/ascii.hpp"
#include "rsp/common/socket_io.hpp"
#include "rsp/net/http1.hpp"
#include "tls_internal.hpp"

namespace rsp::net::client_detail {

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
    // Reachable by cancel() until close_conn() withdraws it.
    std::lock_guard lock(impl.cancel_mu);
    impl.conn_cancel_fd = impl.conn_fd;
    if (impl.cancelled) ::shutdown(impl.conn_fd, SHUT_RDWR);
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

}  // namespace

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

}  // namespace rsp::net::client_detail
