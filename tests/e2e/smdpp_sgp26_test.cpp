// The SM-DP+ with the GSMA SGP.26 test identities (DPauth, DPpb from the
// reference folder) and a TS.48 test profile in its inventory serves the
// SGP.26 test eUICC (EID 89049032123451234512345678901235), made by
// `rsp euicc create --pki <reference certs>`, through `rsp lpa download`
// over HTTPS. The SGP.26 DPtls certificates have expired, so the test issues
// a fresh one for the SGP.26 SM-DP+ name from the Test CI, as the reference
// README says to.

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "run_tool.hpp"
#include "serve_process.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSgp26Eid = "89049032123451234512345678901235";
constexpr const char* kSgp26Address = "testsmdpplus1.example.com";
constexpr const char* kTs48 = "TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der";

TEST(SmdppSgp26, TestEuiccDownloadsTs48ProfileOverHttps) {
  const fs::path ref = reference_dir();
  if (ref.empty() || !fs::exists(ref / "certs" / "CertificateIssuer" / "SK_CI_ECDSA_NIST.pem") ||
      !fs::exists(ref / "upp" / kTs48))
    GTEST_SKIP() << "SGP.26 / TS.48 reference folder absent";
  const fs::path certs = ref / "certs";
  TempDir dir;
  const fs::path db = dir.path() / "smdpp.db";
  const fs::path card = dir.path() / "card";
  const fs::path tls = dir.path() / "tls";

  // A DPtls for the SGP.26 SM-DP+ name under the SGP.26 Test CI.
  auto r = rsp({"pki", "init", "--out", tls.string(), "--ci-cert",
                (certs / "CertificateIssuer" / "CERT_CI_ECDSA_NIST.pem").string(), "--ci-key",
                (certs / "CertificateIssuer" / "SK_CI_ECDSA_NIST.pem").string(), "--smdpp-address", kSgp26Address});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(fs::exists(tls / "CERT_S_SM_DP_TLS_NIST.pem")) << r.output;

  r = rsp({"smdpp", "profiles", "import", (ref / "upp" / kTs48).string(), "--operator", "gsma", "--type", "ts48",
           "--db", db.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"euicc", "create", "--dir", card.string(), "--pki", certs.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"euicc", "info", "--dir", card.string()});
  ASSERT_NE(r.output.find(kSgp26Eid), std::string::npos) << r.output;
  r = rsp({"smdpp", "order", "--db", db.string(), "--operator", "gsma", "--type", "ts48", "--eid", kSgp26Eid,
           "--address", kSgp26Address});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto ac_at = r.output.find("LPA:1$");
  ASSERT_NE(ac_at, std::string::npos) << r.output;
  const std::string ac = r.output.substr(ac_at, r.output.find('\n', ac_at) - ac_at);
  const auto iccid_at = r.output.find("ICCID:");
  ASSERT_NE(iccid_at, std::string::npos) << r.output;
  const auto iccid_start = r.output.find_first_not_of(' ', iccid_at + 6);
  const std::string iccid = r.output.substr(iccid_start, r.output.find('\n', iccid_start) - iccid_start);

  const fs::path config = dir.path() / "smdpp.json";
  std::ofstream(config) << R"({"listen": "127.0.0.1:0", "address": ")" << kSgp26Address << R"(", "pki": ")"
                        << certs.string() << R"(", "database": ")" << db.string() << R"(", "tls_cert": ")"
                        << (tls / "CERT_S_SM_DP_TLS_NIST.pem").string() << R"(", "tls_key": ")"
                        << (tls / "SK_S_SM_DP_TLS_NIST.pem").string() << R"("})";
  ServeProcess serve({"--config", config.string()});
  ASSERT_TRUE(serve.started());
  const std::string url = serve.wait_for("listening on ");
  ASSERT_FALSE(url.empty()) << serve.output();
  const std::string endpoint = url.substr(url.find("://") + 3);

  // The LPA trusts the card's CI (the SGP.26 Test CI) for the TLS certificate.
  r = rsp({"lpa", "download", "--euicc", card.string(), "--ac", ac, "--resolve",
           std::string(kSgp26Address) + ":" + endpoint});
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n" << serve.output();
  EXPECT_NE(r.output.find("installed ICCID "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(\"ts48\" by gsma); install notification delivered and removed"), std::string::npos)
      << r.output;

  r = rsp({"euicc", "info", "--dir", card.string()});
  EXPECT_NE(r.output.find("1 profile(s)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"ts48\" (gsma)"), std::string::npos) << r.output;
  r = rsp({"smdpp", "profiles", "list", "--db", db.string()});
  EXPECT_NE(r.output.find(iccid), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("installed"), std::string::npos) << r.output;
  EXPECT_EQ(serve.signal_and_wait(SIGTERM), 0) << serve.output();
}

}  // namespace
}  // namespace rsp::e2e
