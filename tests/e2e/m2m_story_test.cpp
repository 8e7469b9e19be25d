// The M2M story across processes: `rsp smsr serve` (the SM-SR), `rsp
// euicc create --m2m` (the EUM's card and its RegisterEIS body) and, once the
// SM-SR sends wake-ups, `rsp-test-smsc` and `rsp euicc m2m-run`; all on
// port 0 in a temporary folder. This part: the body `rsp euicc create --m2m`
// prints is what ES1 RegisterEIS takes, and an MNO then reads its profiles
// with their subscription addresses over ES4, without a key.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "rsp/common/file.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/tls.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kMnoKey = "story-mno-key-4c2e8a1f9d3b";
const std::string kEumKey = "story-eum-key-7a9c1e3f5b2d";

class M2mStory : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = rsp({"pki", "init", "--out", pki().string(), "--curves", "nist"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"euicc", "create", "--m2m", "--dir", (dir_.path() / "card").string(), "--pki", pki().string(),
             "--eum-id", "EUM-STORY", "--mno", "mno-story", "--mno", "mno-story", "--msisdn", "447700900001",
             "--msisdn", "447700900002"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    register_body_ = r.output;
    for (const auto& [name, key] : {std::pair{"mno.key", kMnoKey}, std::pair{"eum.key", kEumKey}})
      ASSERT_TRUE(write_file_atomic(dir_.path() / name, as_bytes(key + "\n"),
                                    fs::perms::owner_read | fs::perms::owner_write));
    json cfg = {{"listen", "127.0.0.1:0"},
                {"tls_cert", (pki() / "CERT_M2M_SM_SR_TLS_NIST.pem").string()},
                {"tls_key", (pki() / "SK_M2M_SM_SR_TLS_NIST.pem").string()},
                {"database", (dir_.path() / "smsr.db").string()},
                {"ecasd_trust", (pki() / "CERT_EUM_ECDSA_NIST.pem").string()},
                {"eums", {{{"name", "EUM-STORY"}, {"api_key_file", "eum.key"}}}},
                {"mnos", {{{"name", "mno-story"}, {"api_key_file", "mno.key"}}}}};
    std::ofstream(dir_.path() / "smsr.json") << cfg.dump(2);
    smsr_ = std::make_unique<ServeProcess>(std::vector<std::string>{"--config", (dir_.path() / "smsr.json").string()},
                                           "smsr");
    url_ = smsr_->url();
    ASSERT_EQ(url_.rfind("https://127.0.0.1:", 0), 0u) << smsr_->output();
    net::HttpsClientOptions o;
    o.base_url = url_;
    o.trust_anchors = *net::load_certificates(pki() / "CERT_CI_ECDSA_NIST.pem");
    auto c = net::HttpsClient::create(std::move(o));
    ASSERT_TRUE(c) << c.error().message;
    client_ = std::move(*c);
  }

  fs::path pki() const { return dir_.path() / "pki"; }

  json call(const std::string& path, const std::string& body, const std::string& key) {
    auto r = client_->request("POST", path, body, "application/json", {{"Authorization", "Bearer " + key}});
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    if (!r) return {};
    bodies_ += r->body;
    return json::parse(r->body, nullptr, false);
  }
  static std::string status(const json& a) {
    return a.is_object() ? a["header"]["functionExecutionStatus"].value("status", "") : "";
  }

  TempDir dir_;
  std::string register_body_;
  std::unique_ptr<ServeProcess> smsr_;
  std::string url_;
  std::unique_ptr<net::HttpsClient> client_;
  std::string bodies_;
};

TEST_F(M2mStory, TheCardsRegisterEisBodyIsWhatEs1Takes) {
  auto a = call("/gsma/m2m/es1/registerEIS", register_body_, kEumKey);
  ASSERT_EQ(status(a), "Executed-Success") << a;
  const auto eid = json::parse(register_body_)["eis"]["eid"].get<std::string>();
  a = call("/gsma/m2m/es4/getEIS", json{{"eid", eid}}.dump(), kMnoKey);
  ASSERT_EQ(status(a), "Executed-Success") << a;
  const auto& profiles = a["eis"]["profiles"];
  ASSERT_EQ(profiles.size(), 2u) << a;
  EXPECT_EQ(profiles[0]["state"], "Enabled");
  EXPECT_EQ(profiles[0]["fallbackAttribute"], true);
  EXPECT_EQ(profiles[0]["subscriptionAddress"]["msisdn"], "447700900001");
  EXPECT_EQ(profiles[1]["state"], "Disabled");
  EXPECT_EQ(profiles[1]["subscriptionAddress"]["msisdn"], "447700900002");
  // The same card again is refused; its keys never come back.
  a = call("/gsma/m2m/es1/registerEIS", register_body_, kEumKey);
  EXPECT_EQ(status(a), "Failed") << a;
  const auto keys = json::parse(register_body_)["eis"]["isdR"];
  EXPECT_EQ(bodies_.find(keys["scp81Psk"]["key"].get<std::string>()), std::string::npos);
  EXPECT_EQ(bodies_.find(keys["scp80KeySets"][0]["kic"].get<std::string>()), std::string::npos);
  EXPECT_EQ(smsr_->stop(), 0) << smsr_->output();
  EXPECT_EQ(smsr_->output().find(keys["scp81Psk"]["key"].get<std::string>()), std::string::npos);
}

}  // namespace
}  // namespace rsp::e2e
