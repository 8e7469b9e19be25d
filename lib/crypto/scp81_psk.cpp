#include "rsp/crypto/scp81_psk.hpp"

#include "ossl.hpp"

namespace rsp::crypto {

using detail::fail;
using Code = CryptoError::Code;

CryptoResult<Scp81Psk> parse_scp81_psk(std::string_view text) {
  Scp81Psk out;
  bool have_identity = false;
  bool have_key = false;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) return fail(Code::InvalidInput, "PSK file: a line without '='");
    const std::string_view name = line.substr(0, eq);
    const std::string_view value = line.substr(eq + 1);
    if (name == "identity") {
      if (have_identity || value.empty() || value.size() > 128)
        return fail(Code::InvalidInput, "PSK file: one identity of 1..128 characters expected");
      out.identity = std::string(value);
      have_identity = true;
    } else if (name == "key") {
      auto key = from_hex(value);
      if (have_key || !key) {
        if (key) wipe(*key);
        return fail(Code::InvalidInput, "PSK file: one key in hexadecimal expected");
      }
      if (key->size() < kScp81PskMinBytes || key->size() > kScp81PskMaxBytes) {
        wipe(*key);
        return fail(Code::InvalidInput, "PSK file: the key must be 16 to 32 bytes");
      }
      out.key = std::move(*key);
      have_key = true;
    } else {
      wipe(out.key);
      return fail(Code::InvalidInput, "PSK file: unknown field '" + std::string(name.substr(0, 32)) + "'");
    }
  }
  if (!have_identity || !have_key) {
    wipe(out.key);
    return fail(Code::InvalidInput, "PSK file: identity and key are both needed");
  }
  return out;
}

}  // namespace rsp::crypto
