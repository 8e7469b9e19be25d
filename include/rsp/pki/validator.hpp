#pragma once
/// Certificate chain validation for the RSP PKI (SGP.22 §4.5.2 certificate
/// profile, §5.6.x verification steps; RFC 5280 §6 path validation reduced
/// to what SGP.22 uses). The chain is built by authorityKeyIdentifier ->
/// subjectKeyIdentifier (with issuer/subject name match) up to one of the
/// trusted CIs. eUICC EIDs are checked against the EUM's name constraints the
/// way SGP.22 §4.5.2.1.0.2 means them: organisation equal and the EID
/// starting with the permitted serialNumber prefix (not RFC 5280 §4.2.1.10
/// directoryName subtree matching).

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/pki/certificate.hpp"

namespace rsp::pki {

struct ValidatedChain {
  Role role;
  crypto::EcKey public_key;       ///< the leaf's subject key
  std::optional<std::string> eid;  ///< for eUICC certificates
  std::vector<Certificate> path;   ///< leaf first, trusted CI last
};

/// Longest path we build (leaf + intermediates + CI). SGP.22 v2 uses 3 (CI, EUM, eUICC).
inline constexpr std::size_t kMaxChainLength = 5;

/// Validates `leaf` for `expected_role` at `at` (default: the system clock).
/// Errors are typed (PkiError::Code): WrongRole, UnknownIssuer, Expired
/// ("certificate expired"), NotYetValid, BadSignature, WrongCurve,
/// WrongAlgorithm, EidOutOfRange, InvalidEid, Malformed, MissingExtension,
/// WrongKeyUsage, UnsupportedCriticalExtension, PathTooLong.
PkiResult<ValidatedChain> validate_chain(const Certificate& leaf, std::span<const Certificate> intermediates,
                                         std::span<const Certificate> trusted_cis, Role expected_role,
                                         std::optional<TimePoint> at = std::nullopt);

/// The same from untrusted DER (the parsing + validation entry point).
PkiResult<ValidatedChain> validate_chain_der(ByteView leaf_der, std::span<const Certificate> intermediates,
                                             std::span<const Certificate> trusted_cis, Role expected_role,
                                             std::optional<TimePoint> at = std::nullopt);

/// Checks a trust anchor on its own: self-signed, CI role and profile, valid at `at`.
PkiResult<void> validate_ci(const Certificate& ci, std::optional<TimePoint> at = std::nullopt);

/// Parses "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339, UTC only) or "YYYY-MM-DD".
std::optional<TimePoint> parse_utc_time(std::string_view text);
/// "YYYY-MM-DDTHH:MM:SSZ".
std::string format_utc_time(TimePoint t);

}  // namespace rsp::pki
