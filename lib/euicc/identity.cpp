// eUICC identity: created from PKI files, read back per command.

#include <system_error>

#include "rsp/common/file.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/pki/certificate.hpp"
#include "rsp/pki/eid.hpp"
#include "rsp/pki/key_store.hpp"

namespace rsp::euicc {
namespace fs = std::filesystem;

namespace {

const char* upper_name(crypto::Curve c) { return c == crypto::Curve::NistP256 ? "NIST" : "BRP"; }

StoreResult<pki::Certificate> load_cert(const fs::path& file) {
  auto certs = pki::Certificate::load_file(file);
  if (!certs) return unexpected(StoreError{file.filename().string() + ": " + certs.error().message});
  return certs->front();
}

StoreResult<void> write(const fs::path& file, ByteView data, fs::perms perms = fs::perms(0644)) {
  auto r = write_file_atomic(file, data, perms);
  if (!r) return unexpected(StoreError{r.error().message});
  return {};
}

fs::path id_file(const fs::path& dir, const char* what, crypto::Curve c, const char* ext) {
  return dir / "identity" / (std::string(what) + "_" + crypto::short_name(c) + ext);
}

}  // namespace

StoreResult<std::vector<IdentitySource>> find_identity_sources(const fs::path& pki_dir) {
  std::vector<IdentitySource> out;
  std::error_code ec;
  const bool sgp26 = fs::is_directory(pki_dir / "eUICC", ec);
  for (auto curve : {crypto::Curve::NistP256, crypto::Curve::BrainpoolP256r1}) {
    const std::string c = upper_name(curve);
    IdentitySource s{curve, {}, {}, {}, {}};
    if (sgp26) {
      s.euicc_cert = pki_dir / "eUICC" / ("CERT_EUICC_ECDSA_" + c + ".der");
      s.euicc_key = pki_dir / "eUICC" / ("SK_EUICC_ECDSA_" + c + ".pem");
      s.eum_cert = pki_dir / "EUM" / ("CERT_EUM_ECDSA_" + c + ".der");
      s.ci_cert = pki_dir / "CertificateIssuer" / ("CERT_CI_ECDSA_" + c + ".der");
    } else {
      s.euicc_cert = pki_dir / ("CERT_EUICC_ECDSA_" + c + ".pem");
      s.euicc_key = pki_dir / ("SK_EUICC_ECDSA_" + c + ".pem");
      s.eum_cert = pki_dir / ("CERT_EUM_ECDSA_" + c + ".pem");
      s.ci_cert = pki_dir / ("CERT_CI_ECDSA_" + c + ".pem");
    }
    if (fs::exists(s.euicc_cert, ec) && fs::exists(s.euicc_key, ec) && fs::exists(s.eum_cert, ec) &&
        fs::exists(s.ci_cert, ec)) {
      out.push_back(s);
    }
  }
  if (out.empty()) {
    return unexpected(StoreError{"no eUICC certificate, key, EUM and CI certificate found in " + pki_dir.string()});
  }
  return out;
}

StoreResult<EuiccStore> create_euicc(const CreateOptions& o) {
  std::error_code ec;
  if (fs::exists(o.dir / "identity" / "eid.txt", ec)) {
    return unexpected(StoreError{o.dir.string() + " already holds an eUICC"});
  }
  if (o.sources.empty()) return unexpected(StoreError{"no identity given"});
  fs::create_directories(o.dir / "identity", ec);
  if (ec) return unexpected(StoreError{"cannot create " + o.dir.string() + ": " + ec.message()});
  std::string eid;
  for (const auto& s : o.sources) {
    RSP_TRY(auto euicc, load_cert(s.euicc_cert));
    RSP_TRY(auto eum, load_cert(s.eum_cert));
    RSP_TRY(auto ci, load_cert(s.ci_cert));
    auto key = pki::load_private_key_file(s.euicc_key);
    if (!key) return unexpected(StoreError{s.euicc_key.filename().string() + ": " + key.error().message});
    auto pub = euicc.public_key();
    if (!pub || pub->public_point() != key->public_point()) {
      return unexpected(StoreError{s.euicc_key.filename().string() + " does not match the eUICC certificate"});
    }
    const std::string cert_eid = euicc.subject_serial_number().value_or("");
    if (!pki::is_valid_eid(cert_eid)) return unexpected(StoreError{"the eUICC certificate carries no valid EID"});
    if (eid.empty()) eid = cert_eid;
    if (cert_eid != eid) return unexpected(StoreError{"the eUICC certificates name different EIDs"});
    if (!ci.subject_key_id()) return unexpected(StoreError{"the CI certificate has no subjectKeyIdentifier"});
    auto pem = key->private_pem();
    if (!pem) return unexpected(StoreError{"cannot export the eUICC key"});
    RSP_TRY_VOID(write(id_file(o.dir, "euicc", s.curve, ".sk.pem"), as_bytes(*pem), fs::perms(0600)));
    RSP_TRY_VOID(write(id_file(o.dir, "euicc", s.curve, ".der"), euicc.der()));
    RSP_TRY_VOID(write(id_file(o.dir, "eum", s.curve, ".der"), eum.der()));
    RSP_TRY_VOID(write(id_file(o.dir, "ci", s.curve, ".der"), ci.der()));
  }
  // state first, the EID file last: the folder counts as an eUICC only once complete.
  EuiccState state;
  state.default_dp_address = o.default_dp_address;
  state.root_ds_address = o.root_ds_address;
  state.lenient_segments = o.lenient_segments;
  EuiccStore store(o.dir);
  RSP_TRY_VOID(store.save(state));
  RSP_TRY_VOID(write(o.dir / "identity" / "eid.txt", as_bytes(eid + "\n")));
  return store;
}

StoreResult<Identity> EuiccStore::identity() const {
  Identity id;
  RSP_TRY(id.eid, eid());
  std::error_code ec;
  for (auto curve : {crypto::Curve::NistP256, crypto::Curve::BrainpoolP256r1}) {
    if (!fs::exists(id_file(dir_, "euicc", curve, ".der"), ec)) continue;
    CurveIdentity c{curve, {}, {}, {}, {}};
    auto e = read_file(id_file(dir_, "euicc", curve, ".der"));
    auto m = read_file(id_file(dir_, "eum", curve, ".der"));
    auto ci = read_file(id_file(dir_, "ci", curve, ".der"));
    if (!e || !m || !ci) return unexpected(StoreError{"incomplete identity files"});
    c.euicc_cert = std::move(*e);
    c.eum_cert = std::move(*m);
    c.ci_cert = std::move(*ci);
    auto cert = pki::Certificate::from_der(c.ci_cert);
    if (!cert || !cert->subject_key_id()) return unexpected(StoreError{"unreadable CI certificate"});
    c.ci_pkid = *cert->subject_key_id();
    id.curves.push_back(std::move(c));
  }
  if (id.curves.empty()) return unexpected(StoreError{"no eUICC certificate"});
  return id;
}

StoreResult<crypto::EcKey> EuiccStore::private_key(crypto::Curve curve) const {
  auto k = pki::load_private_key_file(id_file(dir_, "euicc", curve, ".sk.pem"));
  if (!k) return unexpected(StoreError{"eUICC private key unavailable"});
  return std::move(*k);
}

}  // namespace rsp::euicc
