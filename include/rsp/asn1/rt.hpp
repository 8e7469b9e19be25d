#pragma once
/// The generic runtime the generated codecs call: element navigation with
/// "Type.field" error contexts, and the X.690 §8 primitive encodings
/// (INTEGER minimal two's complement, BOOLEAN, BIT STRING, OID arcs, ...).
/// Not meant for direct use; use Codec<T>, encode() and decode<T>().

#include <algorithm>
#include <initializer_list>
#include <vector>

#include "rsp/asn1/runtime.hpp"

namespace rsp::asn1::rt {

// Navigation. Every error carries `ctx` as its context.
tlv::Result<tlv::Tlv> next(tlv::Reader& r, const char* ctx);  ///< MissingElement at the end
tlv::Result<tlv::Tlv> expect(tlv::Reader& r, tlv::Tag tag, const char* ctx);
tlv::Result<std::optional<tlv::Tag>> peek(const tlv::Reader& r, const char* ctx);
tlv::Result<tlv::Reader> enter(const tlv::Reader& r, const tlv::Tlv& e, const char* ctx);
tlv::Result<void> finish(const tlv::Reader& r, const char* ctx);
/// After the known members of a SEQUENCE/SET: skips what is left when the type
/// is extensible (counting it as unknown), TrailingBytes otherwise.
tlv::Result<void> end_members(tlv::Reader& r, Ctx& c, bool extensible, const char* ctx);
tlv::Result<void> unexpected_tag(const tlv::Tlv& e, const char* ctx);
/// SIZE constraint check (X.680 §51.5); InvalidValue outside [lo, hi].
/// DER SET OF components are in ascending order of their encodings (X.690
/// §11.6); checked only when `r` reads DER.
tlv::Result<void> check_set_order(const tlv::Reader& r, const tlv::Tlv& set, const char* ctx);
tlv::Result<void> check_size(std::size_t n, std::size_t lo, std::size_t hi, const tlv::Tlv& e,
                             const char* ctx);

// Primitive values (X.690 §8.2 - §8.23).
void put_bool(tlv::Writer& w, tlv::Tag tag, bool v);
tlv::Result<void> get_bool(const tlv::Tlv& e, bool& v, const char* ctx);
void put_int(tlv::Writer& w, tlv::Tag tag, std::int64_t v);
tlv::Result<void> get_int(const tlv::Tlv& e, std::int64_t& v, const char* ctx);
void put_big(tlv::Writer& w, tlv::Tag tag, const BigInt& v);
tlv::Result<void> get_big(const tlv::Tlv& e, BigInt& v, const char* ctx);
void put_bits(tlv::Writer& w, tlv::Tag tag, const BitString& v);
tlv::Result<void> get_bits(const tlv::Tlv& e, BitString& v, const char* ctx);
void put_octets(tlv::Writer& w, tlv::Tag tag, const Bytes& v);
tlv::Result<void> get_octets(const tlv::Tlv& e, Bytes& v, const char* ctx);
void put_null(tlv::Writer& w, tlv::Tag tag, const Null& v);
tlv::Result<void> get_null(const tlv::Tlv& e, Null& v, const char* ctx);
void put_oid(tlv::Writer& w, tlv::Tag tag, const Oid& v);
tlv::Result<void> get_oid(const tlv::Tlv& e, Oid& v, const char* ctx);
void put_string(tlv::Writer& w, tlv::Tag tag, const std::string& v);
tlv::Result<void> get_string(const tlv::Tlv& e, std::string& v, const char* ctx);
void put_raw(tlv::Writer& w, const RawElement& v);
RawElement raw_of(const tlv::Tlv& e);
/// An opaque element under an IMPLICIT tag: written with `tag` in place of its
/// own, and read back with its own tag `natural` restored.
void put_raw_as(tlv::Writer& w, tlv::Tag tag, const RawElement& v);
RawElement raw_as(const tlv::Tlv& e, tlv::Tag natural);
/// Writes SET OF components in DER order (X.690 §11.6).
void put_sorted(tlv::Writer& w, std::vector<Bytes>& parts);

// JSON forms.
struct NamedValue {
  const char* name;
  std::int64_t value;
};
Json json_hex(const Bytes& v);
Json json_string(const std::string& v);
Json json_big(const BigInt& v);
Json json_raw(const RawElement& v);
Json json_enum(std::int64_t v, std::initializer_list<NamedValue> names);
/// Named bits: the list of names of the bits set; otherwise hex and unused bits.
Json json_bits(const BitString& v, std::initializer_list<NamedValue> names);
template <class T, class F>
Json json_array(const std::vector<T>& v, F&& f) {
  Json a = Json::array();
  for (const auto& item : v) a.push_back(f(item));
  return a;
}

/// One decode by type name: a reader over the whole input and its context.
class Session {
 public:
  Session(ByteView in, const DecodeOptions& o) : reader(in, o.mode, o.limits), ctx(o) {}
  /// TrailingBytes unless the input is used up; reports what was skipped.
  tlv::Result<void> finish(const char* type, DecodeStats* stats) const;

  tlv::Reader reader;
  Ctx ctx;
};

}  // namespace rsp::asn1::rt
