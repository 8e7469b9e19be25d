#pragma once
/// Private-key storage behind an interface, so that a PKCS#11 (HSM) backend
/// can replace the file backend without touching the roles that sign.

#include <filesystem>
#include <string>
#include <string_view>

#include "rsp/crypto/ec_key.hpp"
#include "rsp/pki/error.hpp"

namespace rsp::pki {

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  /// The private key stored under `name`.
  virtual PkiResult<crypto::EcKey> load(std::string_view name) const = 0;
  /// Stores (or replaces) the private key under `name`.
  virtual PkiResult<void> store(std::string_view name, const crypto::EcKey& key) = 0;
  virtual bool contains(std::string_view name) const = 0;
};

/// Key names: 1..128 characters of [A-Za-z0-9_.-], not starting with '.',
/// so a name can never escape the store's directory.
bool is_valid_key_name(std::string_view name);

/// Keys as PKCS#8 PEM files `<dir>/<name>.pem`, written atomically with mode
/// 0600 (SGP.26 names them SK_<ROLE>_ECDSA_<CURVE>.pem).
class FileKeyStore final : public KeyStore {
 public:
  explicit FileKeyStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  PkiResult<crypto::EcKey> load(std::string_view name) const override;
  PkiResult<void> store(std::string_view name, const crypto::EcKey& key) override;
  bool contains(std::string_view name) const override;
  /// The file that holds (or would hold) `name`.
  std::filesystem::path path_of(std::string_view name) const;

 private:
  std::filesystem::path dir_;
};

/// Reads a private key from any PEM file (e.g. --ci-key).
PkiResult<crypto::EcKey> load_private_key_file(const std::filesystem::path& file);

}  // namespace rsp::pki
