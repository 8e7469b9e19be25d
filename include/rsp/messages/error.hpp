#pragma once
/// Errors of the wire-format component: what was wrong with a message, which
/// JSON field it concerned, and the SGP.22 subject/reason code a server answers
/// with (SGP.22 §5.2.6 / §6.5.1.4 status codes). Messages never carry secret
/// values (keys, confirmation codes), only field names and short reasons.

#include <string>

#include "rsp/common/expected.hpp"

namespace rsp::messages {

/// One SGP.22 status code pair: subject code and reason code.
struct StatusCode {
  const char* subject;
  const char* reason;
};

/// The status codes the wire formats themselves produce. Function-specific
/// codes stay with the component that owns the function (e.g. smdpp::codes).
namespace codes {
/// A request (or response) that cannot be understood: malformed JSON, wrong
/// type, unknown field, bad base64/hex/DER (subject 1.2, reason 2.1 Invalid).
inline constexpr StatusCode kInvalidRequest{"1.2", "2.1"};
/// A mandatory element is missing (reason 2.2 Mandatory Element Missing).
inline constexpr StatusCode kMandatoryElementMissing{"1.2", "2.2"};
/// Function unknown to the provider (reason 3.9 Unknown).
inline constexpr StatusCode kUnknownFunction{"1.2", "3.9"};
/// Internal failure of the provider (subject 8.8, reason 4.2 Execution Error).
inline constexpr StatusCode kExecutionError{"8.8", "4.2"};
}  // namespace codes

enum class ErrorKind {
  MalformedJson,     ///< not JSON, or not a JSON object where one is needed
  MissingField,      ///< a mandatory field is absent
  UnknownField,      ///< a field the message does not define
  WrongType,         ///< a field of the wrong JSON type
  BadValue,          ///< a value outside its allowed set (e.g. status string)
  BadBase64,         ///< not strict base64 with padding
  BadHex,            ///< not hex, odd length or wrong size
  BadDer,            ///< base64 decoded but not the DER element expected
  FunctionFailed,    ///< a response whose functionExecutionStatus is Failed/Expired
  BadActivationCode, ///< activation code syntax
};

const char* to_string(ErrorKind k);

struct MessageError {
  ErrorKind kind = ErrorKind::MalformedJson;
  std::string field;         ///< JSON field concerned ("" for the whole message)
  std::string detail;        ///< short human-readable reason
  std::string subject_code;  ///< SGP.22 subject code ("1.2")
  std::string reason_code;   ///< SGP.22 reason code ("2.1")

  /// "bad-base64 in 'euiccInfo1': ... (1.2/2.1)"
  std::string to_string() const;
};

template <class T>
using Result = expected<T, MessageError>;

/// An error with the code that matches its kind (2.2 for a missing field,
/// 2.1 for every other format problem).
MessageError make_error(ErrorKind kind, std::string field, std::string detail);

}  // namespace rsp::messages
