// `rsp lpa profile download` and the SM-DP+'s TLS (SGP.22 v2.2.2 §2.6.6):
// the server chain checked against the CI certificates of --ci that the
// eUICC lists, a CI folder without the SM-DP+'s root refused in words with
// nothing installed, --insecure as a lab switch with its warning, and an
// SM-DP+ with brainpool TLS only reached. The SM-DP+ runs on port 0.

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "minimal_upp.hpp"
#include "rsp/common/file.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;

class LpaTlsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path upps = dir_.path() / "upp";
    fs::create_directories(upps);
    for (int i = 1; i <= 4; ++i) {
      ASSERT_TRUE(write_file_atomic(upps / (std::to_string(i) + ".der"),
                                    minimal_upp("9894000000000000" + std::to_string(i) + "002")));
    }
    // Both curves: the eUICC lists the NIST and the brainpool CI.
    auto r = rsp({"pki", "init", "--out", pki(), "--smdpp-address", "localhost"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"smdpp", "profiles", "import", upps.string(), "--operator", "op", "--db", db()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"euicc", "create", "--dir", card(), "--pki", pki()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  std::string pki() const { return (dir_.path() / "pki").string(); }
  std::string db() const { return (dir_.path() / "smdpp.db").string(); }
  std::string card() const { return (dir_.path() / "card").string(); }

  /// A released order for ICCID 89490000000000000N20 (the profile file N above).
  void order(int n, const std::string& matching_id) {
    auto r = rsp({"smdpp", "order", "--db", db(), "--operator", "op", "--iccid",
                  "89490000000000000" + std::to_string(n) + "20", "--matching-id", matching_id, "--address",
                  "localhost"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  /// `rsp smdpp serve` on 127.0.0.1:0 with the DPtls of one curve only.
  std::unique_ptr<ServeProcess> serve(const std::string& curve) {
    const fs::path config = dir_.path() / ("smdpp-" + curve + ".json");
    std::ofstream(config) << R"({"listen": "127.0.0.1:0", "address": "localhost", "pki": ")" << pki()
                          << R"(", "database": ")" << db() << R"(", "tls_cert": ")" << pki() << "/CERT_S_SM_DP_TLS_"
                          << curve << R"(.pem", "tls_key": ")" << pki() << "/SK_S_SM_DP_TLS_" << curve << R"(.pem"})";
    auto s = std::make_unique<ServeProcess>(std::vector<std::string>{"--config", config.string()});
    const std::string url = s->url();
    port_ = url.substr(url.rfind(':') + 1);
    return s;
  }

  RunResult download(const std::string& matching_id, std::vector<std::string> extra) {
    std::vector<std::string> args{"lpa", "--euicc", "sim:" + card(), "--resolve", "localhost:127.0.0.1:" + port_};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"profile", "download", "LPA:1$localhost$" + matching_id});
    return rsp(args);
  }

  std::size_t profiles_on_card() {
    auto r = rsp({"lpa", "--euicc", "sim:" + card(), "--json", "profile", "list"});
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.output;
    return j.is_discarded() ? 0 : j["data"].size();
  }

  TempDir dir_;
  std::string port_;
};

TEST_F(LpaTlsCli, ServerChainCheckedAgainstTheEuiccsCis) {
  order(1, "RIGHT-CI");
  order(2, "WRONG-CI");
  order(3, "INSECURE");
  auto server = serve("NIST");
  ASSERT_FALSE(port_.empty()) << server->output();

  // (a) The SM-DP+'s root named with --ci (a file): installed.
  auto r = download("RIGHT-CI", {"--ci", pki() + "/CERT_CI_ECDSA_NIST.pem"});
  ASSERT_EQ(r.exit_code, 0) << r.output << server->output();
  EXPECT_NE(r.output.find("installed ICCID"), std::string::npos) << r.output;
  EXPECT_EQ(profiles_on_card(), 1u);

  // (b) A CI folder without the SM-DP+'s root (the eUICC lists the brainpool
  // CI in it, so it is an anchor, but not the one the chain needs): refused
  // at the handshake, in words, nothing installed.
  const fs::path brp_only = dir_.path() / "ci-brp";
  fs::create_directories(brp_only);
  fs::copy_file(pki() + "/CERT_CI_ECDSA_BRP.pem", brp_only / "CERT_CI_ECDSA_BRP.pem");
  fs::copy_file(pki() + "/SK_CI_ECDSA_BRP.pem", brp_only / "SK_CI_ECDSA_BRP.pem");  // a key: passed over
  r = download("WRONG-CI", {"--ci", brp_only.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("TLS certificate of localhost"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("was refused"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("unable to get local issuer certificate"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("trust anchors: "), std::string::npos) << r.output;
  EXPECT_EQ(profiles_on_card(), 1u);
  // A folder whose certificates the eUICC does not list at all: refused before any connection.
  const fs::path unlisted = dir_.path() / "ci-unlisted";
  fs::create_directories(unlisted);
  fs::copy_file(pki() + "/CERT_EUM_ECDSA_NIST.pem", unlisted / "eum.pem");
  r = download("WRONG-CI", {"--ci", unlisted.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("none of the CI certificates given is one the eUICC lists"), std::string::npos)
      << r.output;

  // (c) --insecure: a lab switch, with its warning; the download works.
  r = download("INSECURE", {"--ci", brp_only.string(), "--insecure"});
  ASSERT_EQ(r.exit_code, 0) << r.output << server->output();
  EXPECT_NE(r.output.find("WARNING: --insecure"), std::string::npos) << r.output;
  EXPECT_EQ(profiles_on_card(), 2u);
  EXPECT_EQ(server->stop(), 0) << server->output();
}

TEST_F(LpaTlsCli, BrainpoolOnlySmdppIsReached) {
  order(4, "BRAINPOOL");
  auto server = serve("BRP");
  ASSERT_FALSE(port_.empty()) << server->output();
  EXPECT_NE(server->output().find("brainpoolP256r1"), std::string::npos) << server->output();
  // The default anchors: the CIs the simulated eUICC holds and lists.
  auto r = download("BRAINPOOL", {});
  ASSERT_EQ(r.exit_code, 0) << r.output << server->output();
  EXPECT_NE(r.output.find("installed ICCID"), std::string::npos) << r.output;
  EXPECT_EQ(server->stop(), 0) << server->output();
}

}  // namespace
}  // namespace rsp::e2e
