#include "rsp/tlv/tlv.hpp"

#include <array>

namespace rsp::tlv {

namespace {

constexpr std::uint32_t kMaxTagNumber = (1u << 21) - 1;  // 3 subsequent octets

/// What one identifier parse yields: the tag and how many octets it took.
struct ParsedTag {
  Tag tag;
  std::size_t size;
};

/// X.690 §8.1.2: identifier octets. The two minimality rules (low form for
/// numbers below 31, no leading 0x80 subsequent octet) are BER rules too.
expected<ParsedTag, ErrorCode> parse_tag(ByteView in) {
  if (in.empty()) return unexpected(ErrorCode::Truncated);
  const std::uint8_t first = in[0];
  Tag tag;
  tag.cls = static_cast<TagClass>(first >> 6);
  tag.constructed = (first & 0x20) != 0;
  if ((first & 0x1F) != 0x1F) {
    tag.number = first & 0x1Fu;
    return ParsedTag{tag, 1};
  }
  std::uint32_t number = 0;
  std::size_t i = 1;
  for (;; ++i) {
    if (i >= in.size()) return unexpected(ErrorCode::Truncated);
    if (i > 3) return unexpected(ErrorCode::TagTooLarge);
    const std::uint8_t b = in[i];
    if (i == 1 && b == 0x80) return unexpected(ErrorCode::NonMinimalTag);
    number = (number << 7) | (b & 0x7Fu);
    if ((b & 0x80) == 0) break;
  }
  if (number < 31) return unexpected(ErrorCode::NonMinimalTag);
  tag.number = number;
  return ParsedTag{tag, i + 1};
}

constexpr std::size_t kIndefinite = static_cast<std::size_t>(-1);

struct ParsedLength {
  std::size_t length;  // kIndefinite for the indefinite form
  std::size_t size;
};

/// X.690 §8.1.3 (and §10.1 for DER).
expected<ParsedLength, ErrorCode> parse_length(ByteView in, Mode mode, const Limits& limits) {
  if (in.empty()) return unexpected(ErrorCode::Truncated);
  const std::uint8_t first = in[0];
  if (first < 0x80) {
    if (first > limits.max_length) return unexpected(ErrorCode::LengthTooLong);
    return ParsedLength{first, 1};
  }
  if (first == 0x80) {
    if (mode == Mode::Der) return unexpected(ErrorCode::IndefiniteLength);
    return ParsedLength{kIndefinite, 1};
  }
  const std::size_t n = first & 0x7Fu;
  if (n > 4) return unexpected(ErrorCode::LengthTooLong);  // includes the reserved 0xFF
  if (in.size() < 1 + n) return unexpected(ErrorCode::Truncated);
  std::size_t length = 0;
  for (std::size_t i = 1; i <= n; ++i) length = (length << 8) | in[i];
  if (mode == Mode::Der && (in[1] == 0 || length < 0x80)) {
    return unexpected(ErrorCode::NonMinimalLength);
  }
  if (length > limits.max_length) return unexpected(ErrorCode::LengthTooLong);
  return ParsedLength{length, 1 + n};
}

}  // namespace

std::optional<Tag> Tag::from_raw(std::uint32_t raw) {
  std::array<std::uint8_t, 4> bytes{};
  std::size_t n = 0;
  bool started = false;
  for (int shift = 24; shift >= 0; shift -= 8) {
    auto b = static_cast<std::uint8_t>(raw >> shift);
    if (!started && b == 0 && shift != 0) continue;
    started = true;
    bytes[n++] = b;
  }
  auto parsed = parse_tag(ByteView(bytes.data(), n));
  if (!parsed || parsed->size != n) return std::nullopt;
  return parsed->tag;
}

std::uint32_t Tag::raw() const {
  Bytes b;
  encode_tag(*this, b);
  std::uint32_t v = 0;
  for (auto x : b) v = (v << 8) | x;
  return v;
}

std::string Tag::to_string() const {
  static constexpr const char* kClass[] = {"UNIVERSAL", "APPLICATION", "CONTEXT", "PRIVATE"};
  Bytes b;
  encode_tag(*this, b);
  return std::string("[") + kClass[static_cast<int>(cls)] + " " + std::to_string(number) + "] " +
         (constructed ? "constructed" : "primitive") + " (" + to_hex(b) + ")";
}

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::Truncated: return "truncated";
    case ErrorCode::LengthTooLong: return "length too long";
    case ErrorCode::NonMinimalLength: return "non-minimal length";
    case ErrorCode::IndefiniteLength: return "indefinite length not allowed";
    case ErrorCode::NonMinimalTag: return "non-minimal tag";
    case ErrorCode::TagTooLarge: return "tag number too large";
    case ErrorCode::NestingTooDeep: return "nesting too deep";
    case ErrorCode::TrailingBytes: return "trailing bytes";
    case ErrorCode::UnexpectedTag: return "unexpected tag";
    case ErrorCode::InvalidValue: return "invalid value";
    case ErrorCode::MissingElement: return "missing element";
  }
  return "unknown error";
}

std::string Error::to_string() const {
  std::string s = tlv::to_string(code);
  s += " at offset " + std::to_string(offset);
  if (!context.empty()) s += " (" + context + ")";
  return s;
}

Reader::Reader(ByteView data, Mode mode, Limits limits) : Reader(data, mode, limits, 0, 0) {}

Reader::Reader(ByteView data, Mode mode, Limits limits, std::size_t base, std::size_t depth)
    : data_(data), mode_(mode), limits_(limits), base_(base), depth_(depth) {}

Result<Tlv> Reader::read_at(std::size_t pos, std::size_t depth) const {
  auto fail = [&](ErrorCode c, std::size_t at) {
    return unexpected(Error{c, base_ + at, {}});
  };
  ByteView rest = data_.subspan(pos);
  auto tag = parse_tag(rest);
  if (!tag) return fail(tag.error(), pos);
  auto len = parse_length(rest.subspan(tag->size), mode_, limits_);
  if (!len) return fail(len.error(), pos + tag->size);
  const std::size_t header = tag->size + len->size;
  Tlv out;
  out.tag = tag->tag;
  out.offset = base_ + pos;

  if (len->length != kIndefinite) {
    if (rest.size() - header < len->length) return fail(ErrorCode::Truncated, pos + header);
    out.value = rest.subspan(header, len->length);
    out.encoded = rest.subspan(0, header + len->length);
    return out;
  }

  // BER indefinite form (X.690 §8.1.3.6): constructed only, contents end at
  // the end-of-contents octets 00 00. Walking the children bounds the work by
  // the nesting limit.
  if (!out.tag.constructed) return fail(ErrorCode::IndefiniteLength, pos + tag->size);
  if (depth + 1 > limits_.max_depth) return fail(ErrorCode::NestingTooDeep, pos);
  std::size_t p = pos + header;
  for (;;) {
    if (data_.size() - p < 2) return fail(ErrorCode::Truncated, p);
    if (data_[p] == 0x00) {
      if (data_[p + 1] != 0x00) return fail(ErrorCode::InvalidValue, p);
      break;
    }
    RSP_TRY(Tlv child, read_at(p, depth + 1));
    p += child.encoded.size();
  }
  out.value = data_.subspan(pos + header, p - (pos + header));
  out.encoded = data_.subspan(pos, p + 2 - pos);
  out.indefinite = true;
  return out;
}

Result<std::optional<Tag>> Reader::peek_tag() const {
  if (empty()) return std::optional<Tag>{};
  auto tag = parse_tag(data_.subspan(pos_));
  if (!tag) return unexpected(Error{tag.error(), offset(), {}});
  return std::optional<Tag>{tag->tag};
}

Result<Tlv> Reader::next() {
  if (empty()) return unexpected(Error{ErrorCode::Truncated, offset(), {}});
  RSP_TRY(Tlv t, read_at(pos_, depth_));
  pos_ += t.encoded.size();
  return t;
}

Result<Tlv> Reader::expect(Tag tag, const char* context) {
  if (empty()) return unexpected(Error{ErrorCode::MissingElement, offset(), context ? context : ""});
  RSP_TRY(Tlv t, read_at(pos_, depth_));
  if (!(t.tag == tag)) return unexpected(Error{ErrorCode::UnexpectedTag, t.offset, context ? context : ""});
  pos_ += t.encoded.size();
  return t;
}

Result<std::optional<Tlv>> Reader::optional(Tag tag) {
  RSP_TRY(std::optional<Tag> next_tag, peek_tag());
  if (!next_tag || !(*next_tag == tag)) return std::optional<Tlv>{};
  RSP_TRY(Tlv t, next());
  return std::optional<Tlv>{t};
}

Result<Reader> Reader::enter(const Tlv& element) const {
  if (!element.tag.constructed) return unexpected(Error{ErrorCode::InvalidValue, element.offset, "primitive element"});
  if (depth_ + 1 > limits_.max_depth) return unexpected(Error{ErrorCode::NestingTooDeep, element.offset, {}});
  const auto header = static_cast<std::size_t>(element.value.data() - element.encoded.data());
  return Reader(element.value, mode_, limits_, element.offset + header, depth_ + 1);
}

Result<void> Reader::finish(const char* context) const {
  if (!empty()) return unexpected(Error{ErrorCode::TrailingBytes, offset(), context ? context : ""});
  return {};
}

Result<Tlv> parse_one(ByteView data, Mode mode, Limits limits) {
  Reader r(data, mode, limits);
  RSP_TRY(Tlv t, r.next());
  RSP_TRY_VOID(r.finish());
  return t;
}

void encode_tag(Tag tag, Bytes& out) {
  auto first = static_cast<std::uint8_t>((static_cast<unsigned>(tag.cls) << 6) | (tag.constructed ? 0x20u : 0u));
  if (tag.number < 31) {
    out.push_back(static_cast<std::uint8_t>(first | tag.number));
    return;
  }
  out.push_back(static_cast<std::uint8_t>(first | 0x1F));
  std::uint32_t n = tag.number & kMaxTagNumber;
  std::array<std::uint8_t, 3> groups{};
  std::size_t count = 0;
  do {
    groups[count++] = static_cast<std::uint8_t>(n & 0x7F);
    n >>= 7;
  } while (n != 0 && count < groups.size());
  for (std::size_t i = count; i-- > 0;) {
    out.push_back(static_cast<std::uint8_t>(groups[i] | (i > 0 ? 0x80 : 0x00)));
  }
}

void encode_length(std::size_t length, Bytes& out) {
  if (length < 0x80) {
    out.push_back(static_cast<std::uint8_t>(length));
    return;
  }
  std::size_t n = 0;
  for (std::size_t v = length; v != 0; v >>= 8) ++n;
  out.push_back(static_cast<std::uint8_t>(0x80 | n));
  for (std::size_t i = n; i-- > 0;) out.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
}

Bytes encode(Tag tag, ByteView value) {
  Bytes out;
  out.reserve(value.size() + 8);
  encode_tag(tag, out);
  encode_length(value.size(), out);
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

void Writer::put(Tag tag, ByteView value) {
  encode_tag(tag, out_);
  encode_length(value.size(), out_);
  out_.insert(out_.end(), value.begin(), value.end());
}

void Writer::put_raw(ByteView encoded) { out_.insert(out_.end(), encoded.begin(), encoded.end()); }

std::size_t Writer::begin(Tag tag) {
  encode_tag(tag, out_);
  out_.push_back(0);  // one length octet; end() widens it when needed
  return out_.size() - 1;
}

void Writer::end(std::size_t mark) {
  const std::size_t length = out_.size() - (mark + 1);
  if (length < 0x80) {
    out_[mark] = static_cast<std::uint8_t>(length);
    return;
  }
  Bytes len;
  encode_length(length, len);
  out_[mark] = len[0];
  out_.insert(out_.begin() + static_cast<std::ptrdiff_t>(mark + 1), len.begin() + 1, len.end());
}

}  // namespace rsp::tlv
