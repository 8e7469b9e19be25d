#include "rsp/crypto/sha256.hpp"

#include <openssl/evp.h>

namespace rsp::crypto {

bool sha256(ByteView data, Sha256Digest& out) {
  unsigned int len = 0;
  return EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) == 1 && len == out.size();
}

Bytes sha256(ByteView data) {
  Sha256Digest digest{};
  if (!sha256(data, digest)) return {};
  return Bytes(digest.begin(), digest.end());
}

}  // namespace rsp::crypto
