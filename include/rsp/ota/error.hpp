#pragma once
/// The typed error of the OTA codecs (SMS TPDUs, user data headers, secured
/// packets over SMS, RAM over HTTP). Messages name the field, never key
/// material.

#include <optional>
#include <string>

#include "rsp/common/expected.hpp"
#include "rsp/crypto/scp80.hpp"

namespace rsp::ota {

enum class OtaErrorCode {
  Truncated,            ///< the input ends inside a field
  TrailingBytes,        ///< bytes left after the last field
  InvalidValue,         ///< a field whose value the spec does not allow
  Unsupported,          ///< allowed by the spec but not implemented here (named in the message)
  TooLong,              ///< does not fit its length field or the transport (140 octets of SMS user data)
  MissingElement,       ///< a mandatory element is absent
  UnexpectedElement,    ///< an element where the spec allows none (or a second one)
  DuplicateSegment,     ///< a concatenated-SMS segment received twice
  InconsistentSegment,  ///< a segment that contradicts the others of its message
  MissingSegment,       ///< a concatenated message with segments still absent
  SecuredPacket,        ///< the SCP80 layer refused the packet; see `status`
};

/// Name of a code, e.g. "truncated".
const char* to_string(OtaErrorCode code);

struct OtaError {
  OtaErrorCode code;
  std::string message;
  /// The TS 102 225 §5.1.2 response status a receiving entity reports in its
  /// PoR for this error, when one applies (SecuredPacket errors always).
  std::optional<crypto::scp80::Status> status;
  /// True when no PoR can be addressed (the packet is unreadable up to its TAR).
  bool no_por = false;

  std::string to_string() const;
};

template <class T>
using OtaResult = expected<T, OtaError>;

/// A failed result with `code` and `message`.
inline unexpected<OtaError> ota_fail(OtaErrorCode code, std::string message) {
  return unexpected(OtaError{code, std::move(message), std::nullopt, false});
}

/// Wraps an SCP80 error, keeping its status for the PoR.
inline unexpected<OtaError> ota_fail(const crypto::scp80::Scp80Error& e) {
  return unexpected(OtaError{OtaErrorCode::SecuredPacket, e.message, e.status, e.no_por});
}

}  // namespace rsp::ota
