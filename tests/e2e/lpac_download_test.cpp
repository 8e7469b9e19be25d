// A real LPA end to end (LPAC=/path/to/lpac, built from its public source):
// lpac downloads a TS.48 profile from `rsp smdpp serve` into a simulated
// eUICC through `rsp euicc lpac`, reports its ICCID as a card would, sends
// the install notification, and enables the profile by ICCID.

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>

#include "run_tool.hpp"
#include "serve_process.hpp"
#include "test_support/free_port.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTs48 = "TS48V1-A-UNIQUE.der";
/// Its header carries 89 49 44 99 99 99 99 90 02 3F (plain BCD).
constexpr const char* kTs48Iccid = "8949449999999990023";

TEST(RealLpac, DownloadsFromTheSmdppIntoTheSimulatedEuicc) {
  const char* lpac = std::getenv("LPAC");
  if (!lpac || !*lpac) GTEST_SKIP() << "set LPAC to an lpac binary to run this test";
  const fs::path upp = reference_dir() / "upp" / kTs48;
  if (reference_dir().empty() || !fs::exists(upp)) GTEST_SKIP() << "TS.48 reference profiles absent";
  const int port = test_support::free_port();
  ASSERT_NE(port, 0);
  // lpac takes the SM-DP+ address from the activation code, port included,
  // and sends it back as smdpAddress: the server must answer to that name.
  const std::string address = "127.0.0.1:" + std::to_string(port);

  TempDir dir;
  const fs::path pki = dir.path() / "pki", db = dir.path() / "smdpp.db", card = dir.path() / "card";
  auto r = rsp({"pki", "init", "--out", pki.string(), "--smdpp-address", "127.0.0.1", "--curves", "nist"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"smdpp", "profiles", "import", upp.string(), "--operator", "op", "--db", db.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"euicc", "create", "--dir", card.string(), "--pki", pki.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"smdpp", "order", "--db", db.string(), "--operator", "op", "--iccid", kTs48Iccid, "--address", address});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto ac_at = r.output.find("LPA:1$");
  ASSERT_NE(ac_at, std::string::npos) << r.output;
  const std::string ac = r.output.substr(ac_at, r.output.find_first_of(" \n", ac_at) - ac_at);

  const fs::path config = dir.path() / "smdpp.json";
  std::ofstream(config) << R"({"listen": ")" << address << R"(", "address": ")" << address << R"(", "pki": ")"
                        << pki.string() << R"(", "database": ")" << db.string() << R"("})";
  ServeProcess serve({"--config", config.string()});
  ASSERT_TRUE(serve.started());
  ASSERT_FALSE(serve.wait_for("listening on ").empty()) << serve.output();

  auto lpac_run = [&](std::vector<std::string> args) {
    std::vector<std::string> all{"euicc", "lpac", "--dir", card.string(), "--lpac", lpac, "--"};
    all.insert(all.end(), args.begin(), args.end());
    return rsp(all);
  };
  const std::string iccid_field = std::string("\"iccid\":\"") + kTs48Iccid + "\"";
  r = lpac_run({"profile", "download", "-a", ac});
  ASSERT_EQ(r.exit_code, 0) << r.output << "\n" << serve.output();
  EXPECT_NE(r.output.find(R"("code":0,"message":"success")"), std::string::npos) << r.output;
  // The card reports the ICCID in SGP.22's EF.ICCID coding, which lpac turns
  // back into the digits of the profile header.
  EXPECT_NE(r.output.find(iccid_field), std::string::npos) << r.output;

  r = lpac_run({"profile", "list"});
  EXPECT_NE(r.output.find(iccid_field), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(R"("profileState":"disabled")"), std::string::npos) << r.output;

  r = lpac_run({"notification", "process", "-a", "-r"});
  EXPECT_NE(r.output.find(R"("code":0,"message":"success")"), std::string::npos) << r.output;
  r = rsp({"smdpp", "profiles", "list", "--db", db.string()});
  EXPECT_NE(r.output.find("installed"), std::string::npos) << r.output;

  r = lpac_run({"profile", "enable", kTs48Iccid});
  EXPECT_NE(r.output.find(R"("code":0,"message":"success")"), std::string::npos) << r.output;
  r = lpac_run({"profile", "list"});
  EXPECT_NE(r.output.find(R"("profileState":"enabled")"), std::string::npos) << r.output;
  EXPECT_EQ(serve.signal_and_wait(SIGTERM), 0) << serve.output();
}

}  // namespace
}  // namespace rsp::e2e
