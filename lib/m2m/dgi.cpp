// DGI elements (GP Card Specification v2.3 §11.11.2.2), shared by the ISD-R
// platform commands and the ES8 key establishment.

#include "rsp/m2m/dgi.hpp"

namespace rsp::m2m {

std::optional<DgiElement> next_dgi(ByteView data) {
  if (data.size() < 3) return std::nullopt;
  DgiElement e;
  e.id = static_cast<std::uint16_t>((data[0] << 8) | data[1]);
  std::size_t len = data[2], at = 3;
  if (len == 0xFF) {
    if (data.size() < 5) return std::nullopt;
    len = static_cast<std::size_t>((data[3] << 8) | data[4]);
    at = 5;
    if (len < 0xFF) return std::nullopt;  // the long form only where the short one cannot serve
  }
  if (data.size() - at < len) return std::nullopt;
  e.value = data.subspan(at, len);
  e.size = at + len;
  return e;
}

Bytes encode_dgi(std::uint16_t id, ByteView value) {
  Bytes out{static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id & 0xFF)};
  if (value.size() >= 0xFF) {
    out.push_back(0xFF);
    out.push_back(static_cast<std::uint8_t>(value.size() >> 8));
  }
  out.push_back(static_cast<std::uint8_t>(value.size() & 0xFF));
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

}  // namespace rsp::m2m
