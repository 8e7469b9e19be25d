#pragma once
/// Verifying every certificate found in a directory tree (`rsp pki verify`):
/// the self-signed CI certificates found are the trust anchors, the other CA
/// certificates (EUMs) the intermediates, and each certificate is validated
/// for the role its certificate policy names.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "rsp/pki/validator.hpp"

namespace rsp::pki {

struct CertificateCheck {
  std::filesystem::path file;        ///< relative to the scanned directory
  std::optional<Role> role;          ///< the role the certificate claims
  std::string subject;               ///< empty when unreadable
  std::optional<std::string> eid;    ///< eUICC certificates that validated
  std::optional<PkiError> error;     ///< nullopt: valid
};

/// Files larger than this are not certificate files and are skipped.
inline constexpr std::uintmax_t kMaxCertificateFileSize = 1024 * 1024;

/// Scans `dir` recursively for certificates (PEM "CERTIFICATE" blocks in any
/// file; DER in *.der, *.cer, *.crt or any file that parses as one) and
/// validates each at `at` (default now). Sorted by file name.
PkiResult<std::vector<CertificateCheck>> verify_directory(const std::filesystem::path& dir,
                                                          std::optional<TimePoint> at = std::nullopt);

}  // namespace rsp::pki
