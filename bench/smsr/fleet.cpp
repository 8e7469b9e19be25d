#include "fleet.hpp"

#include <chrono>
#include <cstdio>

#include "rsp/common/file.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/euicc_m2m/create.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/m2m/isdr_commands.hpp"
#include "rsp/pki/eid.hpp"
#include "rsp/pki/issuer.hpp"
#include "rsp/pki/key_store.hpp"
#include "rsp/pki/test_pki.hpp"

namespace rsp::bench {

namespace fs = std::filesystem;

namespace {

std::string digits(std::size_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*zu", width, v);
  return buf;
}

expected<m2m::Eis, std::string> fail(std::string what) { return unexpected(std::move(what)); }

}  // namespace

// 19-digit ICCIDs under the test prefix 89882 (E.118: 89 + country + issuer)
// and international MSISDNs in the UK drama range 4477009; no check digit is
// needed by the registry (m2m/eis_json.cpp takes 18 to 20 digits).
std::string fleet_iccid(std::size_t i, int profile) { return "8988200" + std::to_string(profile) + digits(i, 11); }
std::string fleet_msisdn(std::size_t i, int profile) { return "4477" + std::to_string(profile) + digits(i, 7); }

expected<m2m::Eis, std::string> make_card(const fs::path& pki_dir, const fs::path& dir, std::size_t i) {
  const pki::TestPkiOptions defaults;
  auto eum_certs = pki::Certificate::load_file(pki_dir / "CERT_EUM_ECDSA_NIST.pem");
  auto eum_key = pki::load_private_key_file(pki_dir / "SK_EUM_ECDSA_NIST.pem");
  if (!eum_certs || eum_certs->empty() || !eum_key) return fail("the test EUM's certificate or key");
  auto key = crypto::EcKey::generate(crypto::Curve::NistP256);
  const auto eid = pki::make_random_eid(defaults.eid_prefix);
  if (!key || !eid) return fail("eUICC key or EID");
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  pki::CertificateSpec spec;
  spec.role = pki::Role::Euicc;
  spec.subject = {{"C", "ES"}, {"O", "RSP Test EUM"}, {"serialNumber", *eid}, {"CN", "Test eUICC"}};
  spec.not_before = now - std::chrono::hours(1);
  spec.not_after = now + std::chrono::hours(24 * 365);
  auto cert = pki::issue_certificate(spec, *key, &eum_certs->front(), *eum_key);
  if (!cert) return fail("issuing the eUICC certificate");
  auto key_pem = key->private_pem();
  if (!key_pem) return fail("eUICC key PEM");

  const fs::path ids = dir / ("id-" + std::to_string(i));
  std::error_code ec;
  fs::create_directories(ids, ec);
  euicc::IdentitySource source{crypto::Curve::NistP256, ids / "CERT_EUICC.pem", ids / "SK_EUICC.pem",
                               pki_dir / "CERT_EUM_ECDSA_NIST.pem", pki_dir / "CERT_CI_ECDSA_NIST.pem"};
  if (!write_file_atomic(source.euicc_cert, as_bytes(cert->to_pem()), fs::perms(0644)) ||
      !write_file_atomic(source.euicc_key, as_bytes(*key_pem), fs::perms(0600)))
    return fail("writing the eUICC identity files");

  euicc_m2m::M2mCreateOptions o;
  o.dir = dir / ("card-" + std::to_string(i));
  o.sources = {source};
  o.smsr_id = "smsr.bench";
  o.profiles = {{euicc_m2m::isdp_aid(0), *messages::iccid_from_digits(fleet_iccid(i, 0)), kBenchMno,
                 m2m::pol1::kDeleteNotAllowed, true, true},
                {euicc_m2m::isdp_aid(1), *messages::iccid_from_digits(fleet_iccid(i, 1)), kBenchMno, 0, false,
                 false}};
  auto store = euicc_m2m::create_m2m_euicc(o);
  if (!store) return fail("card " + std::to_string(i) + ": " + store.error().message);
  euicc_m2m::RegistrationFacts facts{kBenchEum, "", {{fleet_iccid(i, 0), fleet_msisdn(i, 0)},
                                                     {fleet_iccid(i, 1), fleet_msisdn(i, 1)}}};
  auto eis = euicc_m2m::registration_eis(*store, facts);
  if (!eis) return fail("card " + std::to_string(i) + " EIS: " + eis.error().message);
  return *eis;
}

m2m::Eis synthetic_eis(const m2m::Eis& model, std::size_t i) {
  const pki::TestPkiOptions defaults;
  crypto::SystemRandom random;
  m2m::Eis e = model;
  e.eid = pki::make_random_eid(defaults.eid_prefix).value_or("");
  for (auto& k : e.isd_r.scp80_key_sets) {
    k.kic = random.bytes(16);
    k.kid = random.bytes(16);
  }
  const std::string identity = "eUICC-" + e.eid;
  e.isd_r.scp81_psk = m2m::Scp81Psk{Bytes(identity.begin(), identity.end()), random.bytes(16)};
  for (std::size_t p = 0; p < e.profiles.size(); ++p) {
    e.profiles[p].iccid = fleet_iccid(i, static_cast<int>(p));
    e.profiles[p].subscription_address.msisdn = fleet_msisdn(i, static_cast<int>(p));
  }
  return e;
}

}  // namespace rsp::bench
