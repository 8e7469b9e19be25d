#include "rsp/service/package_envelope.hpp"

#include <algorithm>
#include <array>

#include "rsp/crypto/aes_gcm.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/crypto/sha256.hpp"

namespace rsp::service {

namespace {

using Kind = EnvelopeError::Kind;

constexpr std::array<std::uint8_t, 4> kMagic = {'R', 'S', 'P', 'E'};
constexpr std::uint8_t kVersion = 0x01;
constexpr std::size_t kDekSize = 32;
// Offsets of the version 1 layout (package_envelope.hpp).
constexpr std::size_t kIdAt = kMagic.size() + 1;
constexpr std::size_t kDekNonceAt = kIdAt + KeyEncryptionKey::kIdSize;
constexpr std::size_t kWrappedAt = kDekNonceAt + crypto::kGcmNonceSize;
constexpr std::size_t kWrappedSize = kDekSize + crypto::kGcmTagSize;
constexpr std::size_t kNonceAt = kWrappedAt + kWrappedSize;
constexpr std::size_t kPackageAt = kNonceAt + crypto::kGcmNonceSize;
constexpr std::uint8_t kSaipHeaderTag = 0xA0;  ///< a package in clear starts with its ProfileHeader

/// What each seal is for, in its additional data.
enum class Purpose : std::uint8_t { DataKey = 'K', Package = 'P' };

/// marker | version | purpose | ICCID digits.
Bytes aad(Purpose purpose, std::string_view iccid) {
  Bytes out(kMagic.begin(), kMagic.end());
  out.push_back(kVersion);
  out.push_back(static_cast<std::uint8_t>(purpose));
  out.insert(out.end(), iccid.begin(), iccid.end());
  return out;
}

unexpected<EnvelopeError> envelope_error(Kind kind, std::string message) {
  return unexpected(EnvelopeError{kind, std::move(message)});
}

std::string profile(std::string_view iccid) { return "profile package of ICCID " + std::string(iccid); }

unexpected<EnvelopeError> tampered(std::string_view iccid) {
  return envelope_error(Kind::Tampered, profile(iccid) + " does not open: its stored envelope was changed, or "
                                                        "belongs to another profile");
}

/// Checks an envelope's shape and key, then unwraps its DEK with `kek`.
EnvelopeResult<Bytes> unwrap(const KeyEncryptionKey* kek, ByteView kek_key, std::string_view iccid, ByteView stored) {
  if (stored.size() < kPackageAt + crypto::kGcmTagSize)
    return envelope_error(Kind::Malformed, profile(iccid) + ": stored envelope is too short");
  if (stored[kMagic.size()] != kVersion)
    return envelope_error(Kind::Malformed, profile(iccid) + ": stored envelope has unknown format version " +
                                               std::to_string(stored[kMagic.size()]));
  const std::string stored_id = to_hex(stored.subspan(kIdAt, KeyEncryptionKey::kIdSize));
  if (!kek)
    return envelope_error(Kind::NoKey, profile(iccid) + " is encrypted (key-encryption key id " + stored_id +
                                           ") and no key-encryption key was given");
  if (!std::equal(kek->id().begin(), kek->id().end(), stored.begin() + kIdAt))
    return envelope_error(Kind::OtherKey, profile(iccid) + " is encrypted under key-encryption key id " + stored_id +
                                              ", not under the given one (id " + kek->id_hex() + ")");
  auto dek = crypto::aes_gcm_open(kek_key, stored.subspan(kDekNonceAt, crypto::kGcmNonceSize),
                                  aad(Purpose::DataKey, iccid), stored.subspan(kWrappedAt, kWrappedSize));
  if (!dek) {
    if (dek.error().code == crypto::CryptoError::Code::MacMismatch) return tampered(iccid);
    return envelope_error(Kind::Internal, profile(iccid) + ": " + dek.error().message);
  }
  return std::move(*dek);
}

/// The package of an envelope, opened with its unwrapped DEK.
EnvelopeResult<Bytes> open_with(const Bytes& dek, std::string_view iccid, ByteView stored) {
  auto upp = crypto::aes_gcm_open(dek, stored.subspan(kNonceAt, crypto::kGcmNonceSize), aad(Purpose::Package, iccid),
                                  stored.subspan(kPackageAt));
  if (!upp) {
    if (upp.error().code == crypto::CryptoError::Code::MacMismatch) return tampered(iccid);
    return envelope_error(Kind::Internal, profile(iccid) + ": " + upp.error().message);
  }
  return std::move(*upp);
}

/// marker | version | KEK id | a new nonce and `dek` wrapped under `kek`.
EnvelopeResult<Bytes> envelope_head(ByteView kek_key, const Bytes& kek_id, std::string_view iccid, ByteView dek,
                                    ByteView nonce) {
  auto wrapped = crypto::aes_gcm_seal(kek_key, nonce, aad(Purpose::DataKey, iccid), dek);
  if (!wrapped) return envelope_error(Kind::Internal, profile(iccid) + ": " + wrapped.error().message);
  Bytes out(kMagic.begin(), kMagic.end());
  out.push_back(kVersion);
  out.insert(out.end(), kek_id.begin(), kek_id.end());
  out.insert(out.end(), nonce.begin(), nonce.end());
  out.insert(out.end(), wrapped->begin(), wrapped->end());
  return out;
}

}  // namespace

EnvelopeResult<KeyEncryptionKey> KeyEncryptionKey::make(ByteView key) {
  if (key.size() != kSize) return envelope_error(Kind::Internal, "a key-encryption key is 32 bytes");
  KeyEncryptionKey k;
  k.key_.assign(key.begin(), key.end());
  // The label predates the move to the service kit; a changed label would rename every existing key.
  static constexpr std::string_view kLabel = "rsp smdpp key-encryption key id";
  Bytes labelled(kLabel.begin(), kLabel.end());
  labelled.insert(labelled.end(), key.begin(), key.end());
  Bytes digest = crypto::sha256(labelled);
  wipe(labelled);
  if (digest.size() < kIdSize) return envelope_error(Kind::Internal, "SHA-256 failed");
  k.id_.assign(digest.begin(), digest.begin() + kIdSize);
  return k;
}

KeyEncryptionKey::~KeyEncryptionKey() { wipe(key_); }

std::string KeyEncryptionKey::id_hex() const { return to_hex(id_); }

bool is_sealed_package(ByteView stored) {
  return stored.size() >= kMagic.size() && std::equal(kMagic.begin(), kMagic.end(), stored.begin());
}

std::optional<Bytes> sealed_kek_id(ByteView stored) {
  if (!is_sealed_package(stored) || stored.size() < kPackageAt || stored[kMagic.size()] != kVersion)
    return std::nullopt;
  return Bytes(stored.begin() + kIdAt, stored.begin() + kIdAt + KeyEncryptionKey::kIdSize);
}

EnvelopeResult<Bytes> seal_package(const KeyEncryptionKey& kek, std::string_view iccid, ByteView upp,
                                   crypto::Random& rng) {
  // The data key and both nonces in one draw: each draw from the system
  // generator costs a system call (its fork check) on top of the generation,
  // and the SM-DP+ seals a one-time key on every download.
  Bytes fresh = rng.bytes(kDekSize + 2 * crypto::kGcmNonceSize);
  const ByteView dek = ByteView(fresh).first(kDekSize);
  const ByteView nonce = ByteView(fresh).last(crypto::kGcmNonceSize);
  auto out = envelope_head(kek.key_, kek.id_, iccid, dek, ByteView(fresh).subspan(kDekSize, crypto::kGcmNonceSize));
  auto sealed = crypto::aes_gcm_seal(dek, nonce, aad(Purpose::Package, iccid), upp);
  if (out && sealed) {
    out->insert(out->end(), nonce.begin(), nonce.end());
    out->insert(out->end(), sealed->begin(), sealed->end());
  }
  wipe(fresh);  // the nonce is in `out` by now
  if (!out) return out;
  if (!sealed) return envelope_error(Kind::Internal, profile(iccid) + ": " + sealed.error().message);
  return out;
}

EnvelopeResult<Bytes> open_package(const KeyEncryptionKey* kek, std::string_view iccid, ByteView stored) {
  if (!is_sealed_package(stored)) {
    if (!stored.empty() && stored.front() == kSaipHeaderTag) return Bytes(stored.begin(), stored.end());
    return envelope_error(Kind::Malformed, profile(iccid) + " is neither an envelope nor a SAIP package");
  }
  RSP_TRY(Bytes dek, unwrap(kek, kek ? ByteView(kek->key_) : ByteView(), iccid, stored));
  auto upp = open_with(dek, iccid, stored);
  wipe(dek);
  return upp;
}

EnvelopeResult<Bytes> rewrap_package(const KeyEncryptionKey* from, const KeyEncryptionKey& to, std::string_view iccid,
                                     ByteView stored, crypto::Random& rng) {
  if (!is_sealed_package(stored)) {
    RSP_TRY(Bytes upp, open_package(from, iccid, stored));  // in clear, or malformed
    auto sealed = seal_package(to, iccid, upp, rng);
    wipe(upp);
    return sealed;
  }
  RSP_TRY(Bytes dek, unwrap(from, from ? ByteView(from->key_) : ByteView(), iccid, stored));
  // The package must open too: a changed row is found now, not at its download.
  auto upp = open_with(dek, iccid, stored);
  if (!upp) {
    wipe(dek);
    return unexpected(upp.error());
  }
  wipe(*upp);
  auto out = envelope_head(to.key_, to.id_, iccid, dek, rng.bytes(crypto::kGcmNonceSize));
  wipe(dek);
  if (!out) return out;
  out->insert(out->end(), stored.begin() + kNonceAt, stored.end());
  return out;
}

}  // namespace rsp::service
