#include "rsp/ota/error.hpp"

#include <cstdio>

namespace rsp::ota {

const char* to_string(OtaErrorCode code) {
  switch (code) {
    case OtaErrorCode::Truncated: return "truncated";
    case OtaErrorCode::TrailingBytes: return "trailing bytes";
    case OtaErrorCode::InvalidValue: return "invalid value";
    case OtaErrorCode::Unsupported: return "unsupported";
    case OtaErrorCode::TooLong: return "too long";
    case OtaErrorCode::MissingElement: return "missing element";
    case OtaErrorCode::UnexpectedElement: return "unexpected element";
    case OtaErrorCode::DuplicateSegment: return "duplicate segment";
    case OtaErrorCode::InconsistentSegment: return "inconsistent segment";
    case OtaErrorCode::MissingSegment: return "missing segment";
    case OtaErrorCode::SecuredPacket: return "secured packet refused";
  }
  return "unknown";
}

std::string OtaError::to_string() const {
  std::string out = ota::to_string(code);
  if (status) {
    char buf[16];
    std::snprintf(buf, sizeof buf, " (status %02X)", static_cast<unsigned>(*status));
    out += buf;
  }
  if (!message.empty()) out += ": " + message;
  return out;
}

}  // namespace rsp::ota
