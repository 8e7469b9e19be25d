#pragma once
// OpenSSL plumbing shared by the server and the client (library-internal).

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <optional>
#include <string>
#include <vector>

#include "rsp/net/metrics.hpp"
#include "rsp/net/tls.hpp"

namespace rsp::net {

struct TlsIdentity::Impl {
  X509* leaf = nullptr;
  STACK_OF(X509)* extra = nullptr;  // intermediates, may be empty
  EVP_PKEY* key = nullptr;
  std::vector<Bytes> der;
  std::string subject;
  std::string curve;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl();
};

namespace detail {

int to_openssl_version(TlsVersion v);

/// What the certificate callback and the info callback of a server context
/// need; owned by the server, outliving its SSL_CTX.
struct ServerTlsState {
  std::vector<TlsIdentity> identities;
  PskLookup psk_lookup;  ///< PSK-TLS
  CounterFamily* handshakes = nullptr;
};

/// Applies versions, suites, groups, the default identity and (with several
/// identities) the per-handshake certificate selection. False with a reason.
bool configure_server_ctx(SSL_CTX* ctx, ServerTlsState& state, const TlsServerConfig& config, std::string& error);

/// A store of the DER certificates `roots`, for SSL_CTX_set_cert_store (which
/// takes it); nullptr when one is not a DER certificate. With `names`, each
/// root's subject is pushed there too (the CA list a server sends).
X509_STORE* root_store(const std::vector<Bytes>& roots, STACK_OF(X509_NAME)* names = nullptr);

/// The client certificate a finished handshake verified (mutual TLS).
std::optional<PeerCertificate> peer_certificate(SSL* ssl);

/// The identity a handshake should use (index into identities).
std::size_t select_identity(SSL* ssl, const std::vector<TlsIdentity>& identities);

/// Drains OpenSSL's error queue into one line (no key material is ever in it).
std::string openssl_errors();

}  // namespace detail
}  // namespace rsp::net
