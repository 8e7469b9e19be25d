#pragma once
/// The one table of status words (SW1 SW2) the card layer, the applications
/// it hosts and the LPA use: ISO/IEC 7816-4 §5.6 (Tables 5-6) and the
/// GlobalPlatform Card Specification v2.3 §11.1.3 additions.

#include <cstddef>
#include <cstdint>

namespace rsp::apdu::sw {

// --- normal processing ---
inline constexpr std::uint16_t kOk = 0x9000;
inline constexpr std::uint8_t kSw1BytesAvailable = 0x61;  ///< 61xx: xx more bytes (00: 256 or more)

// --- warnings (state of non-volatile memory unchanged / changed) ---
inline constexpr std::uint16_t kWarningNoInformation = 0x6200;
inline constexpr std::uint16_t kSelectedFileInvalidated = 0x6283;  ///< GP: application locked (SELECT)
inline constexpr std::uint16_t kVerificationFailed = 0x6300;       ///< GP: card cryptogram or MAC mismatch

// --- execution errors ---
inline constexpr std::uint16_t kMemoryFailure = 0x6581;

// --- checking errors ---
inline constexpr std::uint16_t kWrongLength = 0x6700;
inline constexpr std::uint16_t kLogicalChannelNotSupported = 0x6881;
inline constexpr std::uint16_t kSecureMessagingNotSupported = 0x6882;
inline constexpr std::uint16_t kCommandChainingNotSupported = 0x6884;
inline constexpr std::uint16_t kSecurityStatusNotSatisfied = 0x6982;
inline constexpr std::uint16_t kAuthenticationMethodBlocked = 0x6983;
inline constexpr std::uint16_t kReferenceDataNotUsable = 0x6984;
inline constexpr std::uint16_t kConditionsNotSatisfied = 0x6985;
inline constexpr std::uint16_t kCommandNotAllowed = 0x6986;  ///< e.g. no application selected
inline constexpr std::uint16_t kExpectedSmDataMissing = 0x6987;
inline constexpr std::uint16_t kIncorrectSmDataObjects = 0x6988;
inline constexpr std::uint16_t kWrongData = 0x6A80;
inline constexpr std::uint16_t kFunctionNotSupported = 0x6A81;
inline constexpr std::uint16_t kFileNotFound = 0x6A82;  ///< SELECT of an unknown AID
inline constexpr std::uint16_t kRecordNotFound = 0x6A83;
inline constexpr std::uint16_t kNotEnoughMemory = 0x6A84;
inline constexpr std::uint16_t kIncorrectP1P2 = 0x6A86;
inline constexpr std::uint16_t kReferencedDataNotFound = 0x6A88;
inline constexpr std::uint16_t kWrongP1P2 = 0x6B00;
inline constexpr std::uint8_t kSw1WrongLe = 0x6C;  ///< 6Cxx: resend with Le = xx
inline constexpr std::uint16_t kInsNotSupported = 0x6D00;
inline constexpr std::uint16_t kClaNotSupported = 0x6E00;
inline constexpr std::uint16_t kNoPreciseDiagnosis = 0x6F00;

/// 61xx telling the reader `remaining` bytes wait for GET RESPONSE
/// (xx = 00 when 256 or more remain).
inline constexpr std::uint16_t bytes_available(std::size_t remaining) {
  return static_cast<std::uint16_t>(0x6100 | (remaining >= 256 ? 0 : remaining));
}

}  // namespace rsp::apdu::sw
