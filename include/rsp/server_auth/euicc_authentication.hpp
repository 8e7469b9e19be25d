#pragma once
/// The eUICC authentication every SGP.22 server runs, whatever its role: the
/// SM-DP+ in ES9+ (SGP.22 v2.2.2 §5.6.1, §5.6.2) and the SM-DS in ES11
/// (§5.8.1, §5.8.2) do the same steps with their own certificate (DPauth or
/// DSauth) and address:
///   - InitiateAuthentication: pick the identity whose CI the eUICC can verify
///     (euiccCiPKIdListForVerification) among CIs whose chains we can check
///     (euiccCiPKIdListForSigning), then sign serverSigned1 with a fresh,
///     single-use serverChallenge (§3.1.2, §3.6.1).
///   - AuthenticateClient: the chain CI -> EUM -> eUICC, euiccSignature1 over
///     euiccSigned1, and the transactionId, serverAddress and serverChallenge
///     euiccSigned1 carries back.
/// Failures are the subject/reason codes both function tables share; a role
/// maps them onto its own error type.

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "rsp/asn1/sgp22.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/crypto/ec_key.hpp"
#include "rsp/messages/error.hpp"
#include "rsp/pki/certificate.hpp"

namespace rsp::server_auth {

/// The codes of §5.6.1 / §5.6.2, identical in §5.8.1 / §5.8.2 (ES11).
namespace codes {
using messages::StatusCode;
/// None of the CIs in euiccCiPKIdListForSigning is supported.
inline constexpr StatusCode kSecurityConfigNotSupported{"8.8.2", "3.1"};
/// No server authentication certificate under a CI of euiccCiPKIdListForVerification.
inline constexpr StatusCode kServerCertUnavailable{"8.8.4", "3.7"};
inline constexpr StatusCode kEumCertInvalid{"8.1.2", "6.1"};
inline constexpr StatusCode kEumCertExpired{"8.1.2", "6.3"};
inline constexpr StatusCode kEuiccCertInvalid{"8.1.3", "6.1"};
inline constexpr StatusCode kEuiccCertExpired{"8.1.3", "6.3"};
inline constexpr StatusCode kEuiccSignatureInvalid{"8.1", "6.1"};
inline constexpr StatusCode kUnknownCiPk{"8.11.1", "3.9"};
inline constexpr StatusCode kUnknownTransactionId{"8.10.1", "3.9"};
inline constexpr StatusCode kExecutionError{"8.8", "4.2"};
}  // namespace codes

struct AuthError {
  messages::StatusCode code;
  std::string message;  ///< which check failed, for the server's log; never key material
};

template <class T>
using AuthResult = expected<T, AuthError>;

/// What the server remembered of its InitiateAuthentication answer.
struct Challenge {
  ByteView transaction_id;
  ByteView server_challenge;
  std::string_view server_address;  ///< the FQDN the eUICC must have signed
};

/// An eUICC whose chain and signature verified.
struct AuthenticatedEuicc {
  std::string eid;           ///< from its certificate (SGP.29 digits)
  crypto::EcKey public_key;  ///< its certificate's key, for later signatures
};

/// Which of `identity_ci_pkids` (the CI of each of the server's identities,
/// in order of preference) to use for an eUICC that lists `verification` and
/// `signing` (empty: any), given the CIs the server trusts: the index, or
/// kSecurityConfigNotSupported when no trusted CI is in `signing`, else
/// kServerCertUnavailable.
AuthResult<std::size_t> choose_identity(std::span<const Bytes> identity_ci_pkids,
                                        std::span<const pki::Certificate> cis, std::span<const Bytes> verification,
                                        std::span<const Bytes> signing);

/// Checks an AuthenticateResponseOk against the challenge it answers: the
/// EUM and eUICC certificates (unknown CI, expiry, then role, profile and
/// signatures), euiccSignature1, then transactionId, serverAddress and
/// serverChallenge inside the signed data, and that the certificate names an EID.
AuthResult<AuthenticatedEuicc> authenticate_euicc(const asn1::sgp22::AuthenticateResponseOk& response,
                                                  const Challenge& challenge, std::span<const pki::Certificate> cis,
                                                  std::chrono::sys_seconds now);

}  // namespace rsp::server_auth
