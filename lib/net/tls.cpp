#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "rsp/common/file.hpp"
#include "tls_internal.hpp"

namespace rsp::net {

const char* kind_name(NetError::Kind kind) {
  switch (kind) {
    case NetError::Kind::InvalidArgument: return "invalid-argument";
    case NetError::Kind::Io: return "io";
    case NetError::Kind::Credentials: return "credentials";
    case NetError::Kind::Bind: return "bind";
    case NetError::Kind::Connect: return "connect";
    case NetError::Kind::Timeout: return "timeout";
    case NetError::Kind::Tls: return "tls";
    case NetError::Kind::TlsVerification: return "tls-verification";
    case NetError::Kind::Transport: return "transport";
    case NetError::Kind::HttpStatus: return "http-status";
  }
  return "unknown";
}

TlsIdentity::Impl::~Impl() {
  X509_free(leaf);
  sk_X509_pop_free(extra, X509_free);
  EVP_PKEY_free(key);
}

namespace detail {

std::string openssl_errors() {
  std::string out;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

int to_openssl_version(TlsVersion v) { return v == TlsVersion::Tls12 ? TLS1_2_VERSION : TLS1_3_VERSION; }

}  // namespace detail

namespace {

using UniqueBio = std::unique_ptr<BIO, decltype(&BIO_free)>;

UniqueBio mem_bio(ByteView data) {
  return UniqueBio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())), &BIO_free);
}

bool looks_like_pem(ByteView data) {
  const std::string_view marker = "-----BEGIN";
  return std::string_view(reinterpret_cast<const char*>(data.data()), data.size()).find(marker) !=
         std::string_view::npos;
}

// Never prompts for a pass phrase: encrypted keys are refused.
int no_password(char*, int, int, void*) { return -1; }

NetResult<std::vector<X509*>> parse_certs(ByteView data) {
  std::vector<X509*> out;
  auto fail = [&out](std::string msg) {
    for (auto* c : out) X509_free(c);
    ERR_clear_error();
    return net_error(NetError::Kind::Credentials, std::move(msg));
  };
  if (data.size() > 1024 * 1024) return fail("certificate data too large");
  if (looks_like_pem(data)) {
    auto bio = mem_bio(data);
    while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr)) out.push_back(c);
    ERR_clear_error();  // the end of the data is reported as an error
    if (out.empty()) return fail("no PEM certificate found");
  } else {
    const unsigned char* p = data.data();
    X509* c = d2i_X509(nullptr, &p, static_cast<long>(data.size()));
    if (!c) return fail("not a PEM or DER certificate");
    out.push_back(c);
  }
  return out;
}

Bytes to_der(X509* cert) {
  int n = i2d_X509(cert, nullptr);
  if (n <= 0) return {};
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d_X509(cert, &p);
  return out;
}

std::string one_line_name(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return {};
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string s(data, static_cast<std::size_t>(n > 0 ? n : 0));
  BIO_free(bio);
  return s;
}

std::string one_line_subject(X509* cert) { return one_line_name(X509_get_subject_name(cert)); }

}  // namespace

std::string certificate_subject(ByteView der) {
  const unsigned char* p = der.data();
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  ERR_clear_error();
  if (!cert) return {};
  auto s = one_line_subject(cert);
  X509_free(cert);
  return s;
}

Bytes certificate_subject_key_id(ByteView der) {
  const unsigned char* p = der.data();
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  ERR_clear_error();
  if (!cert) return {};
  Bytes out;
  if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert)) {
    const unsigned char* d = ASN1_STRING_get0_data(ski);
    out.assign(d, d + ASN1_STRING_length(ski));
  }
  ERR_clear_error();
  X509_free(cert);
  return out;
}

std::string certificate_label(ByteView der) {
  const Bytes ski = certificate_subject_key_id(der);
  std::string s = certificate_subject(der);
  if (s.empty()) s = "(not a certificate)";
  return ski.empty() ? s + " (no SKI)" : s + " (SKI " + to_hex(ski) + ")";
}

NetResult<std::vector<Bytes>> certificates_from_data(ByteView data) {
  RSP_TRY(auto certs, parse_certs(data));
  std::vector<Bytes> out;
  for (auto* c : certs) {
    out.push_back(to_der(c));
    X509_free(c);
  }
  return out;
}

NetResult<std::vector<Bytes>> load_certificates(const std::filesystem::path& file) {
  auto data = read_file(file);
  if (!data) return net_error(NetError::Kind::Io, "cannot read " + file.string() + ": " + data.error().message);
  auto certs = certificates_from_data(*data);
  if (!certs) return net_error(certs.error().kind, file.string() + ": " + certs.error().message);
  return certs;
}

NetResult<TlsIdentity> TlsIdentity::from_data(ByteView cert_data, ByteView key_data) {
  RSP_TRY(auto certs, parse_certs(cert_data));
  auto impl = std::make_shared<Impl>();
  impl->leaf = certs.front();
  impl->extra = sk_X509_new_null();
  for (std::size_t i = 1; i < certs.size(); ++i) sk_X509_push(impl->extra, certs[i]);
  for (auto* c : certs) impl->der.push_back(to_der(c));
  impl->subject = one_line_subject(impl->leaf);

  if (key_data.size() > 64 * 1024) return net_error(NetError::Kind::Credentials, "private key data too large");
  if (looks_like_pem(key_data)) {
    auto bio = mem_bio(key_data);
    impl->key = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr);
  } else {
    const unsigned char* p = key_data.data();
    impl->key = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(key_data.size()));
  }
  ERR_clear_error();
  if (!impl->key) return net_error(NetError::Kind::Credentials, "not a PEM or DER private key (or it is encrypted)");
  if (X509_check_private_key(impl->leaf, impl->key) != 1) {
    ERR_clear_error();
    return net_error(NetError::Kind::Credentials, "the private key does not belong to certificate " + impl->subject);
  }
  char group[80] = {0};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(impl->key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) == 1)
    impl->curve.assign(group, len);
  ERR_clear_error();
  TlsIdentity id;
  id.impl_ = std::move(impl);
  return id;
}

NetResult<TlsIdentity> TlsIdentity::load(const std::filesystem::path& cert_file, const std::filesystem::path& key_file) {
  auto cert = read_file(cert_file);
  if (!cert) return net_error(NetError::Kind::Io, "cannot read " + cert_file.string() + ": " + cert.error().message);
  auto key = read_file(key_file);
  if (!key) return net_error(NetError::Kind::Io, "cannot read " + key_file.string() + ": " + key.error().message);
  auto id = from_data(*cert, *key);
  wipe(*key);
  if (!id) return net_error(id.error().kind, cert_file.string() + " / " + key_file.string() + ": " + id.error().message);
  return id;
}

const std::vector<Bytes>& TlsIdentity::chain() const { return impl_->der; }
const std::string& TlsIdentity::subject() const { return impl_->subject; }
const std::string& TlsIdentity::curve() const { return impl_->curve; }
bool TlsIdentity::is_brainpool() const { return impl_->curve.rfind("brainpool", 0) == 0; }

bool brainpool_tls13_supported() { return OpenSSL_version_num() >= 0x30200000UL; }

namespace detail {
namespace {

bool client_offers_sigalg(SSL* ssl, unsigned code) {
  const int n = SSL_get_sigalgs(ssl, -1, nullptr, nullptr, nullptr, nullptr, nullptr);
  for (int i = 0; i < n; ++i) {
    unsigned char rsig = 0, rhash = 0;
    SSL_get_sigalgs(ssl, i, nullptr, nullptr, nullptr, &rsig, &rhash);
    if ((static_cast<unsigned>(rhash) << 8 | rsig) == code) return true;
  }
  return false;
}

bool client_offers_group(SSL* ssl, int nid) {
  const int n = static_cast<int>(SSL_get1_groups(ssl, nullptr));
  if (n <= 0 || n > 256) return false;
  std::vector<int> groups(static_cast<std::size_t>(n));
  SSL_get1_groups(ssl, groups.data());
  for (int g : groups)
    if (g == nid) return true;
  return false;
}

constexpr unsigned kEcdsaBrainpoolP256r1Tls13Sha256 = 0x081A;

int cert_callback(SSL* ssl, void* arg) {
  const auto* state = static_cast<const ServerTlsState*>(arg);
  const std::size_t i = select_identity(ssl, state->identities);
  const auto& impl = *state->identities[i].impl();
  if (SSL_use_cert_and_key(ssl, impl.leaf, impl.key, impl.extra, 1) != 1) {
    ERR_clear_error();
    return 0;
  }
  return 1;
}

void info_callback(const SSL* ssl, int where, int) {
  if ((where & SSL_CB_HANDSHAKE_DONE) == 0) return;
  auto* state = static_cast<ServerTlsState*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (state && state->handshakes) state->handshakes->inc({{"version", SSL_get_version(ssl)}});
}

/// PSK-TLS, server side: the key for the identity the client names.
unsigned int psk_server_callback(SSL* ssl, const char* identity, unsigned char* psk, unsigned int max_psk_len) {
  const auto* state = static_cast<const ServerTlsState*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (!state || !state->psk_lookup || !identity) return 0;
  std::optional<Bytes> key;
  try {
    key = state->psk_lookup(std::string_view(identity));
  } catch (...) {
    return 0;  // a lookup that failed refuses the identity
  }
  if (!key) return 0;
  unsigned int len = 0;
  if (!key->empty() && key->size() <= max_psk_len) {
    std::memcpy(psk, key->data(), key->size());
    len = static_cast<unsigned int>(key->size());
  }
  wipe(*key);
  return len;
}

/// A PSK-TLS session's ID (see configure_psk_server): unique in the process,
/// from a counter instead of the random generator; never sent nor looked up.
int counted_session_id(SSL*, unsigned char* id, unsigned int* id_len) {
  static std::atomic<std::uint64_t> next{0};
  const std::uint64_t n = ++next;
  const unsigned int len = std::min<unsigned int>(*id_len, sizeof n);
  std::memcpy(id, &n, len);
  *id_len = len;
  return 1;
}

/// PSK-TLS (SCP81, GP Amendment B §3.2): TLS 1.2 only, PSK suites, no certificate.
bool configure_psk_server(SSL_CTX* ctx, ServerTlsState& state, const TlsServerConfig& config, std::string& error) {
  if (!config.identities.empty()) {
    error = "PSK-TLS takes no certificate";
    return false;
  }
  if (!config.psk->lookup) {
    error = "PSK-TLS without a key lookup";
    return false;
  }
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, config.psk->ciphers.c_str()) != 1) {
    ERR_clear_error();
    error = "invalid PSK cipher list '" + config.psk->ciphers + "'";
    return false;
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_TICKET);
  // No resumption (no tickets, no session cache): a card's session is a full
  // PSK handshake, the cheap one (no public-key operation), and a card that
  // asks to resume gets one. Without the cache the ServerHello carries an
  // empty session ID, so the ID OpenSSL still gives each new session is never
  // sent nor looked up: a counter makes it, not the random generator (a
  // lock and a getpid per call in OpenSSL 3.0), and no session waits in a
  // cache of the context for its timeout.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_generate_session_id(ctx, counted_session_id);
  state.psk_lookup = config.psk->lookup;
  SSL_CTX_set_psk_server_callback(ctx, psk_server_callback);
  SSL_CTX_set_app_data(ctx, &state);
  SSL_CTX_set_info_callback(ctx, info_callback);
  return true;
}

}  // namespace

std::size_t select_identity(SSL* ssl, const std::vector<TlsIdentity>& ids) {
  bool want_brainpool = false;
  if (SSL_version(ssl) >= TLS1_3_VERSION) {
    want_brainpool = brainpool_tls13_supported() && client_offers_sigalg(ssl, kEcdsaBrainpoolP256r1Tls13Sha256);
  } else {
    want_brainpool = client_offers_group(ssl, NID_brainpoolP256r1);
  }
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (ids[i].is_brainpool() == want_brainpool) return i;
  return 0;
}

bool configure_server_ctx(SSL_CTX* ctx, ServerTlsState& state, const TlsServerConfig& config, std::string& error) {
  auto fail = [&error](const std::string& what) {
    error = what;
    const auto details = openssl_errors();
    if (!details.empty()) error += " (" + details + ")";
    return false;
  };
  if (config.psk) return configure_psk_server(ctx, state, config, error);
  if (config.identities.empty()) return fail("no TLS identity");
  if (config.min_version > config.max_version) return fail("minimum TLS version above the maximum");
  // A brainpool key signs a TLS 1.3 handshake only with RFC 8734's
  // ecdsa_brainpoolP256r1tls13_sha256, which OpenSSL has from 3.2: before,
  // a server with brainpool identities only speaks TLS 1.2 (SGP.22 v2.2.2
  // §2.6.6 allows either), so that TLS 1.3 clients fall back instead of
  // failing on a signature the server cannot make.
  TlsVersion max_version = config.max_version;
  const bool brainpool_only = std::all_of(config.identities.begin(), config.identities.end(),
                                          [](const TlsIdentity& id) { return id.is_brainpool(); });
  if (brainpool_only && !brainpool_tls13_supported()) max_version = TlsVersion::Tls12;
  if (config.min_version > max_version) return fail("TLS 1.3 only, but this OpenSSL cannot sign TLS 1.3 with brainpool");
  if (SSL_CTX_set_min_proto_version(ctx, to_openssl_version(config.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, to_openssl_version(max_version)) != 1)
    return fail("cannot set the TLS versions");
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(ctx, config.tls12_ciphers.c_str()) != 1)
    return fail("invalid TLS 1.2 cipher list '" + config.tls12_ciphers + "'");
  if (SSL_CTX_set_ciphersuites(ctx, config.tls13_ciphersuites.c_str()) != 1)
    return fail("invalid TLS 1.3 cipher suites '" + config.tls13_ciphersuites + "'");
  if (SSL_CTX_set1_groups_list(ctx, config.groups.c_str()) != 1)
    return fail("invalid group list '" + config.groups + "'");
  state.identities = config.identities;
  const auto& first = *state.identities.front().impl();
  if (SSL_CTX_use_cert_and_key(ctx, first.leaf, first.key, first.extra, 1) != 1)
    return fail("cannot use the certificate " + first.subject);
  if (state.identities.size() > 1) SSL_CTX_set_cert_cb(ctx, cert_callback, &state);
  SSL_CTX_set_app_data(ctx, &state);
  SSL_CTX_set_info_callback(ctx, info_callback);
  if (config.client_auth != ClientAuth::None) {
    if (config.client_roots.empty()) return fail("mutual TLS without client roots");
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    X509_STORE* store = root_store(config.client_roots, names);
    if (!store) {
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      return fail("a client root is not a DER certificate");
    }
    X509_VERIFY_PARAM_set_purpose(X509_STORE_get0_param(store), X509_PURPOSE_SSL_CLIENT);
    SSL_CTX_set_cert_store(ctx, store);      // takes ownership
    SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership: the roots a client may choose from
    int mode = SSL_VERIFY_PEER;
    if (config.client_auth == ClientAuth::Required) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
    // A resumed session keeps the verified client; OpenSSL needs a context id to allow it.
    static const unsigned char kSessionContext[] = "rsp-mtls";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  }
  return true;
}

X509_STORE* root_store(const std::vector<Bytes>& roots, STACK_OF(X509_NAME)* names) {
  X509_STORE* store = X509_STORE_new();
  if (!store) return nullptr;
  for (const auto& der : roots) {
    const unsigned char* p = der.data();
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    if (!cert) {
      X509_STORE_free(store);
      ERR_clear_error();
      return nullptr;
    }
    X509_STORE_add_cert(store, cert);
    if (names) sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(cert)));
    X509_free(cert);
  }
  return store;
}

std::optional<PeerCertificate> peer_certificate(SSL* ssl) {
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (!leaf || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  PeerCertificate out;
  out.chain.push_back(to_der(leaf));
  // On the server side the peer chain lacks the leaf (OpenSSL's convention).
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      X509* c = sk_X509_value(chain, i);
      if (X509_cmp(c, leaf) != 0) out.chain.push_back(to_der(c));
    }
  }
  out.subject = one_line_subject(leaf);
  out.issuer = one_line_name(X509_get_issuer_name(leaf));
  return out;
}

}  // namespace detail
}  // namespace rsp::net
