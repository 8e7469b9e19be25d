#pragma once
/// The typed error of the SM-SR's ES5 transport (SGP.02 §2.4: SMS wake-up and
/// the HTTPS administration session). Messages name what failed, never a key,
/// a PSK or a counter's secret material.

#include <string>

#include "rsp/common/expected.hpp"

namespace rsp::es5 {

enum class Es5ErrorCode {
  InvalidArgument,  ///< a target or script that cannot be sent as given
  Counter,          ///< no SCP80 counter could be reserved (nothing was sent)
  Secure,           ///< building the SCP80 packet failed
  Transport,        ///< the SMSC refused or could not take a short message
  Malformed,        ///< the card's response script does not parse
  ScriptStatus,     ///< the card reported a script status other than ok, or no script
};

const char* to_string(Es5ErrorCode code);

struct Es5Error {
  Es5ErrorCode code = Es5ErrorCode::InvalidArgument;
  std::string message;
  std::string to_string() const;
};

template <class T>
using Es5Result = expected<T, Es5Error>;

inline unexpected<Es5Error> es5_fail(Es5ErrorCode code, std::string message) {
  return unexpected(Es5Error{code, std::move(message)});
}

}  // namespace rsp::es5
