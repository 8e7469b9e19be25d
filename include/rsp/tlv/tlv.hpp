#pragma once
/// BER-TLV reading and writing (ITU-T X.690 §8.1). Strict DER mode (X.690 §10)
/// for everything that is signed or MAC'd; a tolerant BER mode where SGP.22 and
/// SAIP allow it. Reading is zero-copy and never trusts a length: every error on
/// hostile input is a typed `Error`, never a crash, an assert or an allocation
/// sized by the input.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::tlv {

/// X.690 §8.1.2.2, bits 8-7 of the first identifier octet.
enum class TagClass : std::uint8_t { Universal = 0, Application = 1, Context = 2, Private = 3 };

/// An identifier: class, primitive/constructed, number (X.690 §8.1.2).
struct Tag {
  TagClass cls = TagClass::Universal;
  bool constructed = false;
  std::uint32_t number = 0;

  /// From the encoded identifier octets read as one big-endian integer, the
  /// way SGP.22 writes tags: 0x30, 0x5A, 0xA0, 0xBF3E, 0x5F37, 0x7F21.
  /// Returns nullopt for an ill-formed or over-long identifier.
  static std::optional<Tag> from_raw(std::uint32_t raw);
  /// The inverse of from_raw (tag numbers up to 2^21-1 fit in 4 octets).
  std::uint32_t raw() const;

  static constexpr Tag universal(std::uint32_t n, bool constructed = false) {
    return {TagClass::Universal, constructed, n};
  }
  static constexpr Tag context(std::uint32_t n, bool constructed = false) {
    return {TagClass::Context, constructed, n};
  }
  static constexpr Tag application(std::uint32_t n, bool constructed = false) {
    return {TagClass::Application, constructed, n};
  }
  static constexpr Tag priv(std::uint32_t n, bool constructed = false) {
    return {TagClass::Private, constructed, n};
  }
  friend bool operator==(const Tag&, const Tag&) = default;

  /// "[CONTEXT 3] constructed (A3)" style, for messages and dumps.
  std::string to_string() const;
};

/// Universal tag numbers used by our codecs (X.680 §8.4).
namespace universal {
inline constexpr std::uint32_t kBoolean = 1, kInteger = 2, kBitString = 3, kOctetString = 4,
                               kNull = 5, kOid = 6, kEnumerated = 10, kUtf8String = 12,
                               kSequence = 16, kSet = 17, kPrintableString = 19,
                               kIa5String = 22, kUtcTime = 23, kGeneralizedTime = 24;
}  // namespace universal

enum class Mode {
  Der,  ///< X.690 §10: minimal tag and length, definite lengths only.
  Ber,  ///< X.690 §8: also non-minimal lengths and indefinite length (constructed only).
};

enum class ErrorCode {
  Truncated,           ///< the input ends inside a tag, length or value
  LengthTooLong,       ///< a length of more than 4 octets, or one past our limit
  NonMinimalLength,    ///< DER: long form where short would do, or leading zero octets
  IndefiniteLength,    ///< DER: indefinite length; BER: on a primitive element
  NonMinimalTag,       ///< high-tag-number form for a number under 31, or a leading 0x80
  TagTooLarge,         ///< a tag number that does not fit in 4 identifier octets
  NestingTooDeep,      ///< more levels of constructed elements than the limit
  TrailingBytes,       ///< bytes left after the element(s) that should fill the input
  UnexpectedTag,       ///< a typed decoder found a tag other than the one it needs
  InvalidValue,        ///< a value that is not valid for its type (e.g. BOOLEAN 0x02 in DER)
  MissingElement,      ///< a mandatory element is absent
};

/// Name of an error code, e.g. "truncated".
const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code;
  std::size_t offset = 0;  ///< byte offset into the outermost input where it was found
  std::string context;     ///< what was being read (a type or field name), may be empty

  std::string to_string() const;
};

template <class T>
using Result = expected<T, Error>;

/// Limits that bound the work done on hostile input.
struct Limits {
  std::size_t max_depth = 32;                   ///< nesting of constructed elements
  std::size_t max_length = std::size_t{1} << 24;  ///< any single length (16 MiB)
};

/// One element as read: identifier, contents, and where it sits in the input.
struct Tlv {
  Tag tag;
  ByteView value;    ///< contents octets (without an end-of-contents marker)
  ByteView encoded;  ///< the whole element: identifier, length, contents (and EOC)
  std::size_t offset = 0;  ///< offset of `encoded` in the outermost input
  bool indefinite = false;  ///< BER indefinite-length form was used
};

/// Reads a sequence of sibling elements from a buffer.
class Reader {
 public:
  explicit Reader(ByteView data, Mode mode = Mode::Der, Limits limits = {});

  bool empty() const { return pos_ >= data_.size(); }
  /// Offset of the next element in the outermost input.
  std::size_t offset() const { return base_ + pos_; }
  Mode mode() const { return mode_; }

  /// The tag of the next element without consuming it (nullopt at the end).
  Result<std::optional<Tag>> peek_tag() const;
  /// Reads and consumes the next element.
  Result<Tlv> next();
  /// Reads the next element and checks its tag (UnexpectedTag otherwise).
  Result<Tlv> expect(Tag tag, const char* context = nullptr);
  /// Reads the next element only if its tag matches; nullopt (nothing consumed) otherwise.
  Result<std::optional<Tlv>> optional(Tag tag);
  /// A reader over the contents of a constructed element read by this reader
  /// (one level deeper; NestingTooDeep past the limit).
  Result<Reader> enter(const Tlv& element) const;
  /// TrailingBytes unless every byte has been read.
  Result<void> finish(const char* context = nullptr) const;

 private:
  Reader(ByteView data, Mode mode, Limits limits, std::size_t base, std::size_t depth);
  Result<Tlv> read_at(std::size_t pos, std::size_t depth) const;

  ByteView data_;
  Mode mode_;
  Limits limits_;
  std::size_t base_ = 0;
  std::size_t depth_ = 0;
  std::size_t pos_ = 0;
};

/// Parses exactly one element that fills `data` (TrailingBytes otherwise).
Result<Tlv> parse_one(ByteView data, Mode mode = Mode::Der, Limits limits = {});

/// Builds DER: definite, minimal lengths. Nested elements are written in place;
/// `begin` returns a mark that `end` closes, fixing the length.
class Writer {
 public:
  /// Writes a complete element.
  void put(Tag tag, ByteView value);
  /// Appends already-encoded bytes (e.g. a certificate kept as received).
  void put_raw(ByteView encoded);
  /// Opens a constructed element; close it with end(mark).
  std::size_t begin(Tag tag);
  void end(std::size_t mark);

  const Bytes& bytes() const { return out_; }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

/// Appends the identifier octets of `tag` (X.690 §8.1.2).
void encode_tag(Tag tag, Bytes& out);
/// Appends the definite-form length octets in DER (X.690 §8.1.3, §10.1).
void encode_length(std::size_t length, Bytes& out);
/// One complete element: tag, DER length, value.
Bytes encode(Tag tag, ByteView value);

}  // namespace rsp::tlv
