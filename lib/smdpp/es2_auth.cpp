#include "rsp/smdpp/es2_auth.hpp"

#include <sys/stat.h>

#include <fstream>

#include "rsp/smdpp/catalog.hpp"

namespace rsp::smdpp {

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
    return unexpected(std::string("API key must be 16 to 512 printable characters without spaces"));
  }
  Bytes k = to_bytes(key);
  Bytes hash = sha256(k);
  wipe(k);
  std::fill(key.begin(), key.end(), '\0');
  return hash;
}

expected<std::vector<OperatorCredential>, std::string> parse_operator_config(const nlohmann::json& operators,
                                                                             const fs::path& base_dir) {
  if (!operators.is_array()) return unexpected(std::string("operators must be a JSON array"));
  std::vector<OperatorCredential> out;
  for (std::size_t i = 0; i < operators.size(); ++i) {
    const auto& o = operators[i];
    const std::string where = "operators[" + std::to_string(i) + "]";
    if (!o.is_object()) return unexpected(where + " must be an object");
    OperatorCredential c;
    std::optional<std::string> key_file, key_hash;
    for (const auto& item : o.items()) {
      if (!item.value().is_string()) return unexpected(where + "." + item.key() + " must be a string");
      const std::string v = item.value().get<std::string>();
      if (item.key() == "name") {
        c.name = v;
      } else if (item.key() == "api_key_file") {
        key_file = v;
      } else if (item.key() == "api_key_sha256") {
        key_hash = v;
      } else if (item.key() == "callback_url") {
        c.callback_url = v;
      } else {
        return unexpected(where + ": unknown key '" + item.key() + "'");
      }
    }
    if (c.name.empty() || c.name.size() > 256) return unexpected(where + ".name must have 1 to 256 characters");
    for (const auto& other : out)
      if (other.name == c.name) return unexpected(where + ": operator '" + c.name + "' is configured twice");
    if (key_file.has_value() == key_hash.has_value())
      return unexpected(where + ": give exactly one of api_key_file and api_key_sha256");
    if (key_file) {
      fs::path p(*key_file);
      if (p.is_relative() && !base_dir.empty()) p = base_dir / p;
      auto h = load_api_key_hash(p);
      if (!h) return unexpected(where + ".api_key_file " + p.string() + ": " + h.error());
      c.key_sha256 = std::move(*h);
    } else {
      auto h = from_hex(*key_hash);
      if (!h || h->size() != 32) return unexpected(where + ".api_key_sha256 must be 64 hex digits");
      c.key_sha256 = std::move(*h);
    }
    if (!c.callback_url.empty() && c.callback_url.rfind("https://", 0) != 0 && c.callback_url.rfind("http://", 0) != 0)
      return unexpected(where + ".callback_url must be an https:// (or, for lab use, http://) URL");
    out.push_back(std::move(c));
  }
  return out;
}

std::optional<std::string> OperatorAuthenticator::authenticate(const std::optional<std::string>& authorization) const {
  if (!authorization || authorization->size() <= kBearer.size() ||
      authorization->compare(0, kBearer.size(), kBearer) != 0)
    return std::nullopt;
  Bytes presented = to_bytes(std::string_view(*authorization).substr(kBearer.size()));
  const Bytes hash = sha256(presented);
  wipe(presented);
  // Every operator is compared, whatever matched before, in constant time.
  const OperatorCredential* found = nullptr;
  for (const auto& o : operators_)
    if (equal_ct(hash, o.key_sha256) && !found) found = &o;
  if (!found) return std::nullopt;
  return found->name;
}

}  // namespace rsp::smdpp
