#pragma once
/// SGP.22 BPP protection (BSP, formerly "SCP03t"): session key derivation from
/// the ECKA shared secret (SGP.22 §2.6.4.2) and protection of the Bound Profile
/// Package TLVs (SGP.22 §2.6.4.3 / §2.6.4.4, §2.5.3 segmentation):
///   - encryption: AES-128-CBC over data padded with '80' '00'.., the ICV being
///     AES(S-ENC, block counter as a 16-byte big-endian block);
///   - MAC: CMAC(S-MAC, MCV || tag || length || payload); the full CMAC becomes
///     the next MCV and its 8 most significant bytes are appended;
///   - the block counter starts at 1 and advances once per segment, MAC-only
///     segments included.
/// A sender (SM-DP+) and a receiver (eUICC) each hold a BspSession; both wipe
/// their keys on destruction.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/aes.hpp"
#include "rsp/crypto/ec_key.hpp"

namespace rsp::crypto {

/// Largest protected segment, tag, length and MAC included (SGP.22 §2.5.3).
inline constexpr std::size_t kBspMaxSegment = 1020;
inline constexpr std::size_t kBspMacSize = 8;
/// Largest payload (ciphertext or MAC-only data) that fits a segment: 1020 - 1 - 3 - 8.
inline constexpr std::size_t kBspMaxPayload = 1008;
/// Largest plaintext that encrypts into one segment (padding adds 1..16 bytes).
inline constexpr std::size_t kBspMaxPlaintext = kBspMaxPayload - 1;

/// SGP.22 §2.6.4.2 key type / length for AES-128 (controlRefTemplate).
inline constexpr std::uint8_t kBspKeyTypeAes = 0x88;
inline constexpr std::uint8_t kBspKeyLength128 = 0x10;

/// S-ENC, S-MAC and the initial MAC chaining value (16 bytes each).
struct BspKeys {
  Bytes s_enc;
  Bytes s_mac;
  Bytes initial_mcv;

  BspKeys() = default;
  BspKeys(Bytes enc, Bytes mac, Bytes mcv)
      : s_enc(std::move(enc)), s_mac(std::move(mac)), initial_mcv(std::move(mcv)) {}
  BspKeys(const BspKeys&) = default;
  BspKeys& operator=(const BspKeys&) = default;
  BspKeys(BspKeys&&) noexcept = default;
  BspKeys& operator=(BspKeys&&) noexcept = default;
  ~BspKeys();
};

/// SharedInfo = keyType || keyLength || L(hostId) || hostId || L(EID) || EID, with
/// BER length octets (SGP.22 §2.6.4.2; hostId is the controlRefTemplate hostId).
Bytes bsp_shared_info(std::uint8_t key_type, std::uint8_t key_length, ByteView host_id,
                      ByteView eid);

/// KeyData = X9.63-KDF-SHA256(ShS, SharedInfo, 48 bytes) split as
/// initial MCV || S-ENC || S-MAC.
CryptoResult<BspKeys> derive_bsp_keys(ByteView shared_secret, ByteView host_id, ByteView eid,
                                      std::uint8_t key_type = kBspKeyTypeAes,
                                      std::uint8_t key_length = kBspKeyLength128);

/// One direction of a BSP channel. Each call handles one segment (one TLV).
/// Failed calls leave the session state (counter, MCV) unchanged.
class BspSession {
 public:
  explicit BspSession(BspKeys keys);
  BspSession(const BspSession&) = delete;
  BspSession& operator=(const BspSession&) = delete;
  BspSession(BspSession&&) noexcept = default;
  BspSession& operator=(BspSession&&) noexcept = default;
  ~BspSession();

  /// tag || L || AES-CBC(pad(plaintext)) || MAC; plaintext up to kBspMaxPlaintext.
  CryptoResult<Bytes> encrypt_and_mac(std::uint8_t tag, ByteView plaintext);
  /// tag || L || plaintext || MAC; plaintext up to kBspMaxPayload.
  CryptoResult<Bytes> mac_only(std::uint8_t tag, ByteView plaintext);
  /// Splits `data` into as many encrypted segments as needed.
  CryptoResult<std::vector<Bytes>> encrypt_and_mac_segments(std::uint8_t tag, ByteView data);

  /// Checks the segment's tag, length and MAC (constant-time), then decrypts
  /// and strips the padding. Errors: InvalidInput (malformed TLV, wrong tag or
  /// size), MacMismatch, InvalidPadding.
  CryptoResult<Bytes> verify_and_decrypt(std::uint8_t expected_tag, ByteView segment);
  /// Checks a MAC-only segment and returns its data.
  CryptoResult<Bytes> verify_mac_only(std::uint8_t expected_tag, ByteView segment);

  /// ES8+.ReplaceSessionKeys (SGP.22 §5.5.4; PPK-ENC, PPK-MAC, initial MCV): new
  /// keys, MCV reset to the new initial value and the block counter to 1.
  void replace_keys(BspKeys keys);

  std::uint64_t block_counter() const { return counter_; }

  /// The largest segment, tag, length and MAC included, this session takes
  /// and makes; kBspMaxSegment (SGP.22 v2.2.2 §2.5.3) unless raised for a
  /// card that accepts the segments some servers overshoot with. Never below
  /// kBspMaxSegment, never above 65535 + 4.
  void set_max_segment(std::size_t bytes);
  std::size_t max_segment() const { return max_segment_; }

 private:
  /// S-ENC and S-MAC made ready at first use (a key of the wrong length is
  /// reported there, by the operation that needs it).
  CryptoResult<AesKey*> key(std::optional<AesKey>& slot, const Bytes& material);
  CryptoResult<Bytes> mac_over(ByteView header, ByteView payload);
  BspKeys keys_;
  std::optional<AesKey> enc_;
  std::optional<AesKey> mac_;
  Bytes mcv_;
  std::uint64_t counter_ = 1;
  std::size_t max_segment_ = kBspMaxSegment;
};

}  // namespace rsp::crypto
