// `rsp pki`: test PKI generation, certificate verification and EID helpers.

#include <fmt/core.h>

#include <sstream>

#include "command.hpp"
#include "rsp/pki/directory.hpp"
#include "rsp/pki/eid.hpp"
#include "rsp/pki/key_store.hpp"
#include "rsp/pki/test_pki.hpp"

namespace {

using namespace rsp::pki;

constexpr const char* kInitFiles = R"(Files written for each curve C (NIST, BRP), named as in GSMA SGP.26:
  CERT_CI_ECDSA_C.pem           SK_CI_ECDSA_C.pem           CI (self-signed; with --ci-cert a copy, no key)
  CERT_EUM_ECDSA_C.pem          SK_EUM_ECDSA_C.pem          EUM (name constraints: O + EID prefix)
  CERT_EUICC_ECDSA_C.pem        SK_EUICC_ECDSA_C.pem        eUICC (EID in subject serialNumber)
  CERT_S_SM_DPauth_ECDSA_C.pem  SK_S_SM_DPauth_ECDSA_C.pem  SM-DP+ authentication
  CERT_S_SM_DPpb_ECDSA_C.pem    SK_S_SM_DPpb_ECDSA_C.pem    SM-DP+ profile binding
  CERT_S_SM_DP_TLS_C.pem        SK_S_SM_DP_TLS_C.pem        SM-DP+ TLS (SAN: address + 127.0.0.1)
  CERT_S_SM_DSauth_ECDSA_C.pem  SK_S_SM_DSauth_ECDSA_C.pem  SM-DS authentication
  CERT_S_SM_DS_TLS_C.pem        SK_S_SM_DS_TLS_C.pem        SM-DS TLS
  CERT_M2M_SM_SR_TLS_C.pem      SK_M2M_SM_SR_TLS_C.pem      SGP.02 SM-SR TLS
  CERT_M2M_SM_DP_ECDSA_C.pem    SK_M2M_SM_DP_ECDSA_C.pem    SGP.02 SM-DP ES8 signing (CERT.DP.ECDSA)
  CERT_M2M_SM_DP_TLS_C.pem      SK_M2M_SM_DP_TLS_C.pem      SGP.02 SM-DP TLS
  CERT_OPERATOR_TLS_C.pem       SK_OPERATOR_TLS_C.pem       an operator's ES2+ client certificate (mutual TLS)
and PSK_M2M_SCP81.txt (SCP81 PSK-TLS identity and key). Private keys and the PSK are mode 0600.)";

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "rsp pki: {}\n", message);
  rsp::cli::exit_with(1);
}

struct InitArgs {
  std::string out, curves = "nist,brp", address = "localhost", eid, ci_cert, ci_key;
};

void run_init(const InitArgs& a) {
  TestPkiOptions opt;
  opt.out_dir = a.out;
  opt.smdpp_address = a.address;
  opt.curves.clear();
  for (const auto& c : split_commas(a.curves)) {
    if (c == "nist") {
      opt.curves.push_back(rsp::crypto::Curve::NistP256);
    } else if (c == "brp") {
      opt.curves.push_back(rsp::crypto::Curve::BrainpoolP256r1);
    } else {
      fail("unknown curve '" + c + "' (use nist, brp)");
    }
  }
  if (!a.eid.empty()) opt.eid = a.eid;
  if (a.ci_cert.empty() != a.ci_key.empty()) fail("--ci-cert and --ci-key go together");
  if (!a.ci_cert.empty()) {
    auto certs = Certificate::load_file(a.ci_cert);
    if (!certs) fail(certs.error().message);
    auto key = load_private_key_file(a.ci_key);
    if (!key) fail(key.error().message);
    opt.ci = TestPkiOptions::ExistingCi{certs->front(), std::move(*key)};
  }
  auto pki = make_test_pki(opt);
  if (!pki) fail(pki.error().message);
  fmt::print("Test PKI in {} (EID {}, EUM prefix {})\n", a.out, pki->eid, pki->eid_prefix);
  for (const auto& item : pki->items) {
    fmt::print("  {:<8} {:<34} {} (until {})\n", role_name(item.role), item.cert_file.filename().string(),
               item.subject, format_utc_time(item.not_after));
  }
  fmt::print("  {:<8} {}\n", "psk", pki->psk_file.filename().string());
}

void run_verify(const std::string& dir, const std::string& at_text) {
  std::optional<TimePoint> at;
  if (!at_text.empty()) {
    at = parse_utc_time(at_text);
    if (!at) fail("--at wants YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD");
  }
  auto checks = verify_directory(dir, at);
  if (!checks) fail(checks.error().message);
  if (checks->empty()) fail("no certificates found in " + dir);
  std::size_t failed = 0;
  for (const auto& c : *checks) {
    const std::string role = c.role ? std::string(role_name(*c.role)) : "?";
    std::string line = fmt::format("{:<4} {:<8} {} [{}]", c.error ? "FAIL" : "OK", role, c.file.string(), c.subject);
    if (c.eid) line += " EID " + *c.eid;
    if (c.error) {
      line += fmt::format(": {} ({})", c.error->message, code_name(c.error->code));
      ++failed;
    }
    fmt::print("{}\n", line);
  }
  fmt::print("{} certificate(s), {} failed{}\n", checks->size(), failed,
             at ? " at " + format_utc_time(*at) : std::string());
  if (failed != 0) rsp::cli::exit_with(1);
}

void run_eid(const std::string& check, const std::string& prefix, const std::string& individual) {
  if (!check.empty()) {
    const bool ok = is_valid_eid(check);
    fmt::print("{} {}\n", check, ok ? "valid" : "INVALID");
    if (!ok) rsp::cli::exit_with(1);
    return;
  }
  auto eid = individual.empty() ? make_random_eid(prefix) : make_eid(prefix, individual);
  if (!eid) fail("prefix and individual part must be decimal and 30 digits together");
  fmt::print("{}\n", *eid);
}

}  // namespace

RSP_COMMAND_GROUP(pki) {
  auto* pki = app.add_subcommand("pki", "Test PKI (SGP.26 shape), certificate verification, EIDs");
  pki->require_subcommand(1);

  auto init_args = std::make_shared<InitArgs>();
  auto* init = pki->add_subcommand("init", "Create a complete test PKI (CI, EUM, eUICC, SM-DP+, SM-DS, M2M TLS)");
  init->footer(kInitFiles);
  init->add_option("--out", init_args->out, "Output directory")->required();
  init->add_option("--curves", init_args->curves, "Comma-separated curves: nist, brp")->capture_default_str();
  init->add_option("--smdpp-address", init_args->address, "SM-DP+ host name or IP (DPtls SAN)")
      ->capture_default_str();
  init->add_option("--eid", init_args->eid, "EID of the eUICC (default: a fresh one under 89049032)");
  init->add_option("--ci-cert", init_args->ci_cert, "Issue under this existing CI certificate (PEM or DER); its curve replaces --curves");
  init->add_option("--ci-key", init_args->ci_key, "Private key (PEM) of --ci-cert");
  init->callback([init_args] { run_init(*init_args); });

  auto dir = std::make_shared<std::string>();
  auto at = std::make_shared<std::string>();
  auto* verify = pki->add_subcommand(
      "verify", "Validate every certificate under DIR (recursive; PEM or DER) against the CIs found there");
  verify->add_option("dir", *dir, "Directory to scan")->required();
  verify->add_option("--at", *at, "Verification time, e.g. 2026-07-01T00:00:00Z (default: now)");
  verify->callback([dir, at] { run_verify(*dir, *at); });

  auto check = std::make_shared<std::string>();
  auto prefix = std::make_shared<std::string>("89049032");
  auto individual = std::make_shared<std::string>();
  auto* eid = pki->add_subcommand("eid", "Check an EID (SGP.29 check digits) or make one");
  eid->add_option("--check", *check, "EID to check");
  eid->add_option("--prefix", *prefix, "Prefix of a new EID")->capture_default_str();
  eid->add_option("--individual", *individual, "Individual part of a new EID (default: random)");
  eid->callback([check, prefix, individual] { run_eid(*check, *prefix, *individual); });
}
