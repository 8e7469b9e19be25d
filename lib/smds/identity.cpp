#include "rsp/smds/identity.hpp"

#include <algorithm>
#include <system_error>

#include "rsp/pki/issuer.hpp"
#include "rsp/pki/key_store.hpp"
#include "rsp/pki/roles.hpp"

namespace rsp::smds {

namespace fs = std::filesystem;

SmdsResult<void> IdentitySet::add(DsIdentity id) {
  if (id.ds_auth_cert.role() != pki::Role::DsAuth)
    return smds_error(codes::kServerCertUnavailable, "identity " + id.name + ": not a DSauth certificate");
  if (!pki::key_matches_certificate(id.ds_auth_cert, id.ds_auth_key))
    return smds_error(codes::kServerCertUnavailable, "identity " + id.name + ": key does not match certificate");
  const auto& aki = id.ds_auth_cert.authority_key_id();
  if (!aki) return smds_error(codes::kServerCertUnavailable, "identity " + id.name + ": no authority key identifier");
  id.ci_pkid = *aki;
  ids_.push_back(std::move(id));
  return {};
}

SmdsResult<const DsIdentity*> IdentitySet::choose(std::span<const Bytes> verification,
                                                  std::span<const Bytes> signing) const {
  std::vector<Bytes> ci_pkids;
  for (const auto& id : ids_) ci_pkids.push_back(id.ci_pkid);
  auto i = server_auth::choose_identity(ci_pkids, cis_, verification, signing);
  if (i) return &ids_[*i];
  // The shared step answers the SM-DP+'s codes; ES11 has the SM-DS's.
  const bool security = i.error().code.subject == server_auth::codes::kSecurityConfigNotSupported.subject;
  return smds_error(security ? codes::kSecurityConfigNotSupported : codes::kServerCertUnavailable, i.error().message);
}

SmdsResult<IdentitySet> IdentitySet::load_directory(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) files.push_back(it->path());
  if (ec) return smds_error(codes::kExecutionError, "cannot read " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  const auto load_one = [](const fs::path& f) -> std::optional<pki::Certificate> {
    auto certs = pki::Certificate::load_file(f);
    if (!certs || certs->empty()) return std::nullopt;
    return certs->front();
  };
  IdentitySet set;
  std::vector<Bytes> seen_cis;
  for (const auto& f : files) {
    const std::string name = f.filename().string();
    if (name.rfind("CERT_CI_", 0) != 0) continue;
    auto c = load_one(f);
    if (!c || c->role() != pki::Role::Ci || !c->subject_key_id()) continue;
    if (std::find(seen_cis.begin(), seen_cis.end(), *c->subject_key_id()) != seen_cis.end()) continue;
    seen_cis.push_back(*c->subject_key_id());
    set.add_ci(*c);
  }
  for (const auto& f : files) {
    const std::string name = f.filename().string();
    if (name.rfind("CERT_", 0) != 0 || name.find("DSauth") == std::string::npos) continue;
    const std::string stem = f.stem().string().substr(5);
    if (f.extension() == ".pem" && fs::exists(f.parent_path() / ("CERT_" + stem + ".der"))) continue;
    const fs::path key_file = f.parent_path() / ("SK_" + stem + ".pem");
    auto cert = load_one(f);
    auto key = pki::load_private_key_file(key_file);
    if (!cert || !key) continue;
    (void)set.add(DsIdentity{stem, *cert, *key, {}});  // a mismatching pair is skipped
  }
  if (set.ids_.empty()) return smds_error(codes::kServerCertUnavailable, "no DSauth identity found in " + dir.string());
  if (set.cis_.empty()) return smds_error(codes::kServerCertUnavailable, "no CI certificate found in " + dir.string());
  return set;
}

}  // namespace rsp::smds
