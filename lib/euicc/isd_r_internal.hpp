#pragma once
// Helpers shared by the ISD-R's source files (not installed).

#include <cstdint>
#include <optional>

#include "rsp/asn1/runtime.hpp"
#include "rsp/asn1/sgp22.hpp"
#include "rsp/crypto/bsp.hpp"
#include "bpp_stream.hpp"
#include "rsp/apdu/status_words.hpp"
#include "rsp/euicc/store.hpp"

namespace rsp::euicc {

/// The status words of the card layer (one table: rsp/apdu/status_words.hpp).
namespace sw = apdu::sw;

}  // namespace rsp::euicc

namespace rsp::euicc::detail {

/// Free non-volatile memory this card announces in EUICCInfo2
/// extCardResource (§5.7.8) and enforces on profile data: 500,000 bytes.
inline constexpr std::uint32_t kFreeProfileMemory = 0x07A120;

/// undefinedError, the same value in every ES10 result code list (SGP.22 §5.7).
inline constexpr std::int64_t kUndefinedError = 127;

/// Decodes one ES10 command; DER as SGP.22 §5.7 requires for signed data,
/// BER tolerated for the rest (LPAs send definite DER in practice).
template <class T>
std::optional<T> decode_command(ByteView command) {
  asn1::DecodeOptions o;
  o.mode = tlv::Mode::Ber;
  o.max_memory = std::size_t{1} << 20;
  auto v = asn1::decode<T>(command, o);
  if (!v) return std::nullopt;
  return std::move(*v);
}

/// The shape of every ES10 handler that works on the card state: the
/// command decoded (6A80 when it is not one), the state loaded by `load`,
/// then either `on_unreadable(response)` (the function's undefinedError) when
/// the folder cannot be read, or `body(request, state, response)`.
template <class Request, class Response, class Load, class OnUnreadable, class Body>
expected<Bytes, std::uint16_t> with_state(Load load, ByteView command, OnUnreadable on_unreadable, Body body) {
  auto req = decode_command<Request>(command);
  if (!req) return unexpected(sw::kWrongData);
  Response r;
  if (auto s = load()) {
    body(*req, *s, r);
  } else {
    on_unreadable(r);
  }
  return asn1::encode(r);
}

/// The same for responses whose result is one INTEGER field, where
/// undefinedError is 127 in every ES10 response of SGP.22 §5.7.
template <class Request, class Response, class Load, class Body>
expected<Bytes, std::uint16_t> with_state(Load load, ByteView command, std::int64_t Response::*result, Body body) {
  return with_state<Request, Response>(
      load, command, [result](Response& r) { r.*result = kUndefinedError; }, body);
}

/// A LoadBoundProfilePackage in progress (isd_r_load.cpp); RAM only.
struct BppLoad {
  /// The largest segment taken: SGP.22's 1020 bytes, or kLenientMaxSegment on
  /// a card made with lenient segments.
  std::size_t max_segment = BppStream::kSgp22MaxSegment;
  BppStream stream;
  Bytes transaction_id;
  std::optional<crypto::BspSession> bsp;
  std::int64_t command = asn1::sgp22::BppCommandId_values::initialiseSecureChannel;
  Bytes plain;  ///< plaintext of the sequence being received (A0, A1, A2)
  std::optional<asn1::sgp22::StoreMetadataRequest> metadata;
  Bytes profile;  ///< decrypted profile data ('86' segments)
};

/// The ProfileInfo (SGP.22 §5.7.15) of a stored profile, every field present.
asn1::sgp22::ProfileInfo to_profile_info(const ProfileRecord& p);

/// PprIds bits (SGP.22 §2.4a.1.1) <-> our mask (bit 1 PPR1, bit 2 PPR2).
std::uint8_t ppr_mask(const asn1::BitString& bits);
asn1::BitString ppr_bits(std::uint8_t mask);

/// EUICCInfo2 (SGP.22 §5.7.8) of this card in `state`; nullopt without an identity.
std::optional<asn1::sgp22::EUICCInfo2> make_euicc_info2(const EuiccState& state, const Identity* identity);

/// NotificationEvent BIT STRING with one bit set.
asn1::BitString event_bits(NotificationEvent e);

}  // namespace rsp::euicc::detail
