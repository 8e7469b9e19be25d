// The profile's life after the download, across processes: `rsp smdpp serve`
// asks every profile for its enable, disable and delete notifications (SGP.22
// v2.2.2 §2.4a notificationConfigurationInfo, its own address); after
// `rsp lpa profile enable|disable|delete --no-notify` and `rsp lpa
// notification process` the operator's callback endpoint receives each as
// HandleDownloadProgressInfo, and `rsp smdpp profiles list` shows the state
// the eUICC reported.

#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "minimal_upp.hpp"
#include "rsp/common/file.hpp"
#include "rsp/messages/functions.hpp"
#include "rsp/net/server.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kIccid = "89490000000000000120";

/// The operator's HandleDownloadProgressInfo endpoint, plain HTTP on the loopback.
class Receiver {
 public:
  bool start() {
    net::HttpServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.insecure_plain_http = true;
    o.worker_threads = 2;
    server_ = std::make_unique<net::HttpServer>(std::move(o));
    server_->post(std::string(messages::kEs2HandleDownloadProgressInfo.path), [this](const net::Request& req) {
      {
        std::lock_guard lock(mu_);
        points_.push_back(json::parse(req.body, nullptr, false));
      }
      cv_.notify_all();
      net::Response res;
      res.content_type = "application/json;charset=UTF-8";
      res.body = R"({"header":{"functionExecutionStatus":{"status":"Executed-Success"}}})";
      return res;
    });
    return static_cast<bool>(server_->start());
  }
  std::string url() const { return server_->url() + std::string(messages::kEs2HandleDownloadProgressInfo.path); }
  /// The calls so far, once one with notificationPointId `point` came (or after the timeout).
  std::vector<json> wait_for_point(int point, std::chrono::seconds timeout = 60s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] {
      for (const auto& j : points_)
        if (j.is_object() && j.value("notificationPointId", 0) == point) return true;
      return false;
    });
    return points_;
  }
  void stop() {
    if (server_) server_->stop();
  }

 private:
  std::unique_ptr<net::HttpServer> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<json> points_;
};

std::vector<int> point_ids(const std::vector<json>& calls) {
  std::vector<int> out;
  for (const auto& j : calls) out.push_back(j.is_object() ? j.value("notificationPointId", 0) : -1);
  return out;
}

TEST(SmdppNotifications, TheOperatorHearsOfEnableDisableAndDeleteAndTheListShowsTheState) {
  TempDir dir;
  const fs::path pki = dir.path() / "pki", upps = dir.path() / "upp", card = dir.path() / "card";
  const std::string db = (dir.path() / "smdpp.db").string();
  fs::create_directories(upps);
  ASSERT_TRUE(write_file_atomic(upps / "1.der", minimal_upp("98940000000000001002")));
  auto r = rsp({"pki", "init", "--out", pki.string(), "--smdpp-address", "localhost", "--curves", "nist"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"smdpp", "profiles", "import", upps.string(), "--operator", "op", "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"euicc", "create", "--dir", card.string(), "--pki", pki.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"smdpp", "order", "--db", db, "--operator", "op", "--iccid", kIccid, "--matching-id", "LIFE",
           "--address", "localhost"});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  Receiver op;
  ASSERT_TRUE(op.start());
  const fs::path config = dir.path() / "smdpp.json";
  std::ofstream(config) << json{{"listen", "127.0.0.1:0"},
                                {"address", "localhost"},
                                {"pki", pki.string()},
                                {"database", db},
                                {"operators", {{{"name", "op"}, {"api_key_sha256", std::string(64, 'a')},
                                                {"callback_url", op.url()}}}}}
                               .dump();
  ServeProcess server({"--config", config.string()});
  const std::string url = server.url();
  ASSERT_FALSE(url.empty()) << server.output();
  const std::string endpoint = url.substr(url.find("://") + 3);
  auto lpa = [&](std::vector<std::string> args) {
    std::vector<std::string> all{"lpa", "--euicc", "sim:" + card.string(), "--resolve", "localhost:" + endpoint};
    all.insert(all.end(), args.begin(), args.end());
    return rsp(all);
  };
  // ICCID, STATE and ON EUICC of the profile's line in `rsp smdpp profiles list`.
  auto listed_state = [&] {
    auto l = rsp({"smdpp", "profiles", "list", "--db", db});
    const auto at = l.output.find(kIccid);
    if (at == std::string::npos) return std::vector<std::string>{l.output};
    std::istringstream line(l.output.substr(at, l.output.find('\n', at) - at));
    std::vector<std::string> words;
    for (std::string w; line >> w;) words.push_back(w);
    if (words.size() < 4) return words;
    return std::vector<std::string>{words[0], words[2], words[3]};
  };

  r = lpa({"profile", "download", "LPA:1$localhost$LIFE"});
  ASSERT_EQ(r.exit_code, 0) << r.output << server.output();
  EXPECT_EQ(point_ids(op.wait_for_point(4)), (std::vector<int>{3, 4}));
  EXPECT_EQ(listed_state(), (std::vector<std::string>{kIccid, "installed", "installed"}));

  // Each change leaves its notification on the eUICC (--no-notify), addressed
  // to the SM-DP+; `notification process` delivers it.
  const std::vector<std::tuple<std::string, int, std::string>> steps = {
      {"enable", 5, "enabled"}, {"disable", 6, "disabled"}, {"delete", 7, "deleted"}};
  for (const auto& [command, point, state] : steps) {
    r = lpa({"profile", command, kIccid, "--no-notify"});
    ASSERT_EQ(r.exit_code, 0) << command << ": " << r.output;
    r = lpa({"--json", "notification", "list"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("\"event\":\"" + command + "\""), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("\"address\":\"localhost\""), std::string::npos) << r.output;
    r = lpa({"notification", "process"});
    ASSERT_EQ(r.exit_code, 0) << command << ": " << r.output << server.output();
    const auto calls = op.wait_for_point(point);
    ASSERT_EQ(point_ids(calls).back(), point) << command;
    const json& last = calls.back();
    EXPECT_EQ(last.value("iccid", ""), kIccid);
    EXPECT_EQ(last["notificationPointStatus"].value("status", ""), "Executed-Success");
    EXPECT_EQ(listed_state(), (std::vector<std::string>{kIccid, "installed", state})) << command;
  }
  EXPECT_EQ(point_ids(op.wait_for_point(7)), (std::vector<int>{3, 4, 5, 6, 7}));
  EXPECT_EQ(server.stop(), 0) << server.output();
  op.stop();
}

}  // namespace
}  // namespace rsp::e2e
