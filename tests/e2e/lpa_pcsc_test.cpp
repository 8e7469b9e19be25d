// `rsp lpa --euicc pcsc:...` against the simulated eUICC behind pcscd and
// vsmartcard's vpcd (`rsp euicc vpcd`): the reader chosen by name, a logical
// channel, the ISD-R selected, chip info, a download from `rsp smdpp serve`,
// list and enable, as with a card in a real reader. Starts `pcscd -f` when
// none runs; skips with a message where pcscd or vpcd cannot run here.

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <thread>

#include "rsp/common/bytes.hpp"
#include "rsp/common/file.hpp"
#include "minimal_upp.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;

/// A program in the background, its output discarded, killed at the end.
class Background {
 public:
  explicit Background(std::vector<std::string> args) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    DefaultSignals attr;
    if (posix_spawn(&pid_, argv[0], &actions, attr.get(), argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Background() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

TEST(LpaPcsc, ChipInfoDownloadListAndEnableThroughPcscd) {
  const std::string pcscd = "/usr/sbin/pcscd";
  if (!fs::exists(pcscd) || !fs::exists("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")) {
    GTEST_SKIP() << "pcscd or the vsmartcard vpcd driver is not installed (scripts/setup.sh installs them)";
  }
  TempDir dir;
  const std::string pki = (dir.path() / "pki").string(), card = (dir.path() / "card").string(),
                    db = (dir.path() / "smdpp.db").string();
  auto r = rsp({"pki", "init", "--out", pki, "--smdpp-address", "localhost", "--curves", "nist"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"euicc", "create", "--dir", card, "--pki", pki});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  Background vpcd({RSP_TOOL, "euicc", "vpcd", "--dir", card});
  ASSERT_TRUE(vpcd.started());
  std::unique_ptr<Background> daemon;
  const std::vector<std::string> pcsc{"lpa", "--euicc", "pcsc:Virtual PCD"};
  auto with = [&](std::vector<std::string> args) {
    std::vector<std::string> all = pcsc;
    all.insert(all.end(), args.begin(), args.end());
    return rsp(all);
  };
  // pcscd (ours if none runs) sees the card once vpcd connected.
  for (int i = 0; i < 100; ++i) {
    r = with({"chip", "info"});
    if (r.exit_code == 0) break;
    if (r.output.find("pcscd is not running") != std::string::npos && !daemon) {
      daemon = std::make_unique<Background>(std::vector<std::string>{pcscd, "-f"});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (r.exit_code != 0) GTEST_SKIP() << "pcscd with the vpcd reader did not show the card here: " << r.output;
  EXPECT_NE(r.output.find("EID "), std::string::npos) << r.output;

  // A reader that is not there, an ISD-R AID that is not on the card: errors in words.
  auto missing = rsp({"lpa", "--euicc", "pcsc:No Such Reader", "chip", "info"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("no reader named like 'No Such Reader'"), std::string::npos) << missing.output;
  auto wrong_aid = with({"--isdr-aid", "A0000005591010FFFFFFFF8900000199", "chip", "info"});
  EXPECT_EQ(wrong_aid.exit_code, 1);
  EXPECT_NE(wrong_aid.output.find("no ISD-R with that AID"), std::string::npos) << wrong_aid.output;
  r = with({"--isdr-aid", "A0000005591010FFFFFFFF8900000100", "profile", "list"});
  EXPECT_EQ(r.exit_code, 0) << r.output;

  // A download over PC/SC: the CI certificate named with --trust.
  const fs::path upps = dir.path() / "upp";
  fs::create_directories(upps);
  ASSERT_TRUE(write_file_atomic(upps / "1.der", minimal_upp("98940000000000001002")));
  r = rsp({"smdpp", "profiles", "import", upps.string(), "--operator", "op", "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"smdpp", "order", "--db", db, "--operator", "op", "--iccid", "89490000000000000120", "--matching-id",
           "OVER-PCSC", "--address", "localhost"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path config = dir.path() / "smdpp.json";
  std::ofstream(config) << R"({"listen": "127.0.0.1:0", "address": "localhost", "pki": ")" << pki
                        << R"(", "database": ")" << db << R"("})";
  ServeProcess serve({"--config", config.string()});
  const std::string url = serve.url();
  ASSERT_FALSE(url.empty()) << serve.output();
  const std::string resolve = "localhost:127.0.0.1:" + url.substr(url.rfind(':') + 1);
  r = with({"profile", "download", "LPA:1$localhost$OVER-PCSC", "--resolve", resolve});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("--ci FILE|DIR"), std::string::npos) << "a card in a reader needs its CIs named: " << r.output;
  r = with({"--ci", pki + "/CERT_CI_ECDSA_NIST.pem", "--resolve", resolve, "profile", "download",
            "LPA:1$localhost$OVER-PCSC"});
  ASSERT_EQ(r.exit_code, 0) << r.output << serve.output();
  EXPECT_NE(r.output.find("installed ICCID 89490000000000000120"), std::string::npos) << r.output;
  r = with({"--trust", pki + "/CERT_CI_ECDSA_NIST.pem", "--resolve", resolve, "profile", "enable",
            "89490000000000000120"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = with({"profile", "list"});
  EXPECT_NE(r.output.find("89490000000000000120 enabled"), std::string::npos) << r.output;
  EXPECT_EQ(serve.stop(), 0) << serve.output();
}

}  // namespace
}  // namespace rsp::e2e
