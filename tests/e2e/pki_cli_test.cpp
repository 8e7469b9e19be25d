// `rsp pki init` / `rsp pki verify` as a user runs them, checked with the
// openssl command-line tool as an independent verifier.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "run_tool.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;

class PkiCli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = rsp({"pki", "init", "--out", pki().string(), "--curves", "nist,brp"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  fs::path pki() const { return dir_.path() / "pki"; }
  TempDir dir_;
};

TEST_F(PkiCli, OpensslAcceptsEveryChainButTheEuiccLeaf) {
  if (!on_path("openssl")) GTEST_SKIP() << "openssl command not installed";
  for (const char* curve : {"NIST", "BRP"}) {
    std::string ci = (pki() / (std::string("CERT_CI_ECDSA_") + curve + ".pem")).string();
    for (std::string leaf : {"CERT_EUM_ECDSA_", "CERT_S_SM_DPauth_ECDSA_", "CERT_S_SM_DPpb_ECDSA_"}) {
      auto path = pki() / (leaf + curve + ".pem");
      ASSERT_TRUE(fs::exists(path)) << path;
      auto r = run("openssl", {"verify", "-CAfile", ci, path.string()});
      EXPECT_EQ(r.exit_code, 0) << r.output;
      EXPECT_NE(r.output.find(": OK"), std::string::npos) << r.output;
    }
    auto tls = pki() / (std::string("CERT_S_SM_DP_TLS_") + curve + ".pem");
    ASSERT_TRUE(fs::exists(tls)) << tls;
    auto r = run("openssl", {"verify", "-CAfile", ci, tls.string()});
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
}

TEST_F(PkiCli, OwnValidatorAcceptsTheWholeSet) {
  auto r = rsp({"pki", "verify", pki().string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(PkiCli, PrivateKeysAreOwnerOnly) {
  int keys = 0;
  for (const auto& e : fs::directory_iterator(pki())) {
    auto name = e.path().filename().string();
    if (name.rfind("SK_", 0) != 0) continue;
    ++keys;
    struct stat st {};
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
  }
  EXPECT_GE(keys, 8);
}

TEST(PkiCliReference, Sgp26SetVerifiesBeforeTheTlsExpiry) {
  auto ref = reference_dir();
  if (ref.empty()) GTEST_SKIP() << "reference folder (SGP.26 certificates) not present";
  // The VARO TLS certificates start on 2026-07-21, the others end on 2026-08-02.
  auto ok = rsp({"pki", "verify", (ref / "certs").string(), "--at", "2026-07-25T00:00:00Z"});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  auto now = rsp({"pki", "verify", (ref / "certs").string()});
  EXPECT_NE(now.exit_code, 0) << now.output;
  EXPECT_NE(now.output.find("expired"), std::string::npos) << now.output;
}

TEST(DemoCli, CompletesAndCleansUp) {
  auto r = rsp({"demo"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("steps completed"), std::string::npos) << r.output;
}

// The demo's ES2+ runs over mutual TLS, and the SM-DP+'s access log (shown as
// "[smdpp]" lines) holds one line per request: for each of the two downloads
// (activation code, then discovery) two ES2+ calls and the four ES9+ calls,
// plus the enable notification after the first; the SM-DS's ("[smds]") holds
// the ES12 registration and deletion by the SM-DP+. No line holds a private
// key, key-encryption key or matching ID.
TEST(DemoCli, AccessLogHasOneLinePerRequestAndNoSecret) {
  TempDir dir;
  auto r = rsp({"demo", "--dir", dir.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--cert "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("--api-key-file"), std::string::npos) << r.output;
  std::vector<std::string> access, smdpp_access, smds_access;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    if (line.find(" caller=") == std::string::npos) continue;
    access.push_back(line);
    if (line.find("[smdpp] ") != std::string::npos) smdpp_access.push_back(line);
    if (line.find("[smds] ") != std::string::npos) smds_access.push_back(line);
  }
  const char* const expected[] = {
      "ES2+.DownloadOrder caller=demo-operator ",  "ES2+.ConfirmOrder caller=demo-operator ",
      "ES9+.InitiateAuthentication caller=- ",     "ES9+.AuthenticateClient caller=- ",
      "ES9+.GetBoundProfilePackage caller=- ",     "ES9+.HandleNotification caller=- ",
      "ES9+.HandleNotification caller=- ",         "ES2+.DownloadOrder caller=demo-operator ",
      "ES2+.ConfirmOrder caller=demo-operator ",   "ES9+.InitiateAuthentication caller=- ",
      "ES9+.AuthenticateClient caller=- ",         "ES9+.GetBoundProfilePackage caller=- ",
      "ES9+.HandleNotification caller=- "};
  ASSERT_EQ(smdpp_access.size(), std::size(expected)) << r.output;
  for (std::size_t i = 0; i < smdpp_access.size(); ++i)
    EXPECT_NE(smdpp_access[i].find(std::string(" smdpp ") + expected[i]), std::string::npos) << smdpp_access[i];
  auto smds_has = [&](const std::string& what) {
    for (const auto& l : smds_access)
      if (l.find(" smds " + what) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(smds_has("ES12.RegisterEvent caller=")) << r.output;
  EXPECT_TRUE(smds_has("ES12.DeleteEvent caller=")) << r.output;
  EXPECT_TRUE(smds_has("ES11.AuthenticateClient caller=- ")) << r.output;
  const auto ac_at = r.output.find("LPA:1$localhost$");
  ASSERT_NE(ac_at, std::string::npos);
  const std::string matching_id = r.output.substr(ac_at + 16, r.output.find('$', ac_at + 16) - ac_at - 16);
  ASSERT_FALSE(matching_id.empty());
  std::vector<std::string> secrets;
  for (const auto& f : fs::recursive_directory_iterator(dir.path())) {
    const auto name = f.path().filename().string();
    if (name.rfind("SK_", 0) != 0 && name.find(".kek") == std::string::npos) continue;
    std::ifstream s(f.path());
    for (std::string line; std::getline(s, line);)
      if (line.size() >= 16 && line.find("-----") == std::string::npos) secrets.push_back(line.substr(0, 16));
  }
  EXPECT_FALSE(secrets.empty());
  for (const auto& l : access) {
    EXPECT_EQ(l.find(matching_id), std::string::npos) << l;
    EXPECT_EQ(l.find("PRIVATE"), std::string::npos) << l;
    for (const auto& secret : secrets) EXPECT_EQ(l.find(secret), std::string::npos) << l;
  }
}

}  // namespace
}  // namespace rsp::e2e
