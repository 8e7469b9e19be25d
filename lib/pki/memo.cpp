// Bounded process-wide memos of certificate parsing and signature checks.

#include "rsp/pki/memo.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <mutex>
#include <set>

namespace rsp::pki {

namespace {

/// Enough for every SM-DP+ an eUICC fleet talks to and every EUM an SM-DP+
/// sees; small enough to stay a few hundred KB.
constexpr std::size_t kParsedCapacity = 64;
constexpr std::size_t kVerifiedCapacity = 4096;
/// Every eUICC certificate is new to an SM-DP+ and takes one slot, so the
/// few keys that recur (EUMs, CIs) are made again only once per this many
/// downloads; an EVP key is about a kilobyte.
constexpr std::size_t kKeyCapacity = 256;

using Digest = std::array<std::uint8_t, 32>;
using PairKey = std::array<std::uint8_t, 64>;

/// A map that forgets its oldest entry when full.
template <class K, class V>
class Fifo {
 public:
  explicit Fifo(std::size_t capacity) : capacity_(capacity) {}
  const V* find(const K& k) const {
    auto it = map_.find(k);
    return it == map_.end() ? nullptr : &it->second;
  }
  void insert(const K& k, V v) {
    if (map_.count(k) != 0) return;
    if (order_.size() >= capacity_) {
      map_.erase(order_.front());
      order_.pop_front();
    }
    map_.emplace(k, std::move(v));
    order_.push_back(k);
  }
  void clear() {
    map_.clear();
    order_.clear();
  }
  std::size_t size() const { return map_.size(); }
  std::size_t capacity() const { return capacity_; }
  void set_capacity(std::size_t capacity) {
    clear();
    capacity_ = capacity;
  }

 private:
  std::size_t capacity_;
  std::map<K, V> map_;
  std::deque<K> order_;
};

struct Memos {
  std::mutex mu;
  Fifo<Bytes, Certificate> parsed{kParsedCapacity};
  Fifo<PairKey, bool> verified{kVerifiedCapacity};
  Fifo<Digest, crypto::EcKey> keys{kKeyCapacity};
};

Memos& memos() {
  static Memos m;
  return m;
}

}  // namespace

PkiResult<Certificate> parse_certificate_memo(ByteView der) {
  Memos& m = memos();
  const Bytes key(der.begin(), der.end());
  {
    std::lock_guard lock(m.mu);
    if (const Certificate* c = m.parsed.find(key)) return *c;
  }
  auto parsed = Certificate::from_der(der);
  if (!parsed) return parsed;
  std::lock_guard lock(m.mu);
  m.parsed.insert(key, *parsed);
  return parsed;
}

bool signature_verifies_memo(const Certificate& child, const Certificate& issuer) {
  PairKey key{};
  std::copy(child.der_sha256().begin(), child.der_sha256().end(), key.begin());
  std::copy(issuer.der_sha256().begin(), issuer.der_sha256().end(), key.begin() + 32);
  Memos& m = memos();
  {
    std::lock_guard lock(m.mu);
    if (m.verified.find(key) != nullptr) return true;
  }
  auto issuer_key = public_key_memo(issuer);
  if (!issuer_key || !child.signature_verifies_with(*issuer_key)) return false;
  std::lock_guard lock(m.mu);
  m.verified.insert(key, true);
  return true;
}

crypto::CryptoResult<crypto::EcKey> public_key_memo(const Certificate& cert) {
  Memos& m = memos();
  {
    std::lock_guard lock(m.mu);
    // A copy shares the immutable OpenSSL key (reference counted).
    if (const crypto::EcKey* k = m.keys.find(cert.der_sha256())) return *k;
  }
  auto made = cert.public_key();
  if (made) {
    std::lock_guard lock(m.mu);
    m.keys.insert(cert.der_sha256(), *made);
  }
  return made;
}

void clear_certificate_memos() {
  Memos& m = memos();
  std::lock_guard lock(m.mu);
  m.parsed.clear();
  m.verified.clear();
  m.keys.clear();
}

CertificateMemoSizes certificate_memo_sizes() {
  Memos& m = memos();
  std::lock_guard lock(m.mu);
  return {m.parsed.size(), m.parsed.capacity(), m.verified.size(), m.verified.capacity(), m.keys.size(),
          m.keys.capacity()};
}

void set_certificate_memo_capacity(std::size_t entries) {
  Memos& m = memos();
  std::lock_guard lock(m.mu);
  m.parsed.set_capacity(entries == 0 ? kParsedCapacity : entries);
  m.verified.set_capacity(entries == 0 ? kVerifiedCapacity : entries);
  m.keys.set_capacity(entries == 0 ? kKeyCapacity : entries);
}

}  // namespace rsp::pki
