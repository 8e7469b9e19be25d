// Test PKI generation shaped like GSMA SGP.26 (see test_pki.hpp for the files).

#include "rsp/pki/test_pki.hpp"

#include <openssl/rand.h>

#include "rsp/common/file.hpp"
#include "rsp/pki/eid.hpp"
#include "rsp/pki/issuer.hpp"
#include "rsp/pki/key_store.hpp"
#include "rsp/pki/validator.hpp"

namespace rsp::pki {

using Code = PkiError::Code;
using namespace std::chrono_literals;

namespace {

constexpr auto kYear = std::chrono::days(365);

/// One certificate to make: its role, SGP.26 file stem (without "CERT_"/"SK_"
/// and the curve suffix), subject, lifetime and whether it is issued by the EUM.
struct Planned {
  Role role;
  std::string stem;
  std::vector<std::pair<std::string, std::string>> subject;
  std::chrono::seconds lifetime;
  bool tls;
  std::optional<std::string> registered_id;
};

std::string curve_suffix(crypto::Curve c) { return c == crypto::Curve::NistP256 ? "NIST" : "BRP"; }

bool looks_like_ip(const std::string& s) {
  if (s.find(':') != std::string::npos) return true;  // IPv6
  for (char c : s) {
    if (c != '.' && (c < '0' || c > '9')) return false;
  }
  return !s.empty();
}

PkiResult<void> write_cert(const std::filesystem::path& file, const Certificate& cert) {
  const std::string pem = cert.to_pem();
  if (pem.empty()) return pki_error(Code::Internal, "cannot encode certificate");
  auto w = write_file_atomic(file, as_bytes(pem), std::filesystem::perms(0644));
  if (!w) return pki_error(Code::Io, "cannot write " + file.string() + ": " + w.error().message);
  return {};
}

PkiResult<std::filesystem::path> write_psk(const std::filesystem::path& dir) {
  Bytes identity(8), key(16);
  if (RAND_bytes(identity.data(), static_cast<int>(identity.size())) != 1 ||
      RAND_bytes(key.data(), static_cast<int>(key.size())) != 1)
    return pki_error(Code::Internal, "RAND_bytes failed");
  std::string text = "identity=" + to_hex(identity) + "\nkey=" + to_hex(key) + "\n";
  const auto file = dir / "PSK_M2M_SCP81.txt";
  auto w = write_file_atomic(file, as_bytes(text), std::filesystem::perms::owner_read |
                                                        std::filesystem::perms::owner_write);
  std::fill(text.begin(), text.end(), '\0');
  wipe(key);
  if (!w) return pki_error(Code::Io, "cannot write " + file.string() + ": " + w.error().message);
  return file;
}

std::vector<Planned> leaf_plan(const std::string& eid, const std::string& address) {
  using S = std::vector<std::pair<std::string, std::string>>;
  const auto tls_life = std::chrono::duration_cast<std::chrono::seconds>(2 * kYear);
  const auto long_life = std::chrono::duration_cast<std::chrono::seconds>(5 * kYear);
  return {
      {Role::Euicc, "EUICC_ECDSA", S{{"C", "ES"}, {"O", "RSP Test EUM"}, {"serialNumber", eid}, {"CN", "Test eUICC"}},
       std::chrono::duration_cast<std::chrono::seconds>(30 * kYear), false, std::nullopt},
      {Role::DpAuth, "S_SM_DPauth_ECDSA", S{{"O", "ACME"}, {"CN", "TEST SM-DP+"}}, long_life, false, "2.999.10"},
      {Role::DpPb, "S_SM_DPpb_ECDSA", S{{"O", "ACME"}, {"CN", "TEST SM-DP+"}}, long_life, false, "2.999.10"},
      {Role::DpTls, "S_SM_DP_TLS", S{{"O", "ACME"}, {"CN", address}}, tls_life, true, "2.999.10"},
      {Role::DsAuth, "S_SM_DSauth_ECDSA", S{{"O", "ACME"}, {"CN", "TEST SM-DS"}}, long_life, false, "2.999.15"},
      {Role::DsTls, "S_SM_DS_TLS", S{{"O", "ACME"}, {"CN", "localhost"}}, tls_life, true, "2.999.15"},
      {Role::M2mTls, "M2M_SM_SR_TLS", S{{"O", "RSP Test M2M"}, {"OU", "SM-SR"}, {"CN", "localhost"}}, tls_life, true,
       std::nullopt},
      // SGP.02 CERT.DP.ECDSA, the M2M SM-DP's ES8 signing certificate under the CI. SGP.02 codes it in the
      // GP certificate format; this PKI is X.509 throughout and gives it the DPauth role (a signing leaf).
      {Role::DpAuth, "M2M_SM_DP_ECDSA", S{{"O", "RSP Test M2M"}, {"OU", "SM-DP"}, {"CN", "TEST SM-DP"}}, long_life,
       false, std::nullopt},
      {Role::M2mTls, "M2M_SM_DP_TLS", S{{"O", "RSP Test M2M"}, {"OU", "SM-DP"}, {"CN", "localhost"}}, tls_life, true,
       std::nullopt},
      // The operator's ES2+ client certificate (SGP.22 §2.6.6: ES2+ runs over mutual TLS).
      {Role::M2mTls, "OPERATOR_TLS", S{{"O", "RSP Test Operator"}, {"CN", "Test Operator 1"}}, tls_life, true,
       std::nullopt},
  };
}

struct Issued {
  Certificate cert;
  crypto::EcKey key;
};

/// Generates a key, issues its certificate, writes both, and records the item.
PkiResult<Issued> make_one(const CertificateSpec& spec, const std::string& stem, crypto::Curve curve,
                           const Issued* issuer, FileKeyStore& keys, const std::filesystem::path& dir,
                           TestPki& out) {
  auto key = crypto::EcKey::generate(curve);
  if (!key) return pki_error(Code::Internal, "key generation failed: " + key.error().message);
  const crypto::EcKey& signer = issuer ? issuer->key : *key;
  RSP_TRY(auto cert, issue_certificate(spec, *key, issuer ? &issuer->cert : nullptr, signer));
  const std::string name = stem + "_" + curve_suffix(curve);
  RSP_TRY_VOID(keys.store("SK_" + name, *key));
  const auto cert_file = dir / ("CERT_" + name + ".pem");
  RSP_TRY_VOID(write_cert(cert_file, cert));
  out.items.push_back({spec.role, curve, cert_file, keys.path_of("SK_" + name), cert.subject(), cert.not_after()});
  return Issued{std::move(cert), std::move(*key)};
}

PkiResult<void> make_for_curve(const TestPkiOptions& opt, crypto::Curve curve, TimePoint now, FileKeyStore& keys,
                               TestPki& out) {
  const TimePoint from = now - 1h;  // tolerate small clock differences between peers
  const auto& dir = opt.out_dir;
  std::optional<Issued> ci;
  if (opt.ci) {
    ci = Issued{opt.ci->cert, opt.ci->key};
    const auto file = dir / ("CERT_CI_ECDSA_" + curve_suffix(curve) + ".pem");
    RSP_TRY_VOID(write_cert(file, ci->cert));
    out.items.push_back({Role::Ci, curve, file, {}, ci->cert.subject(), ci->cert.not_after()});
  } else {
    CertificateSpec spec;
    spec.role = Role::Ci;
    spec.subject = {{"CN", "RSP Test CI"}, {"OU", "TESTCERT"}, {"O", "RSPTEST"}, {"C", "IT"}};
    spec.not_before = from;
    spec.not_after = from + 30 * kYear;
    spec.registered_id = "2.999.1";
    RSP_TRY(auto made, make_one(spec, "CI_ECDSA", curve, nullptr, keys, dir, out));
    ci = std::move(made);
  }

  CertificateSpec eum_spec;
  eum_spec.role = Role::Eum;
  eum_spec.subject = {{"C", "ES"}, {"O", "RSP Test EUM"}, {"CN", "EUM Test"}};
  eum_spec.not_before = from;
  eum_spec.not_after = from + 30 * kYear;
  eum_spec.registered_id = "2.999.5";
  eum_spec.eum_permitted = EumPermittedName{"RSP Test EUM", out.eid_prefix};
  RSP_TRY(auto eum, make_one(eum_spec, "EUM_ECDSA", curve, &*ci, keys, dir, out));

  for (const auto& p : leaf_plan(out.eid, opt.smdpp_address)) {
    CertificateSpec spec;
    spec.role = p.role;
    spec.subject = p.subject;
    spec.not_before = from;
    spec.not_after = from + p.lifetime;
    spec.registered_id = p.registered_id;
    if (p.tls) {
      const std::string host = p.role == Role::DpTls ? opt.smdpp_address : std::string("localhost");
      (looks_like_ip(host) ? spec.ip_addresses : spec.dns_names).push_back(host);
      if (host != "127.0.0.1") spec.ip_addresses.push_back("127.0.0.1");
    }
    const Issued* issuer = p.role == Role::Euicc ? &eum : &*ci;
    RSP_TRY_VOID(make_one(spec, p.stem, curve, issuer, keys, dir, out));
  }
  return {};
}

}  // namespace

PkiResult<TestPki> make_test_pki(const TestPkiOptions& opt) {
  TestPki out;
  if (opt.eid) {
    if (!is_valid_eid(*opt.eid)) return pki_error(Code::InvalidArgument, "EID " + *opt.eid + " is not a valid EID");
    out.eid = *opt.eid;
    out.eid_prefix = opt.eid->substr(0, 8);
  } else {
    auto eid = make_random_eid(opt.eid_prefix);
    if (!eid) return pki_error(Code::InvalidArgument, "invalid EID prefix " + opt.eid_prefix);
    out.eid = *eid;
    out.eid_prefix = opt.eid_prefix;
  }
  std::vector<crypto::Curve> curves = opt.curves;
  if (opt.ci) {
    if (!opt.ci->cert.curve()) return pki_error(Code::WrongCurve, "the CI key is not on a supported curve");
    if (!key_matches_certificate(opt.ci->cert, opt.ci->key))
      return pki_error(Code::InvalidArgument, "the CI private key does not belong to the CI certificate");
    RSP_TRY_VOID(validate_ci(opt.ci->cert, opt.now));
    curves = {*opt.ci->cert.curve()};
  }
  if (curves.empty()) return pki_error(Code::InvalidArgument, "no curve selected");
  std::error_code ec;
  std::filesystem::create_directories(opt.out_dir, ec);
  if (ec) return pki_error(Code::Io, "cannot create " + opt.out_dir.string() + ": " + ec.message());

  const TimePoint now =
      opt.now.value_or(std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
  FileKeyStore keys(opt.out_dir);
  for (auto curve : curves) RSP_TRY_VOID(make_for_curve(opt, curve, now, keys, out));
  RSP_TRY(out.psk_file, write_psk(opt.out_dir));
  return out;
}

}  // namespace rsp::pki
