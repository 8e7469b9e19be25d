// Names of the ES5 transport's error codes.

#include "rsp/es5/error.hpp"

namespace rsp::es5 {

const char* to_string(Es5ErrorCode code) {
  switch (code) {
    case Es5ErrorCode::InvalidArgument: return "invalid_argument";
    case Es5ErrorCode::Counter: return "counter";
    case Es5ErrorCode::Secure: return "secure";
    case Es5ErrorCode::Transport: return "transport";
    case Es5ErrorCode::Malformed: return "malformed";
    case Es5ErrorCode::ScriptStatus: return "script_status";
  }
  return "unknown";
}

std::string Es5Error::to_string() const { return std::string(es5::to_string(code)) + ": " + message; }

}  // namespace rsp::es5
