#pragma once
/// The well-known AIDs of an eUICC (SGP.22 §2.2.3, SGP.02 §2.2.1): the one
/// definition every layer (card, eUICC, LPA) uses.

#include <cstdint>

namespace rsp::card {

/// ISD-R: A0 00 00 05 59 10 10 FF FF FF FF 89 00 00 01 00.
inline constexpr std::uint8_t kIsdRAid[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
                                            0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00};
/// ECASD: A0 00 00 05 59 10 10 FF FF FF FF 89 00 00 02 00.
inline constexpr std::uint8_t kEcasdAid[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
                                             0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x02, 0x00};

}  // namespace rsp::card
