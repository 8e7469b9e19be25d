// The SM-SR change between two `rsp smsr serve` processes (ES7 over HTTPS
// with mutual TLS, the SM-SR's TLS certificate as client identity): the new
// SM-SR is told which SM-SR the eUICC comes from (ES4 PrepareSMSRChange), the
// current one is asked to hand it over (ES4 SMSRChange) and, calling the new
// one's AuthenticateSMSR and CreateAdditionalKeyset, accepts it as an
// operation (no device runs here: the card's part is tested in process,
// tests/unit/smsr/smsr_change_test.cpp). Refusals: an unknown target, an MNO
// on ES7, a change the new SM-SR was not prepared for.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "rsp/common/file.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/tls.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"
#include "test_support/sample_eis.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kEid = "89049032123451234512345678901235";
const std::string kMnoKey = "mno1-key-5b2e8d1f07a3c964";

class SmsrEs7Serve : public ::testing::Test {
 protected:
  void SetUp() override {
    // The ECASD certificate must name the EID handed over: the new SM-SR checks it.
    auto r = rsp({"pki", "init", "--out", pki().string(), "--curves", "nist", "--eid", kEid});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_TRUE(write_file_atomic(dir_.path() / "mno1.key", as_bytes(kMnoKey + "\n"),
                                  fs::perms::owner_read | fs::perms::owner_write));
    // The new SM-SR first: the current one needs its URL. It never calls back here.
    new_ = start("smsr-2", "https://127.0.0.1:1", true);
    ASSERT_TRUE(new_);
    new_url_ = new_->wait_for("listening on ");
    current_ = start("smsr-1", new_url_, false);
    ASSERT_TRUE(current_);
    current_url_ = current_->wait_for("listening on ");
    ASSERT_EQ(current_url_.rfind("https://127.0.0.1:", 0), 0u) << current_->output();
  }

  std::unique_ptr<ServeProcess> start(const std::string& id, const std::string& peer_url, bool takes_over) {
    const std::string peer = id == "smsr-1" ? "smsr-2" : "smsr-1";
    json cfg = {{"listen", "127.0.0.1:0"},
                {"smsr_id", id},
                {"tls_cert", (pki() / "CERT_M2M_SM_SR_TLS_NIST.pem").string()},
                {"tls_key", (pki() / "SK_M2M_SM_SR_TLS_NIST.pem").string()},
                {"database", (dir_.path() / (id + ".db")).string()},
                {"client_trust", ci()},
                {"ecasd_trust", (pki() / "CERT_EUM_ECDSA_NIST.pem").string()},
                {"es7_trust", ci()},
                {"access_log", (dir_.path() / (id + ".log")).string()},
                {"eums", {{{"name", "EUM-TEST"}, {"client_cert", (pki() / "CERT_OPERATOR_TLS_NIST.pem").string()}}}},
                {"mnos", {{{"name", "mno1"}, {"api_key_file", "mno1.key"}}}},
                {"smsrs", {{{"name", peer},
                            {"client_cert", (pki() / "CERT_M2M_SM_SR_TLS_NIST.pem").string()},
                            {"es7_url", peer_url}}}}};
    if (takes_over) {
      // CERT.SR.ECDSA's stand-in: the test PKI's M2M signing certificate under the CI.
      cfg["es7_certificate"] = (pki() / "CERT_M2M_SM_DP_ECDSA_NIST.pem").string();
      cfg["es7_key"] = (pki() / "SK_M2M_SM_DP_ECDSA_NIST.pem").string();
      cfg["es7_ci"] = ci();
    }
    std::ofstream(dir_.path() / (id + ".json")) << cfg.dump(2);
    return std::make_unique<ServeProcess>(std::vector<std::string>{"--config", (dir_.path() / (id + ".json")).string()},
                                          "smsr");
  }

  fs::path pki() const { return dir_.path() / "pki"; }
  std::string ci() const { return (pki() / "CERT_CI_ECDSA_NIST.pem").string(); }

  json call(const std::string& url, const std::string& path, const json& body, bool as_eum) {
    net::HttpsClientOptions o;
    o.base_url = url;
    o.trust_anchors = *net::load_certificates(ci());
    if (as_eum) o.identity = *net::TlsIdentity::load(pki() / "CERT_OPERATOR_TLS_NIST.pem", pki() / "SK_OPERATOR_TLS_NIST.pem");
    auto c = net::HttpsClient::create(std::move(o));
    EXPECT_TRUE(c);
    if (!c) return {};
    net::Headers headers;
    if (!as_eum) headers.emplace_back("Authorization", "Bearer " + kMnoKey);
    auto r = (*c)->request("POST", path, body.dump(), "application/json", headers);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    if (!r) return {};
    return json::parse(r->body, nullptr, false);
  }
  static std::string status(const json& j) {
    return j.is_object() ? j.value("functionExecutionStatus", json::object()).value("status", "") : "";
  }
  static std::string code(const json& j) {
    if (!j.is_object()) return "";
    const auto s = j.value("functionExecutionStatus", json::object()).value("statusCodeData", json::object());
    return s.value("subjectCode", "") + "/" + s.value("reasonCode", "");
  }

  test_support::TempDir dir_;
  std::unique_ptr<ServeProcess> new_, current_;
  std::string new_url_, current_url_;
};

TEST_F(SmsrEs7Serve, ChangeAcceptedAcrossTwoProcesses) {
  const auto der = *net::load_certificates(pki() / "CERT_EUICC_ECDSA_NIST.pem");
  auto reg = call(current_url_, "/gsma/m2m/es1/registerEIS",
                  {{"eis", test_support::sample_eis(kEid, to_hex(der.front()))}}, true);
  ASSERT_EQ(reg["header"]["functionExecutionStatus"].value("status", ""), "Executed-Success") << reg;

  // Not prepared at the new SM-SR: it refuses AuthenticateSMSR, and so the change.
  auto a = call(current_url_, "/gsma/m2m/es4/smsrChange", {{"eid", kEid}, {"targetSmsrId", "smsr-2"}}, false);
  EXPECT_EQ(code(a), "1.1/1.2") << a;
  // An unknown target.
  a = call(current_url_, "/gsma/m2m/es4/smsrChange", {{"eid", kEid}, {"targetSmsrId", "smsr-9"}}, false);
  EXPECT_EQ(code(a), "1.6/2.1") << a;
  // An MNO may not call ES7.
  a = call(new_url_, "/gsma/m2m/es7/authenticateSMSR", {{"eid", kEid}, {"ecasdCertificate", "3000"}}, false);
  EXPECT_EQ(code(a), "1.1/1.2") << a;

  a = call(new_url_, "/gsma/m2m/es4/prepareSMSRChange", {{"eid", kEid}, {"currentSmsrId", "smsr-1"}}, false);
  EXPECT_EQ(status(a), "Executed-Success") << a;
  a = call(current_url_, "/gsma/m2m/es4/smsrChange", {{"eid", kEid}, {"targetSmsrId", "smsr-2"}}, false);
  EXPECT_EQ(status(a), "Executed-Success") << a << current_->output() << new_->output();
  EXPECT_GT(a.value("operationId", 0), 0) << a;
}

}  // namespace
}  // namespace rsp::e2e
