#pragma once
/// Decoding without knowing the type up front, for `rsp asn1 decode`:
/// a SAIP profile package, an SGP.22 message recognised by its tag, or a
/// generic TLV tree.

#include <string>

#include "rsp/asn1/runtime.hpp"

namespace rsp::asn1 {

struct Inspection {
  std::string type;  ///< "ProfileElement*" | an SGP.22 type name | "TLV"
  Json value;
};

/// A concatenation of SAIP ProfileElement values (an unprotected profile
/// package, TCA eUICC Profile Package §2.2) as a JSON array.
tlv::Result<Json> decode_profile_elements(ByteView in, const DecodeOptions& options = {});
/// Any BER-TLV input as a tree of {tag, value|children}.
tlv::Result<Json> tlv_tree(ByteView in, const DecodeOptions& options = {});
/// Decodes by a registered type name ("EUICCInfo2" or "sgp22.EUICCInfo2").
tlv::Result<Json> decode_named(std::string_view type, ByteView in, const DecodeOptions& options = {});
/// Picks the interpretation: SAIP profile elements; else the SGP.22 types
/// whose outer tag is the first tag of the input (the one decoding with the
/// fewest unknown elements wins); else a TLV tree.
tlv::Result<Inspection> inspect(ByteView in, const DecodeOptions& options = {});

}  // namespace rsp::asn1
