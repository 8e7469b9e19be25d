#pragma once
/// SM-DP+ function errors as SGP.22 subject code + reason code pairs
/// (SGP.22 §5.6 function tables, §5.2.6 status codes). Every server function
/// returns one of these instead of throwing; the ES9+ JSON binding later maps
/// them onto the header's functionExecutionStatus.

#include <string>
#include <string_view>

#include "rsp/common/expected.hpp"
#include "rsp/messages/error.hpp"
#include "rsp/server_auth/euicc_authentication.hpp"

namespace rsp::smdpp {

struct SmdppError {
  std::string subject_code;  ///< e.g. "8.8.2"
  std::string reason_code;   ///< e.g. "3.1"
  std::string message;       ///< human-readable; never key material
  /// The SM-DP+ could not read or write its own storage (database full,
  /// connection lost, failover): nothing was decided about the request, and
  /// the same request may succeed later. A refusal of the request leaves it false.
  bool storage = false;
  /// A storage failure of a transaction that another, running at the same
  /// time, made the server end (a deadlock): run again, it may succeed.
  bool conflict = false;
};

template <class T>
using SmdppResult = expected<T, SmdppError>;

/// The subject/reason pairs the core produces (SGP.22 §5.6.1 - §5.6.5).
namespace codes {
using Code = messages::StatusCode;
namespace auth = server_auth::codes;  ///< the eUICC authentication's codes, shared with the SM-DS
inline constexpr Code kInvalidSmdpAddress{"8.8.1", "3.8"};        ///< SM-DP+ address refused
/// §5.6.1: none of the CIs in euiccCiPKIdListForSigning is supported.
inline constexpr Code kSecurityConfigNotSupported = auth::kSecurityConfigNotSupported;
inline constexpr Code kSvnNotSupported{"8.8.3", "3.1"};          ///< eUICC SVN not supported
/// §5.6.1: no CERT.DPauth.ECDSA under a CI of euiccCiPKIdListForVerification.
inline constexpr Code kServerCertUnavailable = auth::kServerCertUnavailable;
inline constexpr Code kEumCertInvalid = auth::kEumCertInvalid;
inline constexpr Code kEumCertExpired = auth::kEumCertExpired;
inline constexpr Code kEuiccCertInvalid = auth::kEuiccCertInvalid;
inline constexpr Code kEuiccCertExpired = auth::kEuiccCertExpired;
inline constexpr Code kEuiccSignatureInvalid = auth::kEuiccSignatureInvalid;
inline constexpr Code kEidMismatch{"8.1.1", "3.8"};               ///< EID refused / not the order's
inline constexpr Code kMatchingIdRefused{"8.2.6", "3.8"};
/// §5.6.2: the order exists, but its profile is not released for download.
inline constexpr Code kProfileNotReleased{"8.2", "1.2"};
/// §5.6.2 (and §5.6.3 for a session begun before): the download order's
/// validity has passed (Download order - Time to Live Expired).
inline constexpr Code kDownloadOrderExpired{"8.8.5", "4.10"};
/// §5.6.2: the profile's download was attempted the maximum number of times
/// (Download order - Maximum number of retries exceeded).
inline constexpr Code kDownloadAttemptsExceeded{"8.8.5", "6.4"};
inline constexpr Code kUnknownCiPk = auth::kUnknownCiPk;
/// §5.6.5: the smdpOid the eUICC signed in its CancelSession is not ours.
inline constexpr Code kInvalidSmdpOid{"8.8", "3.10"};
inline constexpr Code kUnknownTransactionId = auth::kUnknownTransactionId;
inline constexpr Code kConfirmationCodeMissing{"8.2.7", "2.2"};
inline constexpr Code kConfirmationCodeRefused{"8.2.7", "3.8"};
inline constexpr Code kConfirmationCodeRetriesExceeded{"8.2.7", "6.4"};
inline constexpr Code kInvalidRequest{"1.2", "2.1"};              ///< malformed / mandatory element missing
inline constexpr Code kExecutionError{"8.8", "4.2"};             ///< internal failure
}  // namespace codes

inline unexpected<SmdppError> smdpp_error(codes::Code c, std::string message) {
  return unexpected(SmdppError{c.subject, c.reason, std::move(message)});
}

inline bool is(const SmdppError& e, codes::Code c) {
  return e.subject_code == c.subject && e.reason_code == c.reason;
}

}  // namespace rsp::smdpp
