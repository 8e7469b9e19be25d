#pragma once
/// Caller authentication by a secret API key per caller, sent as
/// "Authorization: Bearer <key>". SGP.22 §6.1 leaves ES2+ caller
/// authentication to the two parties; a key is the alternative to a client
/// certificate (client_certificate.hpp).
///
/// Only the SHA-256 of each key is kept in memory; a key is compared with
/// every configured one in constant time, so neither timing nor the answer
/// tells which caller a wrong key came close to.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::service {

/// Reads an API key file: a regular file that neither group nor others may
/// read or write (0600 or 0400); the key is its first line, 16 to 512
/// printable characters. Returns the key's SHA-256; errors never quote the file.
expected<Bytes, std::string> load_api_key_hash(const std::filesystem::path& file);

struct ApiKey {
  std::string caller;  ///< who holds the key
  Bytes key_sha256;    ///< SHA-256 of the key, never the key
};

class ApiKeyAuthenticator {
 public:
  explicit ApiKeyAuthenticator(std::vector<ApiKey> keys) : keys_(std::move(keys)) {}

  /// The caller whose key `authorization` (an Authorization header value,
  /// "Bearer <key>") carries; nullopt for anything else.
  std::optional<std::string> authenticate(const std::optional<std::string>& authorization) const;
  bool empty() const { return keys_.empty(); }

 private:
  std::vector<ApiKey> keys_;
};

}  // namespace rsp::service
