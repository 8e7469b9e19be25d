#pragma once
/// The callers a server role admits, from its configuration: each is known by
/// a TLS client certificate (mutual TLS: the pinned leaf, or the root that
/// issued it and the subject it carries) and/or a secret API key sent as
/// "Authorization: Bearer <key>" (only its SHA-256 is held). SGP.22 §2.6.6
/// (ES2+) and SGP.02 §2.4 (ES1/ES4 over mutually authenticated TLS) ask for
/// the first; the key stays as an alternative. The mechanisms are
/// api_key.hpp and client_certificate.hpp; this is their configuration.
///
/// The authenticated name is the only identity the caller may act as.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/net/server.hpp"
#include "rsp/service/api_key.hpp"
#include "rsp/service/caller.hpp"
#include "rsp/service/client_certificate.hpp"

namespace rsp::service {

struct CallerCredential {
  std::string name;          ///< the caller's identity (e.g. functionRequesterIdentifier)
  Bytes key_sha256;          ///< SHA-256 of the API key, never the key; empty: no API key
  std::string callback_url;  ///< where the role calls the caller back; may be empty
  /// Mutual TLS: the caller's client certificate (DER leaf), or the root
  /// (DER) that issued it with the subject it must carry.
  std::optional<Bytes> client_cert;
  std::optional<Bytes> client_root;
  std::string client_subject;
};

/// Parses a JSON array of objects
///   {"name": "...",
///    "api_key_file": "..." | "api_key_sha256": "<64 hex>",
///    "client_cert": "<PEM/DER file>" | "client_root": "<PEM/DER file>", "client_subject": "O = ..., CN = ...",
///    "callback_url": "https://..."}
/// with at least one of the API key and the client certificate. Relative
/// files are taken from `base_dir`; `what` names the array in errors
/// ("operators[1].name ...").
expected<std::vector<CallerCredential>, std::string> parse_caller_config(const nlohmann::json& callers,
                                                                       const std::filesystem::path& base_dir,
                                                                       const std::string& what);

class CallerAuthenticator {
 public:
  explicit CallerAuthenticator(std::vector<CallerCredential> callers);

  /// The caller a request comes from: the verified client certificate of
  /// its handshake first, else its API key; nullopt for anything else.
  std::optional<Caller> authenticate(const net::Request& request) const;
  /// API key only: the caller whose key `authorization` ("Bearer <key>") carries.
  std::optional<std::string> authenticate(const std::optional<std::string>& authorization) const {
    return keys_.authenticate(authorization);
  }
  const std::vector<CallerCredential>& callers() const { return callers_; }
  /// The roots client certificates must chain to (every client_root).
  std::vector<Bytes> client_roots() const { return certificates_.roots(); }
  /// True when some caller is configured by a client certificate.
  bool uses_client_certificates() const { return !certificates_.empty(); }

 private:
  std::vector<CallerCredential> callers_;
  ApiKeyAuthenticator keys_;
  ClientCertificateAuthenticator certificates_;
};

}  // namespace rsp::service
