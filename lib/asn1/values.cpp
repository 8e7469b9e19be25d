// BIT STRING, OBJECT IDENTIFIER and raw element value helpers.

#include <charconv>

#include "rsp/asn1/runtime.hpp"

namespace rsp::asn1 {

bool BitString::test(std::size_t bit) const {
  if (bit >= bit_count()) return false;
  return (bytes[bit / 8] >> (7 - bit % 8)) & 1;
}

BitString BitString::from_bits(std::initializer_list<std::size_t> bits) {
  BitString b;
  std::size_t highest = 0;
  bool any = false;
  for (std::size_t bit : bits) {
    if (bit > 4095) continue;  // named bits in our modules are far below this
    highest = any ? std::max(highest, bit) : bit;
    any = true;
  }
  if (!any) return b;
  b.bytes.assign(highest / 8 + 1, 0);
  for (std::size_t bit : bits)
    if (bit <= 4095) b.bytes[bit / 8] = static_cast<std::uint8_t>(b.bytes[bit / 8] | (0x80 >> (bit % 8)));
  b.unused_bits = static_cast<std::uint8_t>(7 - highest % 8);
  return b;
}

std::optional<Oid> Oid::from_string(std::string_view dotted) {
  std::vector<std::uint64_t> arcs;
  std::size_t pos = 0;
  while (pos <= dotted.size()) {
    std::size_t dot = dotted.find('.', pos);
    if (dot == std::string_view::npos) dot = dotted.size();
    std::uint64_t arc = 0;
    const char* first = dotted.data() + pos;
    const char* last = dotted.data() + dot;
    auto res = std::from_chars(first, last, arc);
    if (first == last || res.ec != std::errc() || res.ptr != last) return std::nullopt;
    arcs.push_back(arc);
    pos = dot + 1;
  }
  if (arcs.size() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39)) return std::nullopt;
  if (arcs[1] > UINT64_MAX - 80) return std::nullopt;
  Oid oid;
  auto put = [&](std::uint64_t v) {
    std::uint8_t tmp[10];
    int n = 0;
    do {
      tmp[n++] = static_cast<std::uint8_t>(v & 0x7F);
      v >>= 7;
    } while (v);
    while (n > 0) {
      --n;
      oid.content.push_back(static_cast<std::uint8_t>(tmp[n] | (n ? 0x80 : 0)));
    }
  };
  put(arcs[0] * 40 + arcs[1]);  // X.690 §8.19.4
  for (std::size_t i = 2; i < arcs.size(); ++i) put(arcs[i]);
  return oid;
}

std::string Oid::to_string() const {
  std::string out;
  std::uint64_t v = 0;
  bool first = true;
  for (std::size_t i = 0; i < content.size(); ++i) {
    if (v > (UINT64_MAX >> 7)) return "?";
    v = (v << 7) | (content[i] & 0x7F);
    if (content[i] & 0x80) {
      if (i + 1 == content.size()) return "?";
      continue;
    }
    if (first) {
      std::uint64_t top = v < 40 ? 0 : v < 80 ? 1 : 2;
      out = std::to_string(top) + "." + std::to_string(v - top * 40);
      first = false;
    } else {
      out += "." + std::to_string(v);
    }
    v = 0;
  }
  return first ? "?" : out;
}

std::optional<tlv::Tag> RawElement::tag() const {
  auto t = tlv::parse_one(der, tlv::Mode::Ber);
  if (!t) return std::nullopt;
  return t->tag;
}

}  // namespace rsp::asn1
