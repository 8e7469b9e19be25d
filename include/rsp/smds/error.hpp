#pragma once
/// SM-DS function errors as SGP.22 subject/reason code pairs (SGP.22 v2.2.2
/// §5.7 ES12, §5.8 ES11, §5.2.6 status codes). The eUICC authentication's
/// codes are shared with the SM-DP+ (rsp/server_auth).

#include <string>

#include "rsp/common/expected.hpp"
#include "rsp/messages/error.hpp"
#include "rsp/server_auth/euicc_authentication.hpp"

namespace rsp::smds {

struct SmdsError {
  std::string subject_code;
  std::string reason_code;
  std::string message;  ///< for the server's log; never key material
  /// The SM-DS could not read or write its own storage: nothing was decided.
  bool storage = false;
};

template <class T>
using SmdsResult = expected<T, SmdsError>;

namespace codes {
using Code = messages::StatusCode;
namespace auth = server_auth::codes;
inline constexpr Code kInvalidRequest = messages::codes::kInvalidRequest;
inline constexpr Code kExecutionError = messages::codes::kExecutionError;
inline constexpr Code kEumCertInvalid = auth::kEumCertInvalid;
inline constexpr Code kEumCertExpired = auth::kEumCertExpired;
inline constexpr Code kEuiccCertInvalid = auth::kEuiccCertInvalid;
inline constexpr Code kEuiccCertExpired = auth::kEuiccCertExpired;
inline constexpr Code kEuiccSignatureInvalid = auth::kEuiccSignatureInvalid;
inline constexpr Code kUnknownCiPk = auth::kUnknownCiPk;
inline constexpr Code kUnknownTransactionId = auth::kUnknownTransactionId;
/// §5.8.1, with the SM-DS subject codes of §5.2.6.1 (8.9 SM-DS, 8.9.1 its
/// address, 8.9.2 security configuration, 8.9.3 specification version,
/// 8.9.4 certificate): the SM-DP+'s 8.8.x pairs of §5.6.1 with 8.9.x put for
/// 8.8.x. Still not confirmed: the SGP.22 text (§5.2.6, §5.7, §5.8) could
/// not be reached from this project's sources (issue 18, helper smdsbench);
/// what could be checked is below.
inline constexpr Code kInvalidSmdsAddress{"8.9.1", "3.8"};
inline constexpr Code kSecurityConfigNotSupported{"8.9.2", "3.1"};
inline constexpr Code kSvnNotSupported{"8.9.3", "3.1"};
inline constexpr Code kServerCertUnavailable{"8.9.4", "3.7"};
/// 8.9.5 Event Record. Unknown (3.9): no such event for this caller
/// (ES12.DeleteEvent) or this eUICC (ES11.AuthenticateClient with an
/// eventId); already in use (3.3): the caller registered this eventId
/// already. The case itself is confirmed for ES11: RSPDefinitions'
/// AuthenticateClientResponseEs11 (SGP.22 v2.2.2 ASN.1 module) lists
/// eventIdUnknown among AuthenticateClient's failures, beside the EUM and
/// eUICC certificate, eUICC signature and transactionId ones, which are
/// the shared server_auth codes. The subject/reason numbers are not confirmed.
inline constexpr Code kEventUnknown{"8.9.5", "3.9"};
inline constexpr Code kEventAlreadyInUse{"8.9.5", "3.3"};
/// §5.7.1: EID invalid (8.1.1 EID, 2.1 Invalid). Not confirmed.
inline constexpr Code kInvalidEid{"8.1.1", "2.1"};
/// An ES12 caller that is not an authenticated SM-DP+ or SM-DS (§2.6.6).
inline constexpr Code kCallerNotAllowed{"1.1", "1.1"};
}  // namespace codes

inline unexpected<SmdsError> smds_error(codes::Code c, std::string message) {
  return unexpected(SmdsError{c.subject, c.reason, std::move(message)});
}

inline bool is(const SmdsError& e, codes::Code c) { return e.subject_code == c.subject && e.reason_code == c.reason; }

}  // namespace rsp::smds
