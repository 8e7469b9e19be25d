#pragma once
/// Caller authentication by the client certificate of a mutual TLS handshake
/// (SGP.22 §2.6.6: ES2+ runs over mutually authenticated TLS). net has
/// already verified the chain against the server's client roots; this maps
/// the verified certificate to a caller, either
///   - pinned: the leaf certificate is exactly the configured one (DER), or
///   - issued: the chain leads to the configured root and the leaf carries the
///     configured subject.
/// Pinned entries are tried first, so a pinned caller is never taken for
/// another one configured by root and subject.

#include <optional>
#include <string>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/net/tls.hpp"

namespace rsp::service {

struct ClientCertificateRule {
  std::string caller;
  /// Pinned: the leaf's DER. Else issued: `root` (DER) and `subject`.
  std::optional<Bytes> leaf;
  std::optional<Bytes> root;
  std::string subject;  ///< one-line form, e.g. "O = ACME, CN = op1"; spaces around '=' and ',' do not matter
};

class ClientCertificateAuthenticator {
 public:
  explicit ClientCertificateAuthenticator(std::vector<ClientCertificateRule> rules) : rules_(std::move(rules)) {}

  /// The caller the verified certificate belongs to; nullopt when none.
  std::optional<std::string> authenticate(const net::PeerCertificate& peer) const;
  bool empty() const { return rules_.empty(); }
  /// The roots the server must verify client chains against: every rule's
  /// root (pinned leaves still need their issuer among the server's roots).
  std::vector<Bytes> roots() const;

 private:
  std::vector<ClientCertificateRule> rules_;
};

/// A subject in a comparable form: no spaces around '=' or after ','.
std::string normalize_subject(std::string_view subject);

/// True when `cert` (DER) is `issuer` (DER) or is signed by its key.
bool issued_by(ByteView cert, ByteView issuer);

}  // namespace rsp::service
