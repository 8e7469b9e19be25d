#pragma once
/// TLS credentials and server settings (SGP.22 §2.6.6: TLS 1.2 with
/// ECDHE-ECDSA AES-GCM / AES-CBC-SHA256 suites, or TLS 1.3; SM-DP+ DPtls
/// certificates on NIST P-256 or brainpoolP256r1).
///
/// Private keys are parsed once into OpenSSL objects and never logged or
/// copied into error messages.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/net/error.hpp"

namespace rsp::net {

enum class TlsVersion { Tls12, Tls13 };

/// Whether a server asks its clients for a certificate (mutual TLS).
enum class ClientAuth {
  None,      ///< no certificate asked for
  Optional,  ///< asked for; a client without one is let in (the caller authenticates otherwise), a
             ///< certificate that does not verify fails the handshake
  Required,  ///< a client without a certificate that verifies fails the handshake
};

/// The certificate a client proved it holds in the handshake (mutual TLS),
/// already verified against the server's client roots.
struct PeerCertificate {
  std::vector<Bytes> chain;  ///< DER, leaf first (as the client sent it)
  std::string subject;       ///< the leaf's subject, one line ("O = ACME, CN = op1")
  std::string issuer;        ///< the leaf's issuer, one line
  const Bytes& leaf() const { return chain.front(); }
};

/// Certificates from PEM (one or more blocks) or DER (a single certificate),
/// each returned as DER.
NetResult<std::vector<Bytes>> certificates_from_data(ByteView data);
NetResult<std::vector<Bytes>> load_certificates(const std::filesystem::path& file);

/// A certificate chain (leaf first) and the leaf's private key. Cheap to copy
/// (the parsed key is shared, immutable).
class TlsIdentity {
 public:
  /// `cert_file`: PEM with the leaf first and optional intermediates, or a DER
  /// leaf. `key_file`: PEM (PKCS#8 or traditional) or DER private key.
  static NetResult<TlsIdentity> load(const std::filesystem::path& cert_file, const std::filesystem::path& key_file);
  static NetResult<TlsIdentity> from_data(ByteView cert_data, ByteView key_data);

  /// DER certificates, leaf first.
  const std::vector<Bytes>& chain() const;
  /// The leaf's subject in one-line form ("O=ACME, CN=localhost").
  const std::string& subject() const;
  /// The key's curve as OpenSSL names it ("prime256v1", "brainpoolP256r1"),
  /// empty for a non-EC key.
  const std::string& curve() const;
  bool is_brainpool() const;

  struct Impl;
  const std::shared_ptr<const Impl>& impl() const { return impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
};

/// TLS 1.2 with a pre-shared key, as SCP81 requires (GlobalPlatform Card
/// Specification Amendment B §3.2; SGP.02 §2.4.4): TLS_PSK_WITH_AES_128_GCM_SHA256
/// and TLS_PSK_WITH_AES_128_CBC_SHA256, in OpenSSL's names, preferred first.
inline constexpr const char* kPskTls12Ciphers = "PSK-AES128-GCM-SHA256:PSK-AES128-CBC-SHA256";

/// Maps a client's PSK identity to its key; nullopt refuses the identity (the
/// handshake fails). Called on one of the server's I/O threads during the
/// handshake, from several at once: it must be quick (keys from memory, not
/// a database round trip) and thread-safe.
using PskLookup = std::function<std::optional<Bytes>(std::string_view identity)>;

/// The server side of PSK-TLS: no certificate, TLS 1.2 only.
struct PskServerConfig {
  PskLookup lookup;
  std::string ciphers = kPskTls12Ciphers;
};

/// The client side of PSK-TLS (the eUICC in SCP81): one identity and its key.
struct PskClientConfig {
  std::string identity;
  Bytes key;  ///< never logged; wiped when the client goes
  std::string ciphers = kPskTls12Ciphers;
};

struct TlsServerConfig {
  /// One or more identities on the same port. With several, each handshake
  /// gets a brainpool identity when the client asks for brainpool (TLS 1.3:
  /// offers ecdsa_brainpoolP256r1tls13_sha256, which needs OpenSSL 3.2; TLS
  /// 1.2: lists the brainpoolP256r1 group), otherwise the first other one.
  std::vector<TlsIdentity> identities;
  TlsVersion min_version = TlsVersion::Tls12;
  TlsVersion max_version = TlsVersion::Tls13;
  /// TLS 1.2 cipher suites (OpenSSL names), SGP.22 §2.6.6 order.
  std::string tls12_ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-ECDSA-AES256-SHA384";
  std::string tls13_ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
  /// Key exchange groups.
  std::string groups = "P-256:brainpoolP256r1";
  /// Mutual TLS: with `client_auth` other than None, client certificate chains
  /// are verified against these roots (DER; intermediates come from the client).
  ClientAuth client_auth = ClientAuth::None;
  std::vector<Bytes> client_roots;
  /// PSK-TLS instead of certificates: with it, `identities` stay empty and the
  /// versions, suites and client authentication above do not apply.
  std::optional<PskServerConfig> psk;
};

/// The one-line subject of a DER certificate (empty when it does not parse).
std::string certificate_subject(ByteView der);
/// The SubjectKeyIdentifier of a DER certificate (RFC 5280 §4.2.1.2; for a
/// GSMA CI its value is the CI's PKId, SGP.22 v2.2.2 §4.5.2.1); empty when it
/// does not parse or has none.
Bytes certificate_subject_key_id(ByteView der);
/// "subject (SKI hex)" of a DER certificate, for messages.
std::string certificate_label(ByteView der);

/// True when this OpenSSL can sign TLS 1.3 handshakes with brainpool keys (3.2+).
bool brainpool_tls13_supported();

}  // namespace rsp::net
