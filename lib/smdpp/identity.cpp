#include "rsp/smdpp/identity.hpp"

#include <algorithm>
#include <system_error>

#include "rsp/pki/issuer.hpp"
#include "rsp/pki/key_store.hpp"
#include "rsp/pki/roles.hpp"
#include "rsp/server_auth/euicc_authentication.hpp"

namespace rsp::smdpp {

namespace fs = std::filesystem;

namespace {

/// "CERT_S_SM_DPauth_ECDSA_NIST" -> "S_SM_DPauth_ECDSA_NIST".
std::string stem_after_cert(const fs::path& p) {
  std::string s = p.stem().string();
  return s.rfind("CERT_", 0) == 0 ? s.substr(5) : s;
}

/// The certificate file of `stem` ("CERT_<stem>.der" or ".pem") anywhere among `files`.
std::optional<fs::path> find_cert(const std::vector<fs::path>& files, const std::string& stem) {
  for (const auto& f : files)
    if (f.filename() == "CERT_" + stem + ".der" || f.filename() == "CERT_" + stem + ".pem") return f;
  return std::nullopt;
}

std::optional<fs::path> find_key(const std::vector<fs::path>& files, const std::string& stem) {
  for (const auto& f : files)
    if (f.filename() == "SK_" + stem + ".pem") return f;
  return std::nullopt;
}

std::optional<pki::Certificate> load_one(const fs::path& file) {
  auto certs = pki::Certificate::load_file(file);
  if (!certs || certs->empty()) return std::nullopt;
  return certs->front();
}

}  // namespace

SmdppResult<void> IdentitySet::add(ServerIdentity id) {
  if (id.dp_auth_cert.role() != pki::Role::DpAuth || id.dp_pb_cert.role() != pki::Role::DpPb)
    return smdpp_error(codes::kServerCertUnavailable, "identity " + id.name + ": certificate roles are not DPauth/DPpb");
  if (!pki::key_matches_certificate(id.dp_auth_cert, id.dp_auth_key) ||
      !pki::key_matches_certificate(id.dp_pb_cert, id.dp_pb_key))
    return smdpp_error(codes::kServerCertUnavailable, "identity " + id.name + ": key does not match certificate");
  const auto& aki = id.dp_auth_cert.authority_key_id();
  if (!aki || id.dp_pb_cert.authority_key_id() != aki)
    return smdpp_error(codes::kServerCertUnavailable, "identity " + id.name + ": DPauth and DPpb have different CIs");
  id.ci_pkid = *aki;
  ids_.push_back(std::move(id));
  return {};
}

const ServerIdentity* IdentitySet::select(std::span<const Bytes> verification, std::span<const Bytes> signing) const {
  auto chosen = choose(verification, signing);
  return chosen ? *chosen : nullptr;
}

SmdppResult<const ServerIdentity*> IdentitySet::choose(std::span<const Bytes> verification,
                                                       std::span<const Bytes> signing) const {
  std::vector<Bytes> ci_pkids;
  ci_pkids.reserve(ids_.size());
  for (const auto& id : ids_) ci_pkids.push_back(id.ci_pkid);
  auto i = server_auth::choose_identity(ci_pkids, cis_, verification, signing);
  if (!i) return unexpected(SmdppError{i.error().code.subject, i.error().code.reason, std::move(i.error().message)});
  return &ids_[*i];
}

SmdppResult<IdentitySet> IdentitySet::load_directory(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path());
  }
  if (ec) return smdpp_error(codes::kExecutionError, "cannot read " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());

  IdentitySet set;
  for (const auto& f : files) {
    const std::string name = f.filename().string();
    if (name.rfind("CERT_CI_", 0) != 0 || f.extension() == ".pem") continue;  // one copy (der) first
    if (auto c = load_one(f); c && c->role() == pki::Role::Ci) set.add_ci(*c);
  }
  if (set.cis_.empty()) {
    for (const auto& f : files) {
      if (f.filename().string().rfind("CERT_CI_", 0) != 0) continue;
      if (auto c = load_one(f); c && c->role() == pki::Role::Ci) set.add_ci(*c);
    }
  }
  for (const auto& f : files) {
    const std::string stem = stem_after_cert(f);
    const auto pos = stem.find("auth_ECDSA");
    if (f.filename().string().rfind("CERT_", 0) != 0 || pos == std::string::npos || stem.find("DSauth") != std::string::npos)
      continue;
    if (f.extension() == ".pem" && find_cert(files, stem) != f) continue;  // prefer one file per stem
    std::string pb_stem = stem;
    pb_stem.replace(pos, 4, "pb");
    auto pb_file = find_cert(files, pb_stem);
    auto auth_key_file = find_key(files, stem);
    auto pb_key_file = find_key(files, pb_stem);
    if (!pb_file || !auth_key_file || !pb_key_file) continue;
    auto auth = load_one(f);
    auto pb = load_one(*pb_file);
    auto auth_key = pki::load_private_key_file(*auth_key_file);
    auto pb_key = pki::load_private_key_file(*pb_key_file);
    if (!auth || !pb || !auth_key || !pb_key) continue;
    ServerIdentity id{stem, *auth, *auth_key, *pb, *pb_key, {}};
    (void)set.add(std::move(id));  // a mismatching pair is skipped, the others still load
  }
  if (set.ids_.empty())
    return smdpp_error(codes::kServerCertUnavailable, "no DPauth/DPpb identity found in " + dir.string());
  return set;
}

}  // namespace rsp::smdpp
