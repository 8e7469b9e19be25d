#include "tls_session.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>

#include "tls_internal.hpp"

namespace rsp::net::detail {

std::unique_ptr<TlsSession> TlsSession::create(SSL_CTX* ctx) {
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (!ssl || !in || !out) {
    SSL_free(ssl);
    BIO_free(in);
    BIO_free(out);
    ERR_clear_error();
    return nullptr;
  }
  // An empty memory BIO asks to retry rather than reporting the end of data.
  BIO_set_mem_eof_return(in, -1);
  SSL_set_bio(ssl, in, out);
  SSL_set_accept_state(ssl);
  return std::unique_ptr<TlsSession>(new TlsSession(ssl, in, out));
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

bool TlsSession::feed(std::string_view received) {
  if (received.empty()) return true;
  return BIO_write(in_, received.data(), static_cast<int>(received.size())) == static_cast<int>(received.size());
}

TlsSession::Step TlsSession::handshake() {
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) return Step::Done;
  if (SSL_get_error(ssl_, r) == SSL_ERROR_WANT_READ) return Step::NeedMore;
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    failure_ = std::string("client certificate: ") + X509_verify_cert_error_string(verify);
  } else {
    failure_ = openssl_errors();
  }
  ERR_clear_error();  // the reasons stay with this connection
  return Step::Failed;
}

TlsSession::Step TlsSession::read(std::string& out) {
  char buf[16384];
  for (;;) {
    ERR_clear_error();
    const int r = SSL_read(ssl_, buf, sizeof buf);
    if (r > 0) {
      out.append(buf, static_cast<std::size_t>(r));
      continue;
    }
    const int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) return Step::NeedMore;
    ERR_clear_error();
    return e == SSL_ERROR_ZERO_RETURN ? Step::Done : Step::Failed;
  }
}

bool TlsSession::write(std::string_view plain) {
  while (!plain.empty()) {
    ERR_clear_error();
    const int chunk = static_cast<int>(std::min<std::size_t>(plain.size(), 1 << 30));
    const int r = SSL_write(ssl_, plain.data(), chunk);
    if (r <= 0) {
      ERR_clear_error();
      return false;
    }
    plain.remove_prefix(static_cast<std::size_t>(r));
  }
  return true;
}

void TlsSession::close_notify() {
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

void TlsSession::take_output(std::string& out) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(out_, &data);
  if (size <= 0) return;
  out.append(data, static_cast<std::size_t>(size));
  (void)BIO_reset(out_);
}

std::string TlsSession::version() const { return SSL_get_version(ssl_); }

std::optional<PeerCertificate> TlsSession::peer_certificate() const { return detail::peer_certificate(ssl_); }

std::string TlsSession::psk_identity() const {
  const char* id = SSL_get_psk_identity(ssl_);
  return id ? std::string(id) : std::string();
}

std::string TlsSession::failure_reason() const {
  return failure_.empty() ? std::string("connection closed or timed out during the handshake") : failure_;
}

}  // namespace rsp::net::detail
