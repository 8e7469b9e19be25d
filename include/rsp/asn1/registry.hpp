#pragma once
/// The generated type table: every named ASN.1 type of every module reachable
/// by name, for `rsp asn1 decode --type NAME`, the fuzzers and tests.

#include <optional>
#include <span>
#include <string_view>

#include "rsp/asn1/runtime.hpp"

namespace rsp::asn1 {

struct TypeEntry {
  const char* name;  ///< ASN.1 type name, e.g. "EUICCInfo2"
  const char* unit;  ///< "sgp22", "saip" or "pkix"
  std::optional<tlv::Tag> tag;  ///< outermost tag; nullopt for an untagged CHOICE or ANY
  /// Decodes exactly one value filling the input and returns its JSON form.
  tlv::Result<Json> (*to_json)(ByteView in, const DecodeOptions& options, DecodeStats* stats);
  /// Decodes then encodes again (DER).
  tlv::Result<Bytes> (*reencode)(ByteView in, const DecodeOptions& options);
};

/// Every type, unit by unit (sgp22, saip, pkix), in dependency order.
std::span<const TypeEntry> all_types();
/// By "Name" (first match) or "unit.Name"; nullptr if unknown.
const TypeEntry* find_type(std::string_view name);

namespace sgp22 {
std::span<const TypeEntry> types();
}
namespace saip {
std::span<const TypeEntry> types();
}
namespace pkix {
std::span<const TypeEntry> types();
}

}  // namespace rsp::asn1
