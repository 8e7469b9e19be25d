#pragma once
/// Typed errors of the pki component.

#include <string>

#include "rsp/common/expected.hpp"

namespace rsp::pki {

struct PkiError {
  enum class Code {
    Malformed,                     ///< not a parseable X.509 v3 certificate (or PEM)
    MissingExtension,              ///< a required extension (policy, keyUsage, SKI/AKI, ...) is absent
    UnsupportedCriticalExtension,  ///< a critical extension we do not process (RFC 5280 §4.2)
    WrongRole,                     ///< certificate policy names another role than expected
    UnknownIssuer,                 ///< chain does not end at one of the trusted CIs
    Expired,                       ///< "certificate expired" at the verification time
    NotYetValid,                   ///< notBefore after the verification time
    BadSignature,                  ///< a certificate signature does not verify
    WrongAlgorithm,                ///< signature algorithm other than ecdsa-with-SHA256
    WrongCurve,                    ///< key not on P-256 or brainpoolP256r1
    WrongKeyUsage,                 ///< keyUsage / extendedKeyUsage / basicConstraints do not fit the role
    InvalidEid,                    ///< eUICC subject serialNumber is not a valid EID
    EidOutOfRange,                 ///< EID / organisation outside the EUM's name constraints
    PathTooLong,                   ///< chain deeper than allowed (pathLenConstraint or our bound)
    Io,                            ///< reading or writing a file failed
    InvalidArgument,               ///< bad caller input (names, options)
    Internal,                      ///< OpenSSL failed for a reason unrelated to the input
  };
  Code code = Code::Internal;
  std::string message;  ///< human-readable; never contains key material
};

template <class T>
using PkiResult = expected<T, PkiError>;

inline unexpected<PkiError> pki_error(PkiError::Code c, std::string message) {
  return unexpected(PkiError{c, std::move(message)});
}

/// Stable short name of a code ("expired", "bad-signature", ...), for output and tests.
const char* code_name(PkiError::Code c);

}  // namespace rsp::pki
