// `rsp pki verify`: validate every certificate of a directory tree.

#include "rsp/pki/directory.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "rsp/common/file.hpp"

namespace rsp::pki {

using Code = PkiError::Code;
namespace fs = std::filesystem;

namespace {

struct Found {
  fs::path file;
  std::optional<Certificate> cert;
  std::optional<PkiError> error;
};

bool has_der_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".der" || ext == ".cer" || ext == ".crt";
}

/// Reads the certificates of one file; nothing when it is not a certificate file.
void scan_file(const fs::path& root, const fs::path& file, std::vector<Found>& out) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec || size > kMaxCertificateFileSize) return;
  auto data = read_file(file);
  const fs::path rel = file.lexically_relative(root);
  if (!data) {
    out.push_back({rel, std::nullopt, PkiError{Code::Io, data.error().message}});
    return;
  }
  const std::string_view text(reinterpret_cast<const char*>(data->data()), data->size());
  if (text.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
    auto certs = Certificate::all_from_pem(text);
    if (!certs) {
      out.push_back({rel, std::nullopt, certs.error()});
      return;
    }
    for (auto& c : *certs) out.push_back({rel, std::move(c), std::nullopt});
    return;
  }
  if (text.find("-----BEGIN ") != std::string_view::npos) return;  // keys and other PEM
  auto cert = Certificate::from_der(*data);
  if (cert) {
    out.push_back({rel, std::move(*cert), std::nullopt});
  } else if (has_der_extension(file)) {
    out.push_back({rel, std::nullopt, cert.error()});
  }
}

}  // namespace

PkiResult<std::vector<CertificateCheck>> verify_directory(const fs::path& dir, std::optional<TimePoint> at) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return pki_error(Code::Io, dir.string() + " is not a directory");
  std::vector<Found> found;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return pki_error(Code::Io, "cannot read " + dir.string() + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return pki_error(Code::Io, "cannot read " + dir.string() + ": " + ec.message());
    if (it->is_regular_file(ec)) scan_file(dir, it->path(), found);
  }
  std::stable_sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.file < b.file; });

  std::vector<Certificate> cis, intermediates;
  for (const auto& f : found) {
    if (!f.cert) continue;
    if (f.cert->self_issued() && f.cert->role() == Role::Ci) {
      cis.push_back(*f.cert);
    } else if (f.cert->is_ca()) {
      intermediates.push_back(*f.cert);
    }
  }

  std::vector<CertificateCheck> out;
  for (auto& f : found) {
    CertificateCheck check{f.file, std::nullopt, {}, std::nullopt, f.error};
    if (f.cert) {
      check.subject = f.cert->subject();
      check.role = f.cert->role();
      if (!check.role) {
        check.error = PkiError{Code::MissingExtension, "no RSP role certificate policy (and not a TLS certificate)"};
      } else {
        auto r = validate_chain(*f.cert, intermediates, cis, *check.role, at);
        if (r) {
          check.eid = r->eid;
        } else {
          check.error = r.error();
        }
      }
    }
    out.push_back(std::move(check));
  }
  return out;
}

}  // namespace rsp::pki
