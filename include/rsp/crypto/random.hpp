#pragma once
/// Injectable randomness: protocol code asks a `Random` for challenges, nonces
/// and transaction ids, so tests can replay exact traces with a deterministic
/// source while production uses the OpenSSL CSPRNG.

#include <cstdint>
#include <span>

#include "rsp/common/bytes.hpp"

namespace rsp::crypto {

class Random {
 public:
  virtual ~Random() = default;
  /// Fills `out` completely. Implementations never fail silently: a broken
  /// CSPRNG terminates the process rather than return predictable bytes.
  virtual void fill(std::span<std::uint8_t> out) = 0;
  Bytes bytes(std::size_t n) {
    Bytes b(n);
    fill(b);
    return b;
  }
};

/// RAND_bytes from the default OpenSSL provider.
class SystemRandom final : public Random {
 public:
  void fill(std::span<std::uint8_t> out) override;
};

/// The process-wide OpenSSL-backed instance (thread-safe, stateless).
Random& system_random();

/// Reproducible bytes for tests: SHA-256(seed || counter) blocks. Never use it
/// for keys outside tests.
class DeterministicRandom final : public Random {
 public:
  explicit DeterministicRandom(Bytes seed) : seed_(std::move(seed)) {}
  void fill(std::span<std::uint8_t> out) override;

 private:
  Bytes seed_;
  std::uint64_t counter_ = 0;
};

}  // namespace rsp::crypto
