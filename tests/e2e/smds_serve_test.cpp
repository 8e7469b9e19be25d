// The SM-DS end to end: `rsp smds serve` on port 0 in a temporary folder with
// the identities `rsp pki init` wrote. An SM-DP+ registers an event over ES12
// with mutual TLS; another caller cannot delete it; a caller without a
// certificate is refused; ES11 InitiateAuthentication answers with the
// DSauth certificate and a signature over serverSigned1, and refuses another
// SM-DS address; SIGTERM drains and stops it.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "rsp/asn1/runtime.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/messages/es11_json.hpp"
#include "rsp/messages/es12_json.hpp"
#include "rsp/messages/es9_json.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/pki/certificate.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
namespace es11 = messages::es11;
namespace es12 = messages::es12;

const std::string kEid = "89049032123451234512345678901235";
const net::Headers kHeaders{{"X-Admin-Protocol", "gsma/rsp/v2.2.2"}};
constexpr const char* kJson = "application/json;charset=UTF-8";

class SmdsServe : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = rsp({"pki", "init", "--out", pki().string(), "--curves", "nist"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    json cfg = {{"listen", "127.0.0.1:0"},
                {"address", "smds.test.example"},
                {"pki", pki().string()},
                {"database", (dir_.path() / "smds.db").string()},
                {"client_trust", ci()},
                {"access_log", (dir_.path() / "access.log").string()},
                {"callers", {{{"name", "smdp"}, {"client_cert", (pki() / "CERT_S_SM_DP_TLS_NIST.pem").string()}},
                             {{"name", "other"}, {"client_cert", (pki() / "CERT_OPERATOR_TLS_NIST.pem").string()}}}}};
    std::ofstream(dir_.path() / "smds.json") << cfg.dump(2);
    serve_ = std::make_unique<ServeProcess>(std::vector<std::string>{"--config", (dir_.path() / "smds.json").string()},
                                            "smds");
    url_ = serve_->wait_for("listening on ");
    ASSERT_EQ(url_.rfind("https://127.0.0.1:", 0), 0u) << serve_->output();
  }

  fs::path pki() const { return dir_.path() / "pki"; }
  std::string ci() const { return (pki() / "CERT_CI_ECDSA_NIST.pem").string(); }

  /// A client as `who`: "smdp", "other" or "" (no certificate).
  std::unique_ptr<net::HttpsClient> client(const std::string& who) {
    net::HttpsClientOptions o;
    o.base_url = url_;
    o.trust_anchors = *net::load_certificates(ci());
    const std::string stem = who == "smdp" ? "S_SM_DP_TLS_NIST" : "OPERATOR_TLS_NIST";
    if (!who.empty()) {
      auto id = net::TlsIdentity::load(pki() / ("CERT_" + stem + ".pem"), pki() / ("SK_" + stem + ".pem"));
      EXPECT_TRUE(id);
      if (id) o.identity = std::move(*id);
    }
    auto c = net::HttpsClient::create(std::move(o));
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return c ? std::move(*c) : nullptr;
  }

  /// POSTs and returns (HTTP status, "subject/reason" or "ok").
  std::pair<int, std::string> call(const std::string& who, std::string_view path, const std::string& body) {
    auto res = client(who)->request("POST", std::string(path), body, kJson, kHeaders);
    if (!res) return {0, res.error().message};
    auto h = messages::es9::decode_response_header(res->body);
    if (!h) return {res->status, "unreadable"};
    if (h->succeeded()) return {res->status, "ok"};
    const auto& d = h->function_execution_status.status_code_data;
    return {res->status, d ? d->subject_code + "/" + d->reason_code : "failed"};
  }

  test_support::TempDir dir_;
  std::unique_ptr<ServeProcess> serve_;
  std::string url_;
};

TEST_F(SmdsServe, RegistersDeletesByItsRegistrarAndAuthenticates) {
  const auto reg = es12::encode_request(es12::RegisterEventRequest{std::nullopt, kEid, "smdp.example", "EV-1", false});
  const auto del = es12::encode_request(es12::DeleteEventRequest{std::nullopt, kEid, "EV-1"});
  EXPECT_EQ(call("smdp", es12::kRegisterEventPath, reg), (std::pair<int, std::string>{200, "ok"}));
  EXPECT_EQ(call("smdp", es12::kRegisterEventPath, reg), (std::pair<int, std::string>{200, "8.9.5/3.3"}));
  EXPECT_EQ(call("other", es12::kDeleteEventPath, del), (std::pair<int, std::string>{200, "8.9.5/3.9"}));
  EXPECT_EQ(call("", es12::kDeleteEventPath, del).first, 401);
  EXPECT_EQ(call("smdp", es12::kRegisterEventPath, "{\"eid\": 1}").second, "1.2/2.1");
  EXPECT_EQ(call("smdp", es12::kDeleteEventPath, del), (std::pair<int, std::string>{200, "ok"}));
  EXPECT_EQ(call("smdp", es12::kDeleteEventPath, del), (std::pair<int, std::string>{200, "8.9.5/3.9"}));

  // ES11: a signed serverSigned1 under DSauth; another SM-DS address refused.
  asn1::sgp22::InitiateAuthenticationRequest init;
  init.euiccChallenge = Bytes(16, 0x42);
  init.euiccInfo1.svn = Bytes{2, 2, 2};
  auto ci_cert = pki::Certificate::load_file(ci());
  ASSERT_TRUE(ci_cert && !ci_cert->empty());
  init.euiccInfo1.euiccCiPKIdListForVerification = {*ci_cert->front().subject_key_id()};
  init.euiccInfo1.euiccCiPKIdListForSigning = {*ci_cert->front().subject_key_id()};
  init.smdpAddress = "smds.test.example";
  auto res = client("")->request("POST", std::string(es11::kInitiateAuthenticationPath),
                                 es11::encode_initiate_authentication_request(init), kJson, kHeaders);
  ASSERT_TRUE(res);
  auto ok = messages::es9::decode_initiate_authentication_response(res->body);
  ASSERT_TRUE(ok) << res->body;
  auto ds_auth = pki::Certificate::from_der(ok->serverCertificate.der);
  ASSERT_TRUE(ds_auth);
  EXPECT_EQ(ds_auth->role(), pki::Role::DsAuth);
  auto key = ds_auth->public_key();
  ASSERT_TRUE(key);
  EXPECT_TRUE(crypto::verify_plain(*key, asn1::encode(ok->serverSigned1), ok->serverSignature1).has_value());
  EXPECT_EQ(ok->serverSigned1.serverAddress, "smds.test.example");
  init.smdpAddress = "elsewhere.example";
  EXPECT_EQ(call("", es11::kInitiateAuthenticationPath, es11::encode_initiate_authentication_request(init)).second,
            "8.9.1/3.8");

  EXPECT_EQ(serve_->stop(), 0);
  EXPECT_NE(serve_->output().find("stopped"), std::string::npos) << serve_->output();
}

}  // namespace
}  // namespace rsp::e2e
