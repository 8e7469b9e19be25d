#include "rsp/apdu/response.hpp"

namespace rsp::apdu {

expected<Response, ResponseError> parse_response(ByteView bytes) {
  if (bytes.size() < 2) return unexpected(ResponseError::kTooShort);
  Response r;
  r.data.assign(bytes.begin(), bytes.end() - 2);
  r.sw = static_cast<std::uint16_t>((bytes[bytes.size() - 2] << 8) | bytes[bytes.size() - 1]);
  return r;
}

Bytes encode_response(const Response& response) {
  Bytes out;
  out.reserve(response.data.size() + 2);
  out.assign(response.data.begin(), response.data.end());
  out.push_back(response.sw1());
  out.push_back(response.sw2());
  return out;
}

Bytes encode_status(std::uint16_t status_word) {
  return {static_cast<std::uint8_t>(status_word >> 8), static_cast<std::uint8_t>(status_word & 0xFF)};
}

}  // namespace rsp::apdu
