// `rsp pki init` / `rsp pki verify` as a user runs them, checked with the
// openssl command-line tool as an independent verifier.

#include <gtest/gtest.h>
#include <sys/stat.h>

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

}  // namespace
}  // namespace rsp::e2e
