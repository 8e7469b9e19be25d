#include "rsp/messages/error.hpp"

namespace rsp::messages {

const char* to_string(ErrorKind k) {
  switch (k) {
    case ErrorKind::MalformedJson: return "malformed-json";
    case ErrorKind::MissingField: return "missing-field";
    case ErrorKind::UnknownField: return "unknown-field";
    case ErrorKind::WrongType: return "wrong-type";
    case ErrorKind::BadValue: return "bad-value";
    case ErrorKind::BadBase64: return "bad-base64";
    case ErrorKind::BadHex: return "bad-hex";
    case ErrorKind::BadDer: return "bad-der";
    case ErrorKind::FunctionFailed: return "function-failed";
    case ErrorKind::BadActivationCode: return "bad-activation-code";
  }
  return "unknown";
}

std::string MessageError::to_string() const {
  std::string s = messages::to_string(kind);
  if (!field.empty()) s += " in '" + field + "'";
  if (!detail.empty()) s += ": " + detail;
  if (!subject_code.empty()) s += " (" + subject_code + "/" + reason_code + ")";
  return s;
}

MessageError make_error(ErrorKind kind, std::string field, std::string detail) {
  const StatusCode c = kind == ErrorKind::MissingField ? codes::kMandatoryElementMissing
                                                      : codes::kInvalidRequest;
  return MessageError{kind, std::move(field), std::move(detail), c.subject, c.reason};
}

}  // namespace rsp::messages
