#pragma once
/// GlobalPlatform Secure Channel Protocol '03' (GPC Amendment D) in S8 mode:
/// session keys and cryptograms from the SP 800-108 CMAC KDF (§6.2.1, §6.2.2),
/// C-MAC with chaining (§6.2.4), C-DECRYPTION with the counter-derived ICV
/// (§6.2.6), R-MAC (§6.2.5) and R-ENCRYPTION (§6.2.7). Short APDUs only.
/// `Scp03Host` is the off-card entity (SM-SR, test tools); `Scp03Card` the
/// security domain side (simulated eUICC). Session keys are wiped on destruction.

#include <cstdint>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/ec_key.hpp"

namespace rsp::crypto {

/// Derivation constants (Amendment D table 6-1).
enum class Scp03Constant : std::uint8_t {
  CardCryptogram = 0x00,
  HostCryptogram = 0x01,
  CardChallenge = 0x02,
  SEnc = 0x04,
  SMac = 0x06,
  SRmac = 0x07,
};

/// Security level bits of EXTERNAL AUTHENTICATE P1 (GPC §11.8.2.1).
namespace scp03_level {
inline constexpr std::uint8_t kCMac = 0x01;
inline constexpr std::uint8_t kCDecryption = 0x02;
inline constexpr std::uint8_t kRMac = 0x10;
inline constexpr std::uint8_t kREncryption = 0x20;
}  // namespace scp03_level

/// Static keys of a key version (AES-128/192/256, same length).
struct Scp03StaticKeys {
  Bytes enc;
  Bytes mac;
  ~Scp03StaticKeys();
};

struct Scp03SessionKeys {
  Bytes s_enc;
  Bytes s_mac;
  Bytes s_rmac;
  Scp03SessionKeys() = default;
  Scp03SessionKeys(const Scp03SessionKeys&) = default;
  Scp03SessionKeys& operator=(const Scp03SessionKeys&) = default;
  Scp03SessionKeys(Scp03SessionKeys&&) noexcept = default;
  Scp03SessionKeys& operator=(Scp03SessionKeys&&) noexcept = default;
  ~Scp03SessionKeys();
};

/// S-ENC, S-MAC, S-RMAC from the static keys and the 8-byte challenges.
CryptoResult<Scp03SessionKeys> derive_scp03_session_keys(const Scp03StaticKeys& keys,
                                                         ByteView host_challenge,
                                                         ByteView card_challenge);
/// 8-byte card or host cryptogram (KDF over S-MAC, context host || card challenge).
CryptoResult<Bytes> scp03_cryptogram(ByteView s_mac, Scp03Constant which, ByteView host_challenge,
                                     ByteView card_challenge);

/// State shared by both ends: keys, MAC chaining value, encryption counter.
class Scp03Channel {
 public:
  std::uint8_t security_level() const { return level_; }
  std::uint32_t encryption_counter() const { return counter_; }

 protected:
  Scp03Channel(Scp03SessionKeys keys, std::uint8_t level)
      : keys_(std::move(keys)), mcv_(16, 0), level_(level) {}
  ~Scp03Channel();
  Scp03Channel(Scp03Channel&&) noexcept = default;
  Scp03Channel& operator=(Scp03Channel&&) noexcept = default;

  CryptoResult<Bytes> command_mac(ByteView header_with_lc, ByteView data) const;
  CryptoResult<Bytes> response_mac(ByteView data, std::uint16_t sw) const;
  CryptoResult<Bytes> icv(bool response) const;

  Scp03SessionKeys keys_;
  Bytes mcv_;
  std::uint8_t level_;
  std::uint32_t counter_ = 1;          ///< counter for the next command
  std::uint32_t response_counter_ = 0;  ///< counter of the command being answered
};

class Scp03Host : public Scp03Channel {
 public:
  /// Derives the session from INITIALIZE UPDATE and checks the card cryptogram
  /// (MacMismatch when it is wrong).
  static CryptoResult<Scp03Host> establish(const Scp03StaticKeys& keys, ByteView host_challenge,
                                           ByteView card_challenge, ByteView card_cryptogram,
                                           std::uint8_t security_level);
  /// EXTERNAL AUTHENTICATE: 84 82 level 00 10 || host cryptogram || C-MAC.
  CryptoResult<Bytes> external_authenticate();
  /// Protects a short command APDU (case 1-4) at the session's level.
  CryptoResult<Bytes> wrap_command(ByteView apdu);
  /// Checks the R-MAC and decrypts response data (without SW) per the level.
  CryptoResult<Bytes> unwrap_response(ByteView response_data, std::uint16_t sw);

 private:
  Scp03Host(Scp03SessionKeys keys, std::uint8_t level, Bytes host_cryptogram)
      : Scp03Channel(std::move(keys), level), host_cryptogram_(std::move(host_cryptogram)) {}
  Bytes host_cryptogram_;
  bool authenticated_ = false;
};

class Scp03Card : public Scp03Channel {
 public:
  /// Card side after INITIALIZE UPDATE; `card_cryptogram()` goes in the response.
  static CryptoResult<Scp03Card> establish(const Scp03StaticKeys& keys, ByteView host_challenge,
                                           ByteView card_challenge);
  const Bytes& card_cryptogram() const { return card_cryptogram_; }
  /// Verifies EXTERNAL AUTHENTICATE (host cryptogram and C-MAC) and adopts its level.
  CryptoResult<void> verify_external_authenticate(ByteView apdu);
  /// Verifies the C-MAC and decrypts the data; returns the plain APDU (CLA
  /// without the secure-messaging bit, Le kept).
  CryptoResult<Bytes> unwrap_command(ByteView apdu);
  /// Encrypts the response data and appends the R-MAC per the level.
  CryptoResult<Bytes> wrap_response(ByteView response_data, std::uint16_t sw);

 private:
  Scp03Card(Scp03SessionKeys keys, Bytes card_cryptogram, Bytes host_cryptogram)
      : Scp03Channel(std::move(keys), 0),
        card_cryptogram_(std::move(card_cryptogram)),
        host_cryptogram_(std::move(host_cryptogram)) {}
  Bytes card_cryptogram_;
  Bytes host_cryptogram_;
  bool authenticated_ = false;
};

}  // namespace rsp::crypto
