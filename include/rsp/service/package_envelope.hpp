#pragma once
/// Profile packages at rest, by envelope encryption. A package (UPP, which
/// holds the subscriber's K and OPc) is sealed with AES-256-GCM under a data
/// key (DEK) drawn fresh for it; the DEK is sealed ("wrapped") with
/// AES-256-GCM under the key-encryption key (KEK), which the operator keeps
/// apart from the database. The stored blob describes itself:
///
///   "RSPE" | version 01 | KEK id (8) | DEK nonce (12) | wrapped DEK (32) + tag (16)
///          | package nonce (12) | package ciphertext | tag (16)
///
/// The additional data of both seals binds the format and the profile's
/// ICCID: a blob moved to another profile's row does not open. The KEK id
/// (the first 8 bytes of SHA-256 over a fixed label and the KEK) names the
/// key without revealing it. Rotating the KEK re-wraps the DEKs only.
///
/// A blob without the marker is a package an older version stored in clear
/// (a SAIP package starts with its ProfileHeader, tag A0): it is read as it
/// is, and rewrap_package() encrypts it. Nothing here logs, and no error
/// message carries a key or package content.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::crypto {
class Random;
}

namespace rsp::service {

struct EnvelopeError {
  enum class Kind {
    NoKey,      ///< the package is encrypted and no KEK was given
    OtherKey,   ///< encrypted under another KEK (the ids differ)
    Tampered,   ///< a tag does not verify: the blob was changed, or belongs to another profile
    Malformed,  ///< neither an envelope of a known version nor a package in clear
    Internal,   ///< the crypto library failed, or a key of the wrong size
  };
  Kind kind = Kind::Internal;
  std::string message;  ///< names the ICCID and KEK ids, never key material
};

template <class T>
using EnvelopeResult = expected<T, EnvelopeError>;

/// The KEK: 32 bytes, wiped when it goes. Only the envelope functions
/// below read it.
class KeyEncryptionKey {
 public:
  static constexpr std::size_t kSize = 32;
  static constexpr std::size_t kIdSize = 8;

  /// Internal error unless `key` is 32 bytes.
  static EnvelopeResult<KeyEncryptionKey> make(ByteView key);
  KeyEncryptionKey(KeyEncryptionKey&&) noexcept = default;
  KeyEncryptionKey& operator=(KeyEncryptionKey&&) noexcept = default;
  KeyEncryptionKey(const KeyEncryptionKey&) = delete;
  KeyEncryptionKey& operator=(const KeyEncryptionKey&) = delete;
  ~KeyEncryptionKey();

  /// First 8 bytes of SHA-256("rsp smdpp key-encryption key id" || KEK).
  const Bytes& id() const { return id_; }
  /// id() in hex, as messages and `rsp smdpp keys` show it.
  std::string id_hex() const;

 private:
  KeyEncryptionKey() = default;
  Bytes key_;
  Bytes id_;
  friend EnvelopeResult<Bytes> seal_package(const KeyEncryptionKey&, std::string_view, ByteView, crypto::Random&);
  friend EnvelopeResult<Bytes> open_package(const KeyEncryptionKey*, std::string_view, ByteView);
  friend EnvelopeResult<Bytes> rewrap_package(const KeyEncryptionKey*, const KeyEncryptionKey&, std::string_view,
                                              ByteView, crypto::Random&);
};

/// True when `stored` starts with the envelope marker (else it is a package
/// in clear, or garbage).
bool is_sealed_package(ByteView stored);
/// The KEK id an envelope names; nullopt for anything else.
std::optional<Bytes> sealed_kek_id(ByteView stored);

/// Seals `upp`, the package of profile `iccid` (its digits, as stored),
/// under a fresh DEK wrapped by `kek`; nonces and the DEK come from `rng`.
EnvelopeResult<Bytes> seal_package(const KeyEncryptionKey& kek, std::string_view iccid, ByteView upp,
                                   crypto::Random& rng);
/// The package `stored` holds for profile `iccid`: an envelope opened with
/// `kek` (NoKey when null, OtherKey when it names another KEK, Tampered when
/// a tag does not verify), or a package in clear as it is.
EnvelopeResult<Bytes> open_package(const KeyEncryptionKey* kek, std::string_view iccid, ByteView stored);
/// `stored` under `to`: an envelope's DEK is unwrapped with `from` and
/// wrapped again with `to` under a new nonce, its package ciphertext kept; a
/// package in clear is sealed under `to`. The errors of open_package().
EnvelopeResult<Bytes> rewrap_package(const KeyEncryptionKey* from, const KeyEncryptionKey& to, std::string_view iccid,
                                     ByteView stored, crypto::Random& rng);

}  // namespace rsp::service
