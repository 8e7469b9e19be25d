#pragma once
/// The card side of a GlobalPlatform Secure Channel Protocol '03' session
/// (GP Card Spec v2.3 §10, Amendment D): INITIALIZE UPDATE opens it with the
/// selected application's static keys, EXTERNAL AUTHENTICATE authenticates
/// the host and sets the security level, then every command under secure
/// messaging (CLA 84) is checked (C-MAC), deciphered (C-DECRYPTION) and its
/// answer protected (R-MAC, R-ENCRYPTION) per that level. The MAC chaining,
/// the counters and the cryptography are crypto::Scp03Card's.
///
/// A session lives on one logical channel (the basic one: S8 mode, short
/// APDUs) and ends when the channel's application is deselected, when the
/// card resets, and after any failed verification.

#include <cstdint>
#include <optional>

#include "rsp/apdu/command.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/crypto/scp03.hpp"

namespace rsp::card {

/// An application's SCP03 key set (Amendment D §4.1.1): a key version
/// number, the static K-ENC and K-MAC, and what INITIALIZE UPDATE announces.
struct Scp03KeySet {
  std::uint8_t key_version = 0x30;
  crypto::Scp03StaticKeys keys;
  Bytes diversification_data = Bytes(10, 0x00);  ///< 10 bytes, returned as they are
  std::uint8_t i_parameter = 0x70;               ///< Amendment D "i" (as the public traces use)
};

/// INS bytes of the secure channel commands (GP Card Spec v2.3 §11.8, §11.11 table 11-1).
inline constexpr std::uint8_t kInsInitializeUpdate = 0x50;
inline constexpr std::uint8_t kInsExternalAuthenticate = 0x82;

class Scp03Session {
 public:
  /// INITIALIZE UPDATE (Amendment D §7.1.1): P2 00, data the 8-byte host
  /// challenge. Answers 6700 for another length, 6A86 for P2 other than 00.
  static expected<Scp03Session, std::uint16_t> initialize_update(const Scp03KeySet& key_set,
                                                                const apdu::Command& command,
                                                                ByteView card_challenge,
                                                                std::uint32_t sequence_counter);

  /// The INITIALIZE UPDATE response data: diversification data (10), key
  /// information (version, 03, i), card challenge (8), card cryptogram (8),
  /// sequence counter (3).
  const Bytes& initialize_update_response() const { return response_; }

  /// EXTERNAL AUTHENTICATE (Amendment D §7.1.2), the raw command APDU:
  /// 6300 when the host cryptogram or its C-MAC does not verify, 6A86 for a
  /// security level Amendment D does not define, 6700 when malformed.
  expected<void, std::uint16_t> external_authenticate(ByteView apdu);

  bool authenticated() const { return authenticated_; }
  /// The level set by EXTERNAL AUTHENTICATE (crypto::scp03_level bits).
  std::uint8_t level() const { return card_.security_level(); }

  /// Verifies and deciphers one command under secure messaging; returns the
  /// plain command APDU. 6982 when its C-MAC does not verify (a tampered or
  /// replayed command: the MAC chaining value has moved on).
  expected<Bytes, std::uint16_t> unwrap(ByteView apdu);

  /// Protects response data per the level (R-ENCRYPTION, then R-MAC).
  expected<Bytes, std::uint16_t> wrap(ByteView data, std::uint16_t sw);

 private:
  Scp03Session(crypto::Scp03Card card, Bytes response) : card_(std::move(card)), response_(std::move(response)) {}

  crypto::Scp03Card card_;
  Bytes response_;
  bool authenticated_ = false;
};

}  // namespace rsp::card
