// File-backed KeyStore: one 0600 PKCS#8 PEM file per key.

#include "rsp/pki/key_store.hpp"

#include "rsp/common/file.hpp"

namespace rsp::pki {

using Code = PkiError::Code;

bool is_valid_key_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::filesystem::path FileKeyStore::path_of(std::string_view name) const {
  return dir_ / (std::string(name) + ".pem");
}

PkiResult<crypto::EcKey> load_private_key_file(const std::filesystem::path& file) {
  auto data = read_file(file);
  if (!data) return pki_error(Code::Io, "cannot read key file " + file.string() + ": " + data.error().message);
  auto key = crypto::EcKey::from_pem(to_string(*data));
  wipe(*data);
  if (!key) return pki_error(Code::InvalidArgument, "key file " + file.string() + ": " + key.error().message);
  if (!key->has_private()) return pki_error(Code::InvalidArgument, "key file " + file.string() + " holds no private key");
  return std::move(*key);
}

PkiResult<crypto::EcKey> FileKeyStore::load(std::string_view name) const {
  if (!is_valid_key_name(name)) return pki_error(Code::InvalidArgument, "invalid key name");
  return load_private_key_file(path_of(name));
}

PkiResult<void> FileKeyStore::store(std::string_view name, const crypto::EcKey& key) {
  if (!is_valid_key_name(name)) return pki_error(Code::InvalidArgument, "invalid key name");
  auto pem = key.private_pem();
  if (!pem) return pki_error(Code::InvalidArgument, "key " + std::string(name) + ": " + pem.error().message);
  auto written = write_file_atomic(path_of(name), as_bytes(*pem), std::filesystem::perms::owner_read |
                                                                       std::filesystem::perms::owner_write);
  std::fill(pem->begin(), pem->end(), '\0');
  if (!written) return pki_error(Code::Io, "cannot write key " + std::string(name) + ": " + written.error().message);
  return {};
}

bool FileKeyStore::contains(std::string_view name) const {
  std::error_code ec;
  return is_valid_key_name(name) && std::filesystem::is_regular_file(path_of(name), ec);
}

}  // namespace rsp::pki
