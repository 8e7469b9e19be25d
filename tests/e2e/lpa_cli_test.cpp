// `rsp lpa` as a user runs it against `rsp smdpp serve` and a simulated
// eUICC folder: downloads with an activation code that carries a port and
// one that does not, with a confirmation code (a wrong one: a sentence with
// the SM-DP+'s code, nothing installed), then list, enable, nickname,
// disable, delete, the notifications delivered, chip info, the default
// SM-DP+ and the memory reset; --json throughout for what scripts read.

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "rsp/common/bytes.hpp"
#include "rsp/common/file.hpp"
#include "minimal_upp.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"
#include "test_support/free_port.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kIccid1 = "89490000000000000120";
constexpr const char* kIccid2 = "8949000000000000022";
constexpr const char* kIccid3 = "89490000000000000320";
constexpr const char* kIccid4 = "89490000000000000420";
constexpr const char* kIccid5 = "89490000000000000520";

class LpaCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path upps = dir_.path() / "upp";
    fs::create_directories(upps);
    ASSERT_TRUE(write_file_atomic(upps / "1.der", minimal_upp("98940000000000001002")));
    ASSERT_TRUE(write_file_atomic(upps / "2.der", minimal_upp("989400000000000020F2")));
    ASSERT_TRUE(write_file_atomic(upps / "3.der", minimal_upp("98940000000000003002")));
    ASSERT_TRUE(write_file_atomic(upps / "4.der", minimal_upp("98940000000000004002")));
    ASSERT_TRUE(write_file_atomic(upps / "5.der", minimal_upp("98940000000000005002")));
    ASSERT_TRUE(write_file_atomic(upps / "6.der", minimal_upp("98940000000000006002")));
    auto r = rsp({"pki", "init", "--out", pki(), "--smdpp-address", "localhost", "--curves", "nist"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"smdpp", "profiles", "import", upps.string(), "--operator", "op", "--db", db()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"euicc", "create", "--dir", card(), "--pki", pki()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  std::string pki() const { return (dir_.path() / "pki").string(); }
  std::string db() const { return (dir_.path() / "smdpp.db").string(); }
  std::string card() const { return (dir_.path() / "card").string(); }

  RunResult order(const std::string& iccid, const std::string& matching_id, const std::string& address,
                  const std::string& cc = "") {
    std::vector<std::string> args{"smdpp", "order", "--db", db(), "--operator", "op", "--iccid", iccid,
                                  "--matching-id", matching_id, "--address", address};
    if (!cc.empty()) {
      const fs::path f = dir_.path() / ("cc-" + matching_id);
      std::ofstream(f) << cc << "\n";
      args.insert(args.end(), {"--cc-file", f.string()});
    }
    return rsp(args);
  }

  std::unique_ptr<ServeProcess> serve(const std::string& listen, const std::string& address) {
    const fs::path config = dir_.path() / "smdpp.json";
    std::ofstream(config) << R"({"listen": ")" << listen << R"(", "address": ")" << address << R"(", "pki": ")"
                          << pki() << R"(", "database": ")" << db() << R"("})";
    return std::make_unique<ServeProcess>(std::vector<std::string>{"--config", config.string()});
  }

  /// `rsp lpa --euicc sim:CARD --resolve localhost:ADDRESS ARGS...`
  RunResult lpa(const std::string& resolve_to, std::vector<std::string> args) {
    std::vector<std::string> all{"lpa", "--euicc", "sim:" + card(), "--resolve", "localhost:" + resolve_to};
    all.insert(all.end(), args.begin(), args.end());
    return rsp(all);
  }

  /// The JSON object a --json command printed (its last line).
  static json parsed(const RunResult& r) {
    std::string out = r.output;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    const auto nl = out.rfind('\n');
    auto j = json::parse(nl == std::string::npos ? out : out.substr(nl + 1), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.output;
    return j;
  }

  TempDir dir_;
};

TEST_F(LpaCli, DownloadManageAndNotify) {
  const int port = test_support::free_port();
  ASSERT_NE(port, 0);
  const std::string address = "localhost:" + std::to_string(port);
  auto r = order(kIccid1, "WITH-PORT", address);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string ac = "LPA:1$" + address + "$WITH-PORT";
  EXPECT_NE(r.output.find(ac), std::string::npos) << r.output;
  // A wrong code costs one of the order's attempts (3 by default), not the order.
  for (const auto& [iccid, mid] : {std::pair{kIccid3, "WITH-CC"}, {kIccid5, "WITH-CC-JSON"}}) {
    r = order(iccid, mid, address, "123456");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  auto server = serve("127.0.0.1:" + std::to_string(port), address);
  ASSERT_FALSE(server->url().empty()) << server->output();

  // The code `rsp smdpp order --address host:port` printed, port and all.
  r = lpa("127.0.0.1", {"profile", "download", ac});
  ASSERT_EQ(r.exit_code, 0) << r.output << server->output();
  EXPECT_NE(r.output.find(std::string("installed ICCID ") + kIccid1), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  - " ), std::string::npos) << "progress lines: " << r.output;
  auto listed = rsp({"smdpp", "profiles", "list", "--db", db()});
  const auto at = listed.output.find(kIccid1);
  ASSERT_NE(at, std::string::npos) << listed.output;
  EXPECT_NE(listed.output.substr(at, listed.output.find('\n', at) - at).find("installed"), std::string::npos)
      << listed.output;

  // A wrong confirmation code: the sentence with the code, exit 1, nothing installed.
  r = lpa("127.0.0.1", {"profile", "download", "--smdp", address, "--matching-id", "WITH-CC", "--confirmation-code",
                        "654321"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("8.2.7 / 3.8: the confirmation code was refused - check the code from your operator"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("654321"), std::string::npos) << "the code is never echoed: " << r.output;
  r = lpa("127.0.0.1", {"--json", "profile", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json list = parsed(r);
  ASSERT_EQ(list["data"].size(), 1u) << r.output;
  // --json failure: ok false, the codes as fields.
  r = lpa("127.0.0.1", {"--json", "profile", "download", "--smdp", address, "--matching-id", "WITH-CC-JSON",
                        "--confirmation-code", "654320"});
  EXPECT_EQ(r.exit_code, 1);
  json failed = parsed(r);
  EXPECT_EQ(failed["ok"], false) << r.output;
  EXPECT_EQ(failed["error"]["subject_code"], "8.2.7") << r.output;
  EXPECT_EQ(failed["error"]["reason_code"], "3.8") << r.output;
  // The same order again with the right code: the LPA cancelled the refused
  // session as postponed (SGP.22 §5.6.5), so the order is still there.
  r = lpa("127.0.0.1", {"profile", "download", "--smdp", address, "--matching-id", "WITH-CC", "--confirmation-code",
                        "123456"});
  ASSERT_EQ(r.exit_code, 0) << r.output << server->output();
  EXPECT_NE(r.output.find(std::string("installed ICCID ") + kIccid3), std::string::npos) << r.output;

  r = lpa("127.0.0.1", {"--json", "profile", "list"});
  list = parsed(r);
  ASSERT_EQ(list["ok"], true) << r.output;
  ASSERT_EQ(list["data"].size(), 2u) << r.output;
  EXPECT_EQ(list["data"][0]["iccid"], kIccid1);
  EXPECT_EQ(list["data"][0]["state"], "disabled");
  const std::string aid1 = list["data"][0]["isdp_aid"];

  // Enable: its notification (the SM-DP+'s profiles ask for it) is delivered and removed, none is left behind.
  r = lpa("127.0.0.1", {"--json", "profile", "enable", kIccid1});
  ASSERT_EQ(r.exit_code, 0) << r.output << server->output();
  json enabled = parsed(r);
  EXPECT_EQ(enabled["data"]["result"], "enabled") << r.output;
  for (const auto& n : enabled["data"]["notifications"]["notifications"]) EXPECT_TRUE(n["removed"]) << r.output;
  r = lpa("127.0.0.1", {"notification", "list"});
  EXPECT_NE(r.output.find("no notifications pending"), std::string::npos) << r.output;
  // Enabling it again: the eUICC's code in words.
  r = lpa("127.0.0.1", {"profile", "enable", kIccid1});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("eUICC code 2 (profileNotInDisabledState)"), std::string::npos) << r.output;
  // Deleting an enabled profile is refused.
  r = lpa("127.0.0.1", {"profile", "delete", kIccid1});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("disable it first"), std::string::npos) << r.output;

  r = lpa("127.0.0.1", {"profile", "nickname", kIccid1, "work phone"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = lpa("127.0.0.1", {"profile", "list"});
  EXPECT_NE(r.output.find("work phone"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("enabled"), std::string::npos) << r.output;

  r = lpa("127.0.0.1", {"profile", "disable", aid1});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("profile " + aid1 + " disabled"), std::string::npos) << r.output;

  // An install notification kept on the eUICC, then sent by its number: the
  // SM-DP+'s profile goes from downloaded to installed only then.
  ASSERT_EQ(order(kIccid2, "KEEP-NOTE", address).exit_code, 0);
  r = lpa("127.0.0.1", {"profile", "download", "LPA:1$" + address + "$KEEP-NOTE", "--no-notify"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto state_of = [&](const std::string& iccid) {
    auto l = rsp({"smdpp", "profiles", "list", "--db", db()});
    const auto line_at = l.output.find(iccid);
    return line_at == std::string::npos ? l.output : l.output.substr(line_at, l.output.find('\n', line_at) - line_at);
  };
  EXPECT_NE(state_of(kIccid2).find("downloaded"), std::string::npos) << state_of(kIccid2);
  r = lpa("127.0.0.1", {"--json", "notification", "list"});
  json pending = parsed(r);
  ASSERT_EQ(pending["data"].size(), 1u) << r.output;
  EXPECT_EQ(pending["data"][0]["event"], "install");
  EXPECT_EQ(pending["data"][0]["address"], address);
  EXPECT_EQ(pending["data"][0]["iccid"], kIccid2);
  const std::int64_t seq = pending["data"][0]["seq"];
  r = lpa("127.0.0.1", {"notification", "process", std::to_string(seq)});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("delivered and removed"), std::string::npos) << r.output;
  EXPECT_NE(state_of(kIccid2).find("installed"), std::string::npos) << state_of(kIccid2);
  r = lpa("127.0.0.1", {"notification", "remove", std::to_string(seq)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("nothingToDelete"), std::string::npos) << r.output;

  r = lpa("127.0.0.1", {"profile", "delete", kIccid1});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("profile " + std::string(kIccid1) + " deleted"), std::string::npos) << r.output;
  r = lpa("127.0.0.1", {"--json", "profile", "list"});
  EXPECT_EQ(parsed(r)["data"].size(), 2u) << r.output;

  // A notification the SM-DP+ cannot take (it is gone) stays for the next run.
  ASSERT_EQ(order(kIccid4, "LATE-NOTE", address).exit_code, 0);
  r = lpa("127.0.0.1", {"profile", "download", "LPA:1$" + address + "$LATE-NOTE", "--no-notify"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(server->stop(), 0) << server->output();
  r = lpa("127.0.0.1", {"notification", "process"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("not delivered"), std::string::npos) << r.output;
  r = lpa("127.0.0.1", {"--json", "notification", "list"});
  EXPECT_EQ(parsed(r)["data"].size(), 1u) << r.output;
}

TEST_F(LpaCli, ACodeWithoutAPortAndTheAlias) {
  auto r = order(kIccid2, "NO-PORT", "localhost");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto server = serve("127.0.0.1:0", "localhost");
  const std::string url = server->url();
  ASSERT_FALSE(url.empty()) << server->output();
  const std::string port = url.substr(url.rfind(':') + 1);
  // `rsp lpa download` as it always was: a bare folder and --ac.
  r = rsp({"lpa", "download", "--euicc", card(), "--ac", "LPA:1$localhost$NO-PORT", "--resolve",
           "localhost:127.0.0.1:" + port});
  ASSERT_EQ(r.exit_code, 0) << r.output << server->output();
  EXPECT_NE(r.output.find(std::string("installed ICCID ") + kIccid2), std::string::npos) << r.output;
  // Used again: the SM-DP+'s refusal in words.
  r = rsp({"lpa", "download", "--euicc", card(), "--ac", "LPA:1$localhost$NO-PORT", "--resolve",
           "localhost:127.0.0.1:" + port});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("8.2.6 / 3.8"), std::string::npos) << r.output;
  EXPECT_EQ(server->stop(), 0) << server->output();
}

TEST_F(LpaCli, ChipInfoDefaultSmdpAndPurge) {
  auto r = rsp({"lpa", "--euicc", "sim:" + card(), "--json", "chip", "info"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json info = parsed(r);
  EXPECT_EQ(info["data"]["eid"].get<std::string>().size(), 32u) << r.output;
  EXPECT_FALSE(info["data"]["euicc_info2"]["ci_pkids_for_verification"].empty()) << r.output;
  EXPECT_EQ(info["data"]["euicc_info2"]["svn"].get<std::string>().substr(0, 2), "2.") << r.output;
  r = rsp({"lpa", "--euicc", "sim:" + card(), "chip", "default-smdp", "smdp.example.com"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"lpa", "--euicc", "sim:" + card(), "chip", "info"});
  EXPECT_NE(r.output.find("default SM-DP+     smdp.example.com"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("CIs (verification)"), std::string::npos) << r.output;
  r = rsp({"lpa", "--euicc", "sim:" + card(), "chip", "purge"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--yes"), std::string::npos) << r.output;
  r = rsp({"lpa", "--euicc", "sim:" + card(), "chip", "purge", "--yes"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"lpa", "--euicc", "sim:" + card(), "--json", "chip", "info"});
  EXPECT_EQ(parsed(r)["data"]["default_smdp"], "") << r.output;

  // Errors in words: no folder, no such profile, a name that is no profile.
  r = rsp({"lpa", "--euicc", "sim:" + (dir_.path() / "none").string(), "profile", "list"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("eUICC folder"), std::string::npos) << r.output;
  r = rsp({"lpa", "--euicc", "sim:" + card(), "profile", "enable", kIccid1});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("iccidOrAidNotFound"), std::string::npos) << r.output;
  r = rsp({"lpa", "--euicc", "sim:" + card(), "profile", "enable", "hello"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("neither an ICCID"), std::string::npos) << r.output;
  r = rsp({"lpa", "profile", "list"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--euicc"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace rsp::e2e
