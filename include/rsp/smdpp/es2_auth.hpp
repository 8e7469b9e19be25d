#pragma once
/// ES2+ caller authentication. SGP.22 §2.6.6 carries ES2+ over mutually
/// authenticated TLS: an operator is configured by its client certificate
/// (pinned leaf), or by the root that issued it and the subject it carries,
/// and identified from the handshake. A secret API key per operator, sent as
/// "Authorization: Bearer <key>", stays as an alternative. Both mechanisms
/// live in the service kit (rsp/service/api_key.hpp, client_certificate.hpp);
/// this is the SM-DP+'s operator configuration on top of them.
///
/// The authenticated name is the only functionRequesterIdentifier the caller
/// may use (es2_json.hpp).

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

namespace rsp::smdpp {

using service::load_api_key_hash;

struct OperatorCredential {
  std::string name;          ///< the operator's functionRequesterIdentifier
  Bytes key_sha256;          ///< SHA-256 of the API key, never the key; empty: no API key
  std::string callback_url;  ///< HandleDownloadProgressInfo endpoint (SGP.22 §5.3.5); may be empty
  /// Mutual TLS: the operator's client certificate (DER leaf), or the root
  /// (DER) that issued it with the subject it must carry.
  std::optional<Bytes> client_cert;
  std::optional<Bytes> client_root;
  std::string client_subject;
};

/// Parses the `operators` configuration, a JSON array of objects
///   {"name": "...",
///    "api_key_file": "..." | "api_key_sha256": "<64 hex>",
///    "client_cert": "<PEM/DER file>" | "client_root": "<PEM/DER file>", "client_subject": "O = ..., CN = ...",
///    "callback_url": "https://..."}
/// with at least one of the API key and the client certificate. Relative
/// files are taken from `base_dir`.
expected<std::vector<OperatorCredential>, std::string> parse_operator_config(
    const nlohmann::json& operators, const std::filesystem::path& base_dir = {});

class OperatorAuthenticator {
 public:
  explicit OperatorAuthenticator(std::vector<OperatorCredential> operators);

  /// The operator a request comes from: the verified client certificate of
  /// its handshake first, else its API key; nullopt for anything else.
  std::optional<service::Caller> authenticate(const net::Request& request) const;
  /// API key only: the operator whose key `authorization` ("Bearer <key>") carries.
  std::optional<std::string> authenticate(const std::optional<std::string>& authorization) const {
    return keys_.authenticate(authorization);
  }
  const std::vector<OperatorCredential>& operators() const { return operators_; }
  /// The roots client certificates must chain to (every client_root).
  std::vector<Bytes> client_roots() const { return certificates_.roots(); }
  /// True when some operator is configured by a client certificate.
  bool uses_client_certificates() const { return !certificates_.empty(); }

 private:
  std::vector<OperatorCredential> operators_;
  service::ApiKeyAuthenticator keys_;
  service::ClientCertificateAuthenticator certificates_;
};

}  // namespace rsp::smdpp
