#pragma once
/// ES2+ caller authentication by per-operator API key. SGP.22 §6.1 carries
/// ES2+ over HTTPS and leaves how the operator is authenticated to the two
/// parties (typically mutually authenticated TLS); this platform accepts a
/// secret API key per operator, sent as "Authorization: Bearer <key>".
///
/// Only the SHA-256 of each key is kept in memory; a key is compared with
/// every configured one in constant time, so neither timing nor the answer
/// tells which operator a wrong key came close to. The authenticated name is
/// the only functionRequesterIdentifier the caller may use (es2_json.hpp).

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::smdpp {

struct OperatorCredential {
  std::string name;          ///< the operator's functionRequesterIdentifier
  Bytes key_sha256;          ///< SHA-256 of the API key, never the key
  std::string callback_url;  ///< HandleDownloadProgressInfo endpoint (SGP.22 §5.3.5); may be empty
};

/// Reads an API key file: a regular file that neither group nor others may
/// read or write (0600 or 0400); the key is its first line, 16 to 512
/// printable characters. Returns the key's SHA-256; errors never quote the file.
expected<Bytes, std::string> load_api_key_hash(const std::filesystem::path& file);

/// Parses the `operators` configuration, a JSON array of objects
///   {"name": "...", "api_key_file": "..." | "api_key_sha256": "<64 hex>", "callback_url": "https://..."}
/// Relative api_key_file paths are taken from `base_dir`.
expected<std::vector<OperatorCredential>, std::string> parse_operator_config(
    const nlohmann::json& operators, const std::filesystem::path& base_dir = {});

class OperatorAuthenticator {
 public:
  explicit OperatorAuthenticator(std::vector<OperatorCredential> operators) : operators_(std::move(operators)) {}

  /// The operator whose key `authorization` (an Authorization header value,
  /// "Bearer <key>") carries; nullopt for anything else.
  std::optional<std::string> authenticate(const std::optional<std::string>& authorization) const;
  const std::vector<OperatorCredential>& operators() const { return operators_; }

 private:
  std::vector<OperatorCredential> operators_;
};

}  // namespace rsp::smdpp
