#include "rsp/crypto/random.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdio>
#include <cstdlib>

namespace rsp::crypto {

void SystemRandom::fill(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    std::size_t chunk = std::min<std::size_t>(out.size() - done, INT_MAX);
    if (RAND_bytes(out.data() + done, static_cast<int>(chunk)) != 1) {
      std::fputs("fatal: the OpenSSL random generator failed\n", stderr);
      std::abort();
    }
    done += chunk;
  }
}

Random& system_random() {
  static SystemRandom instance;
  return instance;
}

void DeterministicRandom::fill(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    std::array<std::uint8_t, 8> ctr{};
    for (std::size_t i = 0; i < ctr.size(); ++i)
      ctr[i] = static_cast<std::uint8_t>(counter_ >> (56 - 8 * i));
    ++counter_;
    std::array<std::uint8_t, 32> block{};
    unsigned int len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
              EVP_DigestUpdate(ctx, seed_.data(), seed_.size()) == 1 &&
              EVP_DigestUpdate(ctx, ctr.data(), ctr.size()) == 1 &&
              EVP_DigestFinal_ex(ctx, block.data(), &len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) std::abort();
    std::size_t n = std::min(block.size(), out.size() - done);
    std::copy_n(block.begin(), n, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += n;
  }
}

}  // namespace rsp::crypto
