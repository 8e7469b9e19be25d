// Short names of PkiError codes.

#include "rsp/pki/error.hpp"

namespace rsp::pki {

const char* code_name(PkiError::Code c) {
  using C = PkiError::Code;
  switch (c) {
    case C::Malformed: return "malformed";
    case C::MissingExtension: return "missing-extension";
    case C::UnsupportedCriticalExtension: return "unsupported-critical-extension";
    case C::WrongRole: return "wrong-role";
    case C::UnknownIssuer: return "unknown-issuer";
    case C::Expired: return "expired";
    case C::NotYetValid: return "not-yet-valid";
    case C::BadSignature: return "bad-signature";
    case C::WrongAlgorithm: return "wrong-algorithm";
    case C::WrongCurve: return "wrong-curve";
    case C::WrongKeyUsage: return "wrong-key-usage";
    case C::InvalidEid: return "invalid-eid";
    case C::EidOutOfRange: return "eid-out-of-range";
    case C::PathTooLong: return "path-too-long";
    case C::Io: return "io";
    case C::InvalidArgument: return "invalid-argument";
    case C::Internal: return "internal";
  }
  return "unknown";
}

}  // namespace rsp::pki
