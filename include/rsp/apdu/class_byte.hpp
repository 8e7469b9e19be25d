#pragma once
/// The class byte (CLA) of a command: ISO/IEC 7816-4 §5.4.1 interindustry
/// classes and the GlobalPlatform proprietary classes (GP Card Spec v2.3
/// §11.1.4), decoded into logical channel, secure messaging and chaining.

#include <cstdint>
#include <optional>

namespace rsp::apdu {

/// A decoded class byte.
struct ClassByte {
  bool proprietary = false;     ///< b8 = 1: GlobalPlatform 80-8F, C0-CF, E0-EF
  std::uint8_t channel = 0;     ///< logical channel 0..19
  bool secure_messaging = false;///< any SM indication (we support none)
  bool chaining = false;        ///< b5: command chaining, not the last command
};

/// Decodes CLA. Interindustry: 00-1F (first: b2-b1 channel 0-3, b4-b3 SM,
/// b5 chaining) and 40-7F (further: b4-b1 channel 4-19, b6 SM, b5 chaining).
/// Proprietary with the same layouts: 80-8F (first) and C0-CF/E0-EF
/// (further). Returns nullopt for RFU 20-3F, FF and other proprietary
/// classes (a card answers 6E00).
std::optional<ClassByte> decode_class(std::uint8_t cla);

/// The CLA that carries `channel` (0..19) without SM or chaining:
/// 00-03/40-4F, or with `proprietary` 80-83/C0-CF.
/// Channels above 19 are clamped to 19.
std::uint8_t class_for_channel(std::uint8_t channel, bool proprietary);

}  // namespace rsp::apdu
