// `rsp euicc create` / `rsp euicc info` as a user runs them.

#include <gtest/gtest.h>

#include <cstdlib>

#include "run_tool.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;

TEST(EuiccCli, CreateWithAFreshPkiAndShowTheEid) {
  TempDir dir;
  const auto card = (dir.path() / "card").string();
  auto r = rsp({"euicc", "create", "--dir", card, "--eid", "89049032000000000000000000000163"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir.path() / "card" / "pki" / "CERT_EUICC_ECDSA_NIST.pem"));
  r = rsp({"euicc", "info", "--dir", card});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("EID 89049032000000000000000000000163"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("0 profile(s)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("BPP segments strict (SGP.22's 1020 bytes)"), std::string::npos) << r.output;
  // a second create on the same folder is refused
  r = rsp({"euicc", "create", "--dir", card});
  EXPECT_NE(r.exit_code, 0);
}

// The card option for SM-DP+ servers that overshoot SGP.22's segment size:
// kept with the card and shown by `rsp euicc info`; not for an M2M card.
TEST(EuiccCli, CreateWithLenientSegments) {
  TempDir dir;
  const auto card = (dir.path() / "card").string();
  auto r = rsp({"euicc", "create", "--dir", card, "--lenient-segments"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"euicc", "info", "--dir", card});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("BPP segments lenient (up to 1052 bytes)"), std::string::npos) << r.output;
  r = rsp({"euicc", "create", "--dir", (dir.path() / "m2m").string(), "--m2m", "--lenient-segments"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--lenient-segments is for a consumer eUICC"), std::string::npos) << r.output;
}

TEST(EuiccCli, CreateFromTheSgp26Set) {
  const auto certs = reference_dir() / "certs";
  if (reference_dir().empty() || !fs::exists(certs / "eUICC")) GTEST_SKIP() << "SGP.26 certificates not present";
  TempDir dir;
  const auto card = (dir.path() / "card").string();
  auto r = rsp({"euicc", "create", "--dir", card, "--pki", certs.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"euicc", "info", "--dir", card});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("EID 89049032123451234512345678901235"), std::string::npos) << r.output;
}

// `rsp euicc lpac` as the issue shows it, with a real lpac (LPAC=/path/to/lpac).
TEST(EuiccCli, LpacChipInfoAndProfileListThroughTheCommand) {
  const char* lpac = std::getenv("LPAC");
  if (!lpac || !*lpac) GTEST_SKIP() << "set LPAC to an lpac binary to run this test";
  TempDir dir;
  const auto card = (dir.path() / "card").string();
  const std::string eid = "89049032000000000000000000000163";
  auto r = rsp({"euicc", "create", "--dir", card, "--eid", eid});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"euicc", "lpac", "--dir", card, "--lpac", lpac, "--", "chip", "info"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"eidValue\":\"" + eid + "\""), std::string::npos) << r.output;
  r = rsp({"euicc", "lpac", "--dir", card, "--lpac", lpac, "--", "profile", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(R"("code":0,"message":"success","data":[])"), std::string::npos) << r.output;
}

TEST(EuiccCli, CreateAnM2mCardPrintsItsRegistrationFacts) {
  TempDir dir;
  const auto card = (dir.path() / "card").string();
  auto r = rsp({"euicc", "create", "--m2m", "--dir", card, "--eid", "89049032000000000000000000000163",
                "--smsr-id", "smsr.example", "--eum-id", "EUM-X", "--msisdn", "447700900101", "--msisdn",
                "447700900102", "--second-pol1", "disable-not-allowed,delete-not-allowed"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* needle : {R"("eid": "89049032000000000000000000000163")", R"("smsrId": "smsr.example")",
                             R"("aid": "A0000005591010FFFFFFFF8900000100")", R"("scp81Psk")", R"("kic")",
                             R"("isdpAid": "A0000005591010FFFFFFFF8900001000")", R"("state": "Enabled")",
                             R"("state": "Disabled")", R"("fallbackAttribute": true)", R"("eumId": "EUM-X")", R"("msisdn": "447700900102")",
                             R"("scp80KeySets")"}) {
    EXPECT_NE(r.output.find(needle), std::string::npos) << needle << "\n" << r.output;
  }
  EXPECT_TRUE(fs::exists(dir.path() / "card" / "m2m" / "state.0"));
  r = rsp({"euicc", "m2m-info", "--dir", card});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("A0000005591010FFFFFFFF8900001000"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ENABLED fallback POL1: delete-not-allowed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("DISABLED POL1: disable-not-allowed delete-not-allowed"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("kic"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ISD-R keys: SCP80 version(s) 1, SCP81 PSK version 1\n"), std::string::npos) << r.output;
  r = rsp({"euicc", "create", "--m2m", "--dir", (dir.path() / "c2").string(), "--msisdn", "12x"});
  EXPECT_NE(r.exit_code, 0);
  r = rsp({"euicc", "create", "--m2m", "--dir", (dir.path() / "c3").string(), "--second-pol1", "never"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--second-pol1"), std::string::npos) << r.output;
  r = rsp({"euicc", "create", "--m2m", "--dir", card});
  EXPECT_NE(r.exit_code, 0);
}

TEST(EuiccCli, InfoOnAnEmptyFolderFails) {
  TempDir dir;
  auto r = rsp({"euicc", "info", "--dir", dir.path().string()});
  EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace rsp::e2e
