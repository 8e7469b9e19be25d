#pragma once
/// SM-SR function errors: an SGP.02 subject/reason code pair
/// (rsp/m2m/es_status.hpp) and a message that never carries key material.

#include <string>

#include "rsp/common/expected.hpp"
#include "rsp/m2m/es_status.hpp"
#include "rsp/store/database.hpp"

namespace rsp::smsr {

struct SmsrError {
  std::string subject_code;
  std::string reason_code;
  std::string message;
  /// The SM-SR could not read or write its own storage: nothing was decided.
  bool storage = false;
};

template <class T>
using SmsrResult = expected<T, SmsrError>;

inline unexpected<SmsrError> smsr_error(m2m::Code c, std::string message) {
  return unexpected(SmsrError{c.subject, c.reason, std::move(message), false});
}

inline bool is(const SmsrError& e, m2m::Code c) { return e.subject_code == c.subject && e.reason_code == c.reason; }

/// A storage failure as an execution error (the engine's message, which
/// never holds bound values).
inline SmsrError storage_error(const store::DbError& e) {
  return SmsrError{m2m::codes::kExecutionError.subject, m2m::codes::kExecutionError.reason,
                   "storage: " + e.message, true};
}

}  // namespace rsp::smsr
