#pragma once
/// Value types and the generic entry points of the generated ASN.1 codecs.
/// Every generated SEQUENCE/SET/CHOICE type T (rsp::asn1::sgp22, saip, pkix)
/// has a Codec<T>; `encode(v)` gives DER (X.690 §10), `decode<T>(bytes)`
/// checks strict DER by default or tolerates BER (X.690 §8) when asked.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/tlv/tlv.hpp"

namespace rsp::asn1 {

/// JSON with members in ASN.1 definition order.
using Json = nlohmann::ordered_json;

/// NULL (X.690 §8.8).
struct Null {
  bool operator==(const Null&) const = default;
};

/// BIT STRING (X.690 §8.6): the contents as received, kept exactly so that
/// re-encoding gives the same bytes. Bit 0 is the most significant bit of
/// the first octet, as ASN.1 numbers named bits.
struct BitString {
  Bytes bytes;
  std::uint8_t unused_bits = 0;

  std::size_t bit_count() const { return bytes.size() * 8 - unused_bits; }
  bool test(std::size_t bit) const;
  /// A named-bit value in DER form (X.690 §11.2.2: no trailing zero bits).
  static BitString from_bits(std::initializer_list<std::size_t> bits);
  bool operator==(const BitString&) const = default;
};

/// OBJECT IDENTIFIER as its contents octets (X.690 §8.19).
struct Oid {
  Bytes content;

  /// "2.23.146.1.2.1.4" -> Oid; nullopt when not a valid OID.
  static std::optional<Oid> from_string(std::string_view dotted);
  /// The dotted form ("?" for contents that are not a valid OID).
  std::string to_string() const;
  bool operator==(const Oid&) const = default;
};

/// An INTEGER that may exceed 64 bits (certificate serial numbers): its
/// minimal two's complement contents octets (X.690 §8.3).
struct BigInt {
  Bytes bytes;
  bool operator==(const BigInt&) const = default;
};

/// A complete element kept exactly as received (identifier, length,
/// contents): certificates and CRLs whose signatures cover these bytes, open
/// types, and CHOICE alternatives this version does not know.
struct RawElement {
  Bytes der;

  /// The element's tag, nullopt if `der` is not a well-formed element.
  std::optional<tlv::Tag> tag() const;
  bool operator==(const RawElement&) const = default;
};

struct DecodeOptions {
  tlv::Mode mode = tlv::Mode::Der;
  tlv::Limits limits{};
  /// Upper bound on the memory the decoded value may take, so a small hostile
  /// input cannot expand into a huge tree.
  std::size_t max_memory = std::size_t{64} << 20;
};

/// What a decoder skipped: unknown extension elements of an extensible
/// SEQUENCE/SET and unknown CHOICE alternatives (X.680 §52 extensibility).
struct DecodeStats {
  std::size_t unknown_elements = 0;
};

namespace rt {
/// State of one decode: the memory budget and what was skipped.
class Ctx {
 public:
  explicit Ctx(const DecodeOptions& o) : budget_(o.max_memory) {}
  /// Takes `bytes` from the budget (InvalidValue once it is spent).
  tlv::Result<void> charge(std::size_t bytes, const tlv::Tlv& at, const char* context);
  void note_unknown() { ++unknown_; }
  std::size_t unknown() const { return unknown_; }

 private:
  std::size_t budget_;
  std::size_t unknown_ = 0;
};
}  // namespace rt

/// Specialised by the generated code for every SEQUENCE, SET and CHOICE type.
template <class T>
struct Codec;

/// DER encoding of a generated value.
template <class T>
Bytes encode(const T& value) {
  tlv::Writer w;
  Codec<T>::encode(w, value);
  return w.take();
}

/// Decodes exactly one value of type T filling `data` (TrailingBytes otherwise).
template <class T>
tlv::Result<T> decode(ByteView data, const DecodeOptions& options = {}, DecodeStats* stats = nullptr) {
  tlv::Reader reader(data, options.mode, options.limits);
  rt::Ctx ctx(options);
  T value{};
  RSP_TRY_VOID(Codec<T>::decode(reader, value, ctx));
  RSP_TRY_VOID(reader.finish(Codec<T>::kName));
  if (stats) stats->unknown_elements = ctx.unknown();
  return value;
}

/// The JSON form of a generated value: SEQUENCE/SET as objects, CHOICE as
/// {"alternative": value}, OCTET STRING as upper-case hex.
template <class T>
Json to_json(const T& value) {
  Json j;
  to_json(j, value);
  return j;
}

}  // namespace rsp::asn1
