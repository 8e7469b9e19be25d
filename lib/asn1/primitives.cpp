// Element navigation and the X.690 §8 primitive encodings used by every
// generated codec.

#include <cstring>

#include "rsp/asn1/rt.hpp"

namespace rsp::asn1::rt {
namespace {

using tlv::Error;
using tlv::ErrorCode;

tlv::Error with_context(tlv::Error e, const char* ctx) {
  if (ctx) e.context = ctx;
  return e;
}

template <class T>
tlv::Result<T> fail(ErrorCode code, const tlv::Tlv& at, const char* ctx) {
  return unexpected(Error{code, at.offset, ctx ? ctx : ""});
}

}  // namespace

tlv::Result<void> Ctx::charge(std::size_t bytes, const tlv::Tlv& at, const char* context) {
  if (bytes > budget_) return unexpected(Error{ErrorCode::InvalidValue, at.offset,
                                               std::string(context) + ": decoded value too large"});
  budget_ -= bytes;
  return {};
}

tlv::Result<tlv::Tlv> next(tlv::Reader& r, const char* ctx) {
  if (r.empty()) return unexpected(Error{ErrorCode::MissingElement, r.offset(), ctx});
  auto t = r.next();
  if (!t) return unexpected(with_context(std::move(t).error(), ctx));
  return t;
}

tlv::Result<tlv::Tlv> expect(tlv::Reader& r, tlv::Tag tag, const char* ctx) {
  auto t = r.expect(tag, ctx);
  if (!t) return unexpected(with_context(std::move(t).error(), ctx));
  return t;
}

tlv::Result<std::optional<tlv::Tag>> peek(const tlv::Reader& r, const char* ctx) {
  auto t = r.peek_tag();
  if (!t) return unexpected(with_context(std::move(t).error(), ctx));
  return t;
}

tlv::Result<tlv::Reader> enter(const tlv::Reader& r, const tlv::Tlv& e, const char* ctx) {
  auto sub = r.enter(e);
  if (!sub) return unexpected(with_context(std::move(sub).error(), ctx));
  return sub;
}

tlv::Result<void> finish(const tlv::Reader& r, const char* ctx) { return r.finish(ctx); }

tlv::Result<void> end_members(tlv::Reader& r, Ctx& c, bool extensible, const char* ctx) {
  if (!extensible) return r.finish(ctx);
  // X.680 §52: elements added by a later version of the type are skipped.
  while (!r.empty()) {
    auto t = r.next();
    if (!t) return unexpected(with_context(std::move(t).error(), ctx));
    c.note_unknown();
  }
  return {};
}

tlv::Result<void> unexpected_tag(const tlv::Tlv& e, const char* ctx) {
  return fail<void>(ErrorCode::UnexpectedTag, e, ctx);
}

tlv::Result<void> check_size(std::size_t n, std::size_t lo, std::size_t hi, const tlv::Tlv& e,
                             const char* ctx) {
  if (n < lo || n > hi) return fail<void>(ErrorCode::InvalidValue, e, ctx);
  return {};
}

tlv::Result<void> check_set_order(const tlv::Reader& r, const tlv::Tlv& set, const char* ctx) {
  if (r.mode() != tlv::Mode::Der) return {};
  tlv::Reader items(set.value, tlv::Mode::Ber);
  ByteView previous;
  while (!items.empty()) {
    auto item = items.next();
    if (!item) return {};  // already read once by the element decoder
    if (std::lexicographical_compare(item->encoded.begin(), item->encoded.end(), previous.begin(), previous.end()))
      return fail<void>(ErrorCode::InvalidValue, set, ctx);
    previous = item->encoded;
  }
  return {};
}

// X.690 §8.2, §11.1: DER TRUE is 0xFF.
void put_bool(tlv::Writer& w, tlv::Tag tag, bool v) {
  const std::uint8_t b = v ? 0xFF : 0x00;
  w.put(tag, ByteView(&b, 1));
}

tlv::Result<void> get_bool(const tlv::Tlv& e, bool& v, const char* ctx) {
  if (e.value.size() != 1) return fail<void>(ErrorCode::InvalidValue, e, ctx);
  // BER would allow any non-zero octet for TRUE; no RSP party sends one,
  // so the DER rule (0x00 or 0xFF) is applied in both modes.
  const std::uint8_t b = e.value[0];
  if (b != 0x00 && b != 0xFF) return fail<void>(ErrorCode::InvalidValue, e, ctx);
  v = b != 0;
  return {};
}

// X.690 §8.3: two's complement in the fewest octets.
void put_int(tlv::Writer& w, tlv::Tag tag, std::int64_t v) {
  std::uint8_t buf[8];
  const auto u = static_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<std::uint8_t>(u >> (56 - 8 * i));
  std::size_t start = 0;
  while (start < 7 && ((buf[start] == 0x00 && !(buf[start + 1] & 0x80)) ||
                       (buf[start] == 0xFF && (buf[start + 1] & 0x80))))
    ++start;
  w.put(tag, ByteView(buf + start, 8 - start));
}

namespace {
bool minimal_integer(ByteView v) {
  if (v.empty()) return false;
  if (v.size() == 1) return true;
  // X.690 §8.3.2: the first nine bits are neither all ones nor all zeros.
  return !((v[0] == 0x00 && !(v[1] & 0x80)) || (v[0] == 0xFF && (v[1] & 0x80)));
}
}  // namespace

tlv::Result<void> get_int(const tlv::Tlv& e, std::int64_t& v, const char* ctx) {
  if (!minimal_integer(e.value) || e.value.size() > 8) return fail<void>(ErrorCode::InvalidValue, e, ctx);
  std::uint64_t u = (e.value[0] & 0x80) ? ~std::uint64_t{0} : 0;
  for (std::uint8_t b : e.value) u = (u << 8) | b;
  v = static_cast<std::int64_t>(u);
  return {};
}

void put_big(tlv::Writer& w, tlv::Tag tag, const BigInt& v) { w.put(tag, v.bytes); }

tlv::Result<void> get_big(const tlv::Tlv& e, BigInt& v, const char* ctx) {
  if (!minimal_integer(e.value)) return fail<void>(ErrorCode::InvalidValue, e, ctx);
  v.bytes.assign(e.value.begin(), e.value.end());
  return {};
}

// X.690 §8.6: an initial octet with the number of unused bits.
void put_bits(tlv::Writer& w, tlv::Tag tag, const BitString& v) {
  Bytes content;
  content.reserve(v.bytes.size() + 1);
  content.push_back(v.bytes.empty() ? 0 : v.unused_bits);
  content.insert(content.end(), v.bytes.begin(), v.bytes.end());
  w.put(tag, content);
}

tlv::Result<void> get_bits(const tlv::Tlv& e, BitString& v, const char* ctx) {
  if (e.value.empty()) return fail<void>(ErrorCode::InvalidValue, e, ctx);
  const std::uint8_t unused = e.value[0];
  if (unused > 7 || (e.value.size() == 1 && unused != 0)) return fail<void>(ErrorCode::InvalidValue, e, ctx);
  // X.690 §11.2.1: DER unused bits are zero.
  if (e.value.size() > 1 && (e.value.back() & ((1u << unused) - 1)) != 0)
    return fail<void>(ErrorCode::InvalidValue, e, ctx);
  v.unused_bits = unused;
  v.bytes.assign(e.value.begin() + 1, e.value.end());
  return {};
}

void put_octets(tlv::Writer& w, tlv::Tag tag, const Bytes& v) { w.put(tag, v); }

tlv::Result<void> get_octets(const tlv::Tlv& e, Bytes& v, const char*) {
  v.assign(e.value.begin(), e.value.end());
  return {};
}

void put_null(tlv::Writer& w, tlv::Tag tag, const Null&) { w.put(tag, {}); }

tlv::Result<void> get_null(const tlv::Tlv& e, Null&, const char* ctx) {
  if (!e.value.empty()) return fail<void>(ErrorCode::InvalidValue, e, ctx);
  return {};
}

void put_oid(tlv::Writer& w, tlv::Tag tag, const Oid& v) { w.put(tag, v.content); }

tlv::Result<void> get_oid(const tlv::Tlv& e, Oid& v, const char* ctx) {
  // X.690 §8.19.2: subidentifiers in the fewest base-128 digits; the last
  // octet of the contents ends a subidentifier.
  if (e.value.empty() || (e.value.back() & 0x80)) return fail<void>(ErrorCode::InvalidValue, e, ctx);
  bool start = true;
  for (std::uint8_t b : e.value) {
    if (start && b == 0x80) return fail<void>(ErrorCode::InvalidValue, e, ctx);
    start = !(b & 0x80);
  }
  v.content.assign(e.value.begin(), e.value.end());
  return {};
}

void put_string(tlv::Writer& w, tlv::Tag tag, const std::string& v) { w.put(tag, as_bytes(v)); }

tlv::Result<void> get_string(const tlv::Tlv& e, std::string& v, const char*) {
  v.assign(e.value.begin(), e.value.end());
  return {};
}

void put_raw(tlv::Writer& w, const RawElement& v) { w.put_raw(v.der); }

RawElement raw_of(const tlv::Tlv& e) { return RawElement{Bytes(e.encoded.begin(), e.encoded.end())}; }

void put_raw_as(tlv::Writer& w, tlv::Tag tag, const RawElement& v) {
  auto e = tlv::parse_one(v.der, tlv::Mode::Ber);
  if (!e || e->tag == tag) {
    w.put_raw(v.der);
    return;
  }
  w.put(tag, e->value);
}

RawElement raw_as(const tlv::Tlv& e, tlv::Tag natural) {
  if (e.tag == natural) return raw_of(e);
  return RawElement{tlv::encode(natural, e.value)};
}

void put_sorted(tlv::Writer& w, std::vector<Bytes>& parts) {
  std::sort(parts.begin(), parts.end());
  for (const auto& p : parts) w.put_raw(p);
}

tlv::Result<void> Session::finish(const char* type, DecodeStats* stats) const {
  RSP_TRY_VOID(reader.finish(type));
  if (stats) stats->unknown_elements = ctx.unknown();
  return {};
}

}  // namespace rsp::asn1::rt
