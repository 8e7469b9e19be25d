#include "rsp/common/bytes.hpp"
#include "rsp/common/secret_text.hpp"

#include <array>

#include <openssl/crypto.h>

namespace rsp {

std::string to_hex(ByteView data) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(data.size() * 2);
  for (std::uint8_t b : data) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0F]);
  }
  return out;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<Bytes> from_hex(std::string_view hex) {
  Bytes out;
  out.reserve(hex.size() / 2);
  int high = -1;
  for (char c : hex) {
    if (c == ' ' || c == ':' || c == '\n' || c == '\r' || c == '\t') continue;
    int v = hex_value(c);
    if (v < 0) return std::nullopt;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>((high << 4) | v));
      high = -1;
    }
  }
  if (high >= 0) return std::nullopt;
  return out;
}

Bytes concat(std::initializer_list<ByteView> parts) {
  std::size_t n = 0;
  for (auto p : parts) n += p.size();
  Bytes out;
  out.reserve(n);
  for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

bool equal_ct(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void wipe(Bytes& b) {
  if (!b.empty()) OPENSSL_cleanse(b.data(), b.size());
  b.clear();
}

void wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/// RFC 4648 §4: each character's 6-bit value, 0xFF outside the alphabet
/// ('=' included: padding is handled apart).
constexpr std::array<std::uint8_t, 256> kB64Values = [] {
  std::array<std::uint8_t, 256> t{};
  t.fill(0xFF);
  for (std::uint8_t v = 0; v < 64; ++v) t[static_cast<unsigned char>(kB64[v])] = v;
  return t;
}();
}  // namespace

std::string base64_encode(ByteView data) {
  // Sized once and written through a pointer: bound profile packages of tens
  // of kilobytes go through here on every download.
  std::string out((data.size() + 2) / 3 * 4, '=');
  char* o = out.data();
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3, o += 4) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
    o[0] = kB64[(v >> 18) & 63];
    o[1] = kB64[(v >> 12) & 63];
    o[2] = kB64[(v >> 6) & 63];
    o[3] = kB64[v & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{data[i]} << 16;
    if (rest == 2) v |= std::uint32_t{data[i + 1]} << 8;
    o[0] = kB64[(v >> 18) & 63];
    o[1] = kB64[(v >> 12) & 63];
    if (rest == 2) o[2] = kB64[(v >> 6) & 63];  // the rest stays '='
  }
  return out;
}

std::optional<Bytes> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  if (text.empty()) return Bytes{};
  // Padding only in the last quantum, only in its last two places.
  const std::size_t pad = text.back() != '=' ? 0 : text[text.size() - 2] == '=' ? 2 : 1;
  const auto value = [](char c) { return kB64Values[static_cast<unsigned char>(c)]; };
  // Sized once and written through a pointer, four characters at a time: the
  // JSON bindings decode every ES9+ request body with it.
  Bytes out(text.size() / 4 * 3 - pad);
  std::uint8_t* o = out.data();
  const char* in = text.data();
  const std::size_t full = text.size() - (pad ? 4 : 0);  // quanta without padding
  for (std::size_t i = 0; i < full; i += 4, o += 3) {
    const std::uint32_t a = value(in[i]), b = value(in[i + 1]), c = value(in[i + 2]), d = value(in[i + 3]);
    if ((a | b | c | d) & 0xC0) return std::nullopt;  // outside the alphabet ('=' too)
    const std::uint32_t w = (a << 18) | (b << 12) | (c << 6) | d;
    o[0] = static_cast<std::uint8_t>(w >> 16);
    o[1] = static_cast<std::uint8_t>(w >> 8);
    o[2] = static_cast<std::uint8_t>(w);
  }
  if (pad) {
    const char* q = in + full;
    const std::uint32_t a = value(q[0]), b = value(q[1]), c = pad == 1 ? value(q[2]) : 0;
    if ((a | b | c) & 0xC0) return std::nullopt;
    // Canonical form: the unused bits under the padding must be zero.
    if ((pad == 1 && (c & 0x3)) || (pad == 2 && (b & 0xF))) return std::nullopt;
    const std::uint32_t w = (a << 18) | (b << 12) | (c << 6);
    o[0] = static_cast<std::uint8_t>(w >> 16);
    if (pad == 1) o[1] = static_cast<std::uint8_t>(w >> 8);
  }
  return out;
}

}  // namespace rsp
