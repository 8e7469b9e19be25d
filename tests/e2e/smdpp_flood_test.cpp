// A flood of ES9+ InitiateAuthentication, which needs no credentials, does
// not lock genuine eUICCs out of `rsp smdpp serve`: right after a thousand
// unanswered calls from one client, a genuine download from the same address
// succeeds at once. (The per-peer share, which keeps other addresses free of
// any flood, is checked on both session stores in smdpp_store_tests.)

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "rsp/asn1/sgp22.hpp"
#include "rsp/common/file.hpp"
#include "rsp/messages/es9_json.hpp"
#include "rsp/net/client.hpp"
#include "rsp/pki/certificate.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TEST(SmdppFlood, AGenuineDownloadSucceedsRightAfterAFloodOfInitiateAuthentication) {
  TempDir dir;
  const fs::path pki = dir.path() / "pki";
  auto r = rsp({"pki", "init", "--out", pki.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string ci = (pki / "CERT_CI_ECDSA_NIST.pem").string();
  r = rsp({"profile", "sample", "--out", (dir.path() / "upp").string(), "--count", "1", "--type", "e2e"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string db = (dir.path() / "smdpp.db").string();
  r = rsp({"smdpp", "profiles", "import", (dir.path() / "upp").string(), "--operator", "op1", "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path key = dir.path() / "op1.key";
  ASSERT_TRUE(write_file_atomic(key, as_bytes(std::string("flood-test-key-7e6d5c4b3a29\n")),
                                fs::perms::owner_read | fs::perms::owner_write));
  // A small table, so that the flood is many times its size.
  const json cfg = {{"listen", "127.0.0.1:0"},   {"address", "localhost"},
                    {"pki", pki.string()},       {"database", db},
                    {"max_sessions", 100},       {"peer_session_share", 10},
                    {"operators", {{{"name", "op1"}, {"api_key_file", key.string()}}}}};
  std::ofstream(dir.path() / "smdpp.json") << cfg.dump();
  ServeProcess serve({"--config", (dir.path() / "smdpp.json").string()});
  const std::string url = serve.url();
  ASSERT_FALSE(url.empty()) << serve.output();

  const fs::path card = dir.path() / "euicc";
  r = rsp({"euicc", "create", "--dir", card.string(), "--pki", pki.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"smdpp", "es2", "order", "--url", url, "--trust", ci, "--operator", "op1", "--api-key-file", key.string(),
           "--type", "e2e"});
  ASSERT_EQ(r.exit_code, 0) << r.output << serve.output();
  const auto ac_at = r.output.find("LPA:1$localhost$");
  ASSERT_NE(ac_at, std::string::npos) << r.output;
  const std::string ac = r.output.substr(ac_at, r.output.find('\n', ac_at) - ac_at);

  // The flood: well-formed InitiateAuthentication calls over one keep-alive
  // connection, each answered with a session that is never continued.
  auto ci_certs = net::load_certificates(ci);
  ASSERT_TRUE(ci_certs);
  auto ci_cert = pki::Certificate::from_der(ci_certs->front());
  ASSERT_TRUE(ci_cert);
  asn1::sgp22::InitiateAuthenticationRequest req;
  req.euiccChallenge = Bytes(16, 0x5A);
  req.smdpAddress = "localhost";
  req.euiccInfo1.svn = Bytes{2, 2, 2};
  req.euiccInfo1.euiccCiPKIdListForVerification = {ci_cert->subject_key_id().value_or(Bytes{})};
  req.euiccInfo1.euiccCiPKIdListForSigning = req.euiccInfo1.euiccCiPKIdListForVerification;
  const std::string body = messages::es9::encode_request(req);
  net::HttpsClientOptions o;
  o.base_url = url;
  o.server_name = "localhost";
  o.trust_anchors = *ci_certs;
  auto client = net::HttpsClient::create(std::move(o));
  ASSERT_TRUE(client);
  int ok = 0;
  for (int i = 0; i < 1000; ++i) {
    auto res = (*client)->request("POST", "/gsma/rsp2/es9plus/initiateAuthentication", body,
                                  "application/json;charset=UTF-8", {{"X-Admin-Protocol", "gsma/rsp/v2.2.0"}});
    ASSERT_TRUE(res) << i << ": " << res.error().message;
    if (res->status == 200 && res->body.find("Executed-Success") != std::string::npos) ++ok;
  }
  EXPECT_EQ(ok, 1000);  // a flood is answered, not refused: only the oldest waiting sessions give way

  auto dl = rsp({"lpa", "download", "--euicc", card.string(), "--ac", ac, "--resolve",
                 "localhost:127.0.0.1:" + url.substr(url.rfind(':') + 1)});
  EXPECT_EQ(dl.exit_code, 0) << dl.output << serve.output();
  EXPECT_NE(dl.output.find("installed ICCID"), std::string::npos) << dl.output;
  EXPECT_EQ(serve.stop(), 0) << serve.output();
}

}  // namespace
}  // namespace rsp::e2e
