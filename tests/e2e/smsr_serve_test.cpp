// The SM-SR end to end: `rsp smsr serve` on port 0 in a temporary folder;
// an EUM registers an EIS over ES1 with mutual TLS; two MNOs (API keys) read
// it over ES4, each seeing only its own profiles and never a key; POL2
// refuses; an EnableProfile is accepted and, nothing answering, expires.
// Negative paths: malformed JSON, unknown EID, another MNO's profile, a
// duplicate registration, an ECASD certificate the EUM did not issue, an
// MNO on ES1 and a caller without credentials.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "rsp/common/file.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/tls.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"
#include "smsr_serve_fixture.hpp"
#include "test_support/sample_eis.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kEid = "89049032123451234512345678901235";
const std::string kMno1Key = "mno1-key-2f7e9a0c41d3b8e5";
const std::string kMno2Key = "mno2-key-7c1d5e3a9b0f2468";
const std::string kBoot = "8944000000000000011";
const std::string kSecond = "8944000000000000029";
const std::string kOther = "8933000000000000037";

class SmsrServe : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = rsp({"pki", "init", "--out", pki().string(), "--curves", "nist"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    for (const auto& [name, key] : {std::pair{"mno1.key", kMno1Key}, std::pair{"mno2.key", kMno2Key}})
      ASSERT_TRUE(write_file_atomic(dir_.path() / name, as_bytes(key + "\n"),
                                    fs::perms::owner_read | fs::perms::owner_write));
    json cfg = smsr_serve_config(dir_.path(), pki());
    cfg["ecasd_trust"] = (pki() / "CERT_EUM_ECDSA_NIST.pem").string();
    cfg["mnos"] = {{{"name", "mno1"}, {"api_key_file", "mno1.key"}}, {{"name", "mno2"}, {"api_key_file", "mno2.key"}}};
    std::ofstream(dir_.path() / "smsr.json") << cfg.dump(2);
    serve_ = std::make_unique<ServeProcess>(
        std::vector<std::string>{"--config", (dir_.path() / "smsr.json").string()}, "smsr");
    url_ = serve_->wait_for("listening on ");
    ASSERT_EQ(url_.rfind("https://127.0.0.1:", 0), 0u) << serve_->output();
  }

  fs::path pki() const { return dir_.path() / "pki"; }

  std::unique_ptr<net::HttpsClient> client(bool as_eum) { return smsr_client(url_, pki(), as_eum); }

  struct Answer {
    int status = 0;
    json body;
  };
  Answer call(net::HttpsClient& c, const std::string& path, const std::string& body, const std::string& key = "") {
    net::Headers headers;
    if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + key);
    auto r = c.request("POST", path, body, "application/json", headers);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    if (!r) return {};
    all_bodies_ += r->body;
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  Answer es4(const std::string& fn, const json& body, const std::string& key) {
    return call(*mno_, "/gsma/m2m/es4/" + fn, body.dump(), key);
  }
  static std::string status(const Answer& a) {
    return a.body.is_object() ? a.body["header"]["functionExecutionStatus"].value("status", "") : "";
  }
  static std::string code(const Answer& a) {
    if (!a.body.is_object()) return "";
    const auto& s = a.body["header"]["functionExecutionStatus"]["statusCodeData"];
    return s.value("subjectCode", "") + "/" + s.value("reasonCode", "");
  }
  json eis_with(const std::string& cert_file) {
    const auto der = *net::load_certificates(pki() / cert_file);
    return {{"eis", test_support::sample_eis(kEid, to_hex(der.front()))}};
  }

  test_support::TempDir dir_;
  std::unique_ptr<ServeProcess> serve_;
  std::string url_;
  std::unique_ptr<net::HttpsClient> mno_;
  std::string all_bodies_;
};

TEST_F(SmsrServe, RegisterReadRefuseAcceptExpire) {
  auto eum = client(true);
  mno_ = client(false);
  ASSERT_TRUE(eum && mno_);
  const std::string register_path = "/gsma/m2m/es1/registerEIS";

  // An ECASD certificate the EUM did not issue, and malformed requests.
  auto a = call(*eum, register_path, eis_with("CERT_OPERATOR_TLS_NIST.pem").dump());
  EXPECT_EQ(code(a), "8.1.3/6.1") << a.body;
  a = call(*eum, register_path, "{not json");
  EXPECT_EQ(status(a), "Failed");
  EXPECT_EQ(code(a), "1.6/2.1");
  json bad_key = eis_with("CERT_EUICC_ECDSA_NIST.pem");
  bad_key["eis"]["isdR"]["scp80KeySets"][0]["kic"] = "11111111";
  a = call(*eum, register_path, bad_key.dump());
  EXPECT_EQ(code(a), "1.6/2.1");
  EXPECT_NE(a.body.dump().find("isdR.scp80KeySets[0].kic"), std::string::npos) << a.body;
  // An MNO may not register, a caller without credentials is not known.
  a = call(*mno_, register_path, eis_with("CERT_EUICC_ECDSA_NIST.pem").dump(), kMno1Key);
  EXPECT_EQ(code(a), "1.1/1.2");
  a = call(*mno_, register_path, eis_with("CERT_EUICC_ECDSA_NIST.pem").dump());
  EXPECT_EQ(a.status, 401);

  // Registered once; the second time refused.
  a = call(*eum, register_path, eis_with("CERT_EUICC_ECDSA_NIST.pem").dump());
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(status(a), "Executed-Success") << a.body;
  a = call(*eum, register_path, eis_with("CERT_EUICC_ECDSA_NIST.pem").dump());
  EXPECT_EQ(code(a), "8.1.1/3.3");
  // The EUM has no ES4.
  a = call(*eum, "/gsma/m2m/es4/getEIS", json{{"eid", kEid}}.dump());
  EXPECT_EQ(code(a), "1.1/1.2");

  // GetEIS, filtered per MNO, without keys.
  a = es4("getEIS", {{"eid", kEid}}, kMno1Key);
  ASSERT_EQ(status(a), "Executed-Success") << a.body;
  ASSERT_EQ(a.body["eis"]["profiles"].size(), 2u);
  for (const auto& p : a.body["eis"]["profiles"]) EXPECT_EQ(p["mnoId"], "mno1");
  EXPECT_FALSE(a.body["eis"]["isdR"].contains("scp80KeySets"));
  EXPECT_FALSE(a.body["eis"]["isdR"].contains("scp81Psk"));
  a = es4("getEIS", {{"eid", kEid}}, kMno2Key);
  ASSERT_EQ(a.body["eis"]["profiles"].size(), 1u);
  EXPECT_EQ(a.body["eis"]["profiles"][0]["iccid"], kOther);
  // Unknown EID; another MNO's profile; malformed and unknown members.
  EXPECT_EQ(code(es4("getEIS", {{"eid", "89049032123451234512345678901000"}}, kMno1Key)), "8.1.1/3.9");
  EXPECT_EQ(code(es4("enableProfile", {{"eid", kEid}, {"iccid", kOther}}, kMno1Key)), "8.2.1/3.9");
  EXPECT_EQ(code(es4("enableProfile", {{"eid", kEid}}, kMno1Key)), "1.6/2.2");
  EXPECT_EQ(code(es4("enableProfile", {{"eid", "123"}, {"iccid", kSecond}}, kMno1Key)), "1.6/2.1");
  EXPECT_EQ(code(es4("enableProfile", {{"eid", kEid}, {"iccid", kSecond}, {"extra", 1}}, kMno1Key)), "1.6/2.1");
  EXPECT_EQ(code(call(*mno_, "/gsma/m2m/es4/getEIS", "[1,2", kMno1Key)), "1.6/2.1");

  // POL2 of the enabled bootstrap profile: disabling not allowed, so neither is enabling another.
  a = es4("enableProfile", {{"eid", kEid}, {"iccid", kSecond}}, kMno1Key);
  EXPECT_EQ(code(a), "8.2.2/3.8") << a.body;
  EXPECT_EQ(code(es4("disableProfile", {{"eid", kEid}, {"iccid", kBoot}}, kMno1Key)), "8.2.2/3.8");
  // mno1 lifts the rule; the enable is then accepted at once and expires when nothing answers.
  a = es4("updatePolicyRules", {{"eid", kEid}, {"iccid", kBoot}, {"pol2", json::array()}}, kMno1Key);
  EXPECT_EQ(status(a), "Executed-Success") << a.body;
  a = es4("enableProfile", {{"eid", kEid}, {"iccid", kSecond}, {"validityPeriod", 1}}, kMno1Key);
  ASSERT_EQ(a.status, 202) << a.body;
  EXPECT_EQ(a.body["state"], "accepted");
  const auto id = a.body["operationId"].get<std::int64_t>();
  // Another MNO does not see the operation.
  EXPECT_EQ(code(es4("getOperation", {{"operationId", id}}, kMno2Key)), "1.6/2.1");
  json op;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  do {
    std::this_thread::sleep_for(200ms);
    a = es4("getOperation", {{"operationId", id}}, kMno1Key);
    op = a.body["operation"];
  } while (op.value("state", "") != "expired" && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(op["state"], "expired") << a.body;
  EXPECT_EQ(op["functionExecutionStatus"]["status"], "Expired") << a.body;
  EXPECT_EQ(op["function"], "ES4.EnableProfile");
  // The profile stays disabled.
  a = es4("getEIS", {{"eid", kEid}}, kMno1Key);
  for (const auto& p : a.body["eis"]["profiles"])
    if (p["iccid"] == kSecond) {
      EXPECT_EQ(p["state"], "Disabled");
    }

  // No key in any answer, log or access log.
  EXPECT_EQ(serve_->signal_and_wait(SIGTERM), 0) << serve_->output();
  std::ifstream in(dir_.path() / "access.log");
  const std::string access((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(access.find("ES4.EnableProfile"), std::string::npos) << access;
  for (const std::string& secret : {std::string("11111111111111111111111111111111"),
                                    std::string("22222222222222222222222222222222"),
                                    std::string("33333333333333333333333333333333"), kMno1Key, kMno2Key}) {
    EXPECT_EQ(all_bodies_.find(secret), std::string::npos) << secret;
    EXPECT_EQ(serve_->output().find(secret), std::string::npos) << secret;
    EXPECT_EQ(access.find(secret), std::string::npos) << secret;
  }
  EXPECT_NE(serve_->output().find("operation expired"), std::string::npos) << serve_->output();
}

}  // namespace
}  // namespace rsp::e2e
