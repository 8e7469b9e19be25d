// Discovery end to end (SGP.22 v2.2.2 §3.6, §3.1.2): `rsp smds serve` beside
// `rsp smdpp serve`; the operator's ES2+ DownloadOrder(EID) + ConfirmOrder
// with the SM-DS's address makes the SM-DP+ register the event (ES12 from
// its outbox); `rsp lpa profile discovery` shows it; `rsp lpa profile
// download` without an activation code downloads from the address it names
// with its eventId as matchingId; the SM-DP+ then deletes the event and
// ES11 finds none. Negative: an SM-DS asked under another address than its
// own answers 8.9.1/3.8, and a download without a code when the SM-DS holds
// nothing for the eUICC says so in words.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "run_tool.hpp"
#include "serve_process.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// A port free on 127.0.0.1 now (the SM-DS's address must name it before it starts).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

class SmdsDiscovery : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = rsp({"pki", "init", "--out", pki(), "--curves", "nist"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"profile", "sample", "--out", path("upps"), "--count", "2", "--type", "gold"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"smdpp", "profiles", "import", path("upps"), "--operator", "op", "--db", path("smdpp.db")});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"euicc", "create", "--dir", path("card"), "--pki", pki()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::ifstream(fs::path(path("card")) / "identity" / "eid.txt") >> eid_;
    ASSERT_EQ(eid_.size(), 32u);

    smds_port_ = free_port();
    ASSERT_NE(smds_port_, 0);
    smds_address_ = "localhost:" + std::to_string(smds_port_);
    smds_ = start_smds(smds_port_, smds_address_, "smds");

    json dp = {{"listen", "127.0.0.1:0"},
               {"address", "localhost"},
               {"pki", pki()},
               {"database", path("smdpp.db")},
               {"access_log", path("smdpp-access.log")},
               {"client_trust", ci()},
               {"operators", {{{"name", "op"}, {"client_cert", pki() + "/CERT_OPERATOR_TLS_NIST.pem"}}}}};
    std::ofstream(path("smdpp.json")) << dp.dump(2);
    smdp_ = std::make_unique<ServeProcess>(std::vector<std::string>{"--config", path("smdpp.json")});
    const std::string url = smdp_->url();
    ASSERT_EQ(url.rfind("https://127.0.0.1:", 0), 0u) << smdp_->output();
    smdp_endpoint_ = url.substr(8);
  }

  std::unique_ptr<ServeProcess> start_smds(int port, const std::string& address, const std::string& name) {
    json cfg = {{"listen", "127.0.0.1:" + std::to_string(port)},
                {"address", address},
                {"pki", pki()},
                {"database", path(name + ".db")},
                {"access_log", path(name + "-access.log")},
                {"client_trust", ci()},
                {"callers", {{{"name", "localhost"}, {"client_cert", pki() + "/CERT_S_SM_DP_TLS_NIST.pem"}}}}};
    std::ofstream(path(name + ".json")) << cfg.dump(2);
    auto s = std::make_unique<ServeProcess>(std::vector<std::string>{"--config", path(name + ".json")}, "smds");
    EXPECT_EQ(s->url().rfind("https://127.0.0.1:", 0), 0u) << s->output();
    return s;
  }

  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }
  std::string pki() const { return path("pki"); }
  std::string ci() const { return pki() + "/CERT_CI_ECDSA_NIST.pem"; }

  RunResult lpa(std::vector<std::string> args) {
    std::vector<std::string> all{"lpa", "--euicc", "sim:" + path("card"), "--resolve", "localhost:" + smdp_endpoint_};
    all.insert(all.end(), args.begin(), args.end());
    return rsp(all);
  }

  /// The events `rsp lpa --json profile discovery` lists; null on failure.
  json events(const std::string& smds) {
    auto r = lpa({"--json", "profile", "discovery", "--smds", smds});
    auto j = json::parse(r.output.substr(r.output.rfind("\n{") == std::string::npos ? 0 : r.output.rfind("\n{") + 1),
                         nullptr, false);
    if (r.exit_code != 0 || !j.is_object() || !j.value("ok", false)) return nullptr;
    return j["data"]["events"];
  }

  /// Polls discovery until it lists `count` events (the outbox sends within about a second).
  json wait_for_events(std::size_t count) {
    json e;
    for (int i = 0; i < 40; ++i) {
      e = events(smds_address_);
      if (e.is_array() && e.size() == count) return e;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return e;
  }

  RunResult order() {
    return rsp({"smdpp", "es2", "order", "--url", "https://localhost:" + smdp_endpoint_.substr(smdp_endpoint_.rfind(':') + 1),
                "--resolve", "localhost:127.0.0.1", "--trust", ci(), "--operator", "op", "--cert",
                pki() + "/CERT_OPERATOR_TLS_NIST.pem", "--key", pki() + "/SK_OPERATOR_TLS_NIST.pem", "--type", "gold",
                "--eid", eid_, "--smds-address", smds_address_});
  }

  TempDir dir_;
  std::string eid_, smds_address_, smdp_endpoint_;
  int smds_port_ = 0;
  std::unique_ptr<ServeProcess> smds_, smdp_;
};

TEST_F(SmdsDiscovery, OrderWithSmdsAddressIsDiscoveredDownloadedWithoutCodeAndItsEventGone) {
  auto none = events(smds_address_);
  ASSERT_TRUE(none.is_array());
  EXPECT_TRUE(none.empty());

  auto o = order();
  ASSERT_EQ(o.exit_code, 0) << o.output;
  const auto mid_at = o.output.find("Matching ID:");
  ASSERT_NE(mid_at, std::string::npos) << o.output;
  std::string matching_id;
  std::istringstream(o.output.substr(mid_at + 12)) >> matching_id;

  auto found = wait_for_events(1);
  ASSERT_TRUE(found.is_array() && found.size() == 1) << found.dump() << smdp_->output();
  EXPECT_EQ(found[0]["event_id"], matching_id);
  EXPECT_EQ(found[0]["rsp_server_address"], "localhost");
  auto table = lpa({"profile", "discovery", "--smds", smds_address_});
  EXPECT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find(matching_id), std::string::npos) << table.output;

  auto dl = lpa({"--json", "profile", "download", "--smds", smds_address_});
  ASSERT_EQ(dl.exit_code, 0) << dl.output;
  EXPECT_NE(dl.output.find("\"event_id\":\"" + matching_id + "\""), std::string::npos) << dl.output;
  auto list = lpa({"profile", "list"});
  EXPECT_NE(list.output.find("8988"), std::string::npos) << list.output;

  auto gone = wait_for_events(0);
  ASSERT_TRUE(gone.is_array());
  EXPECT_TRUE(gone.empty()) << gone.dump();
}

TEST_F(SmdsDiscovery, ADownloadWithoutCodeWhenTheSmdsHoldsNothingSaysSo) {
  auto dl = lpa({"profile", "download", "--smds", smds_address_});
  EXPECT_EQ(dl.exit_code, 1) << dl.output;
  EXPECT_NE(dl.output.find("holds no event for this eUICC"), std::string::npos) << dl.output;
}

TEST_F(SmdsDiscovery, AnSmdsAskedUnderAnotherAddressAnswers8_9_1_3_8InWords) {
  const int port = free_port();
  auto other = start_smds(port, "smds.elsewhere.example", "other");
  const std::string asked = "localhost:" + std::to_string(port);
  auto r = lpa({"--json", "profile", "discovery", "--smds", asked});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("\"subject_code\":\"8.9.1\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"reason_code\":\"3.8\""), std::string::npos) << r.output;
  auto words = lpa({"profile", "discovery", "--smds", asked});
  EXPECT_NE(words.output.find("the SM-DS does not serve this address"), std::string::npos) << words.output;
}

TEST_F(SmdsDiscovery, NoSmdsThereIsATransportErrorNotACrash) {
  auto r = lpa({"profile", "discovery", "--smds", "localhost:" + std::to_string(free_port())});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("discovery failed"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace rsp::e2e
