#include "rsp/crypto/sha256.hpp"

#include <openssl/evp.h>

namespace rsp::crypto {

bool sha256(ByteView data, Sha256Digest& out) {
  // Fetched once for the process: given EVP_sha256(), OpenSSL 3 looks the
  // digest up again on every call (about as long as hashing a certificate).
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) return false;
  unsigned int len = 0;
  return EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) == 1 && len == out.size();
}

Bytes sha256(ByteView data) {
  Sha256Digest digest{};
  if (!sha256(data, digest)) return {};
  return Bytes(digest.begin(), digest.end());
}

}  // namespace rsp::crypto
