#pragma once
/// Internal to ota: walking the one-octet-tag, definite-length TLVs inside a
/// template (TS 102 226 §5.2 scripts, the Amendment B trigger) with the tlv
/// reader in BER mode, and mapping its errors to OtaError.

#include <cstdint>
#include <string>

#include "rsp/ota/error.hpp"
#include "rsp/tlv/tlv.hpp"

namespace rsp::ota::detail {

/// A one-octet tag as the tlv writer names it.
inline tlv::Tag tag_of(std::uint8_t raw) { return tlv::Tag::from_raw(raw).value_or(tlv::Tag{}); }

inline unexpected<OtaError> tlv_fail(const tlv::Error& e, const char* what) {
  return ota_fail(e.code == tlv::ErrorCode::Truncated ? OtaErrorCode::Truncated : OtaErrorCode::InvalidValue,
                  std::string(what) + ": " + e.to_string());
}

/// Calls f(tag, value) for each TLV of `contents`; refuses long tags and
/// indefinite lengths.
template <class F>
OtaResult<void> for_each_item(ByteView contents, const char* what, F&& f) {
  tlv::Reader r(contents, tlv::Mode::Ber);
  while (!r.empty()) {
    auto item = r.next();
    if (!item) return tlv_fail(item.error(), what);
    const std::uint32_t raw = item->tag.raw();
    if (item->indefinite || raw > 0xFF)
      return ota_fail(OtaErrorCode::InvalidValue, std::string(what) + ": indefinite length or long tag inside");
    RSP_TRY_VOID(f(static_cast<std::uint8_t>(raw), item->value));
  }
  return {};
}

}  // namespace rsp::ota::detail
