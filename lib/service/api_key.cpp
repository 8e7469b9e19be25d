#include "rsp/service/api_key.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "rsp/crypto/sha256.hpp"

namespace rsp::service {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kBearer = "Bearer ";

bool printable(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7E) return false;
  return true;
}

}  // namespace

expected<Bytes, std::string> load_api_key_hash(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return unexpected(std::string("API key file is missing or not a regular file"));
  if ((st.st_mode & 077) != 0)
    return unexpected(std::string("API key file must not be accessible by group or others (chmod 600)"));
  std::ifstream in(file, std::ios::binary);
  std::string key;
  if (!in || !std::getline(in, key)) return unexpected(std::string("API key file cannot be read"));
  while (!key.empty() && (key.back() == '\r' || key.back() == ' ' || key.back() == '\t')) key.pop_back();
  if (key.size() < 16 || key.size() > 512 || !printable(key)) {
    Bytes b = to_bytes(key);
    wipe(b);
    std::fill(key.begin(), key.end(), '\0');
    return unexpected(std::string("API key must be 16 to 512 printable characters without spaces"));
  }
  Bytes k = to_bytes(key);
  Bytes hash = crypto::sha256(k);
  wipe(k);
  std::fill(key.begin(), key.end(), '\0');
  return hash;
}

std::optional<std::string> ApiKeyAuthenticator::authenticate(const std::optional<std::string>& authorization) const {
  if (!authorization || authorization->size() <= kBearer.size() ||
      authorization->compare(0, kBearer.size(), kBearer) != 0)
    return std::nullopt;
  Bytes presented = to_bytes(std::string_view(*authorization).substr(kBearer.size()));
  const Bytes hash = crypto::sha256(presented);
  wipe(presented);
  // Every key is compared, whatever matched before, in constant time.
  const ApiKey* found = nullptr;
  for (const auto& k : keys_)
    if (equal_ct(hash, k.key_sha256) && !found) found = &k;
  if (!found) return std::nullopt;
  return found->caller;
}

}  // namespace rsp::service
