#pragma once
// The operator's side of the cross-process tests: an HTTPS server in the test
// that the served roles call back (the test PKI's SM-DS TLS certificate stands
// in for the operator's server certificate), the answer of an operator's
// ES2+ endpoint, and MnoEndpoint, which records the M2M callbacks (ES2 and
// ES4 results, Handle...Notification).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <nlohmann/json.hpp>

#include "rsp/net/server.hpp"
#include "rsp/net/tls.hpp"

namespace rsp::e2e {

/// An HTTPS server (not started) with the test PKI's SM-DS TLS identity
/// under `pki`; null when the identity does not load.
inline std::unique_ptr<net::HttpServer> callback_server(const std::filesystem::path& pki) {
  auto id = net::TlsIdentity::load(pki / "CERT_S_SM_DS_TLS_NIST.pem", pki / "SK_S_SM_DS_TLS_NIST.pem");
  if (!id) return nullptr;
  net::HttpServerOptions o;
  o.tls = net::TlsServerConfig{};
  o.tls->identities.push_back(std::move(*id));
  o.worker_threads = 2;
  return std::make_unique<net::HttpServer>(std::move(o));
}

/// What an operator's ES2+ endpoint answers a call it took (SGP.22
/// HandleDownloadProgressInfo): Executed-Success.
inline net::Response es2plus_success() {
  net::Response res;
  res.body = R"({"header":{"functionExecutionStatus":{"status":"Executed-Success"}}})";
  return res;
}

/// The MNO's callback endpoint over HTTPS, one route per server that calls
/// it back (url(from)), so that operation ids of different servers are told
/// apart.
class MnoEndpoint {
 public:
  bool start(const std::filesystem::path& pki, const std::vector<std::string>& senders) {
    server_ = callback_server(pki);
    if (!server_) return false;
    for (const auto& from : senders)
      server_->post("/mno/" + from, [this, from](const net::Request& req) {
        std::lock_guard lock(mu_);
        bodies_[from].push_back(nlohmann::json::parse(req.body, nullptr, false));
        net::Response res;
        res.status = 204;
        return res;
      });
    return static_cast<bool>(server_->start());
  }
  std::string url(const std::string& from) const { return server_->url() + "/mno/" + from; }
  /// The callback of `from`'s operation `id` of `function`, once it came (null when not in time).
  nlohmann::json result_of(const std::string& from, const std::string& function, std::int64_t id,
                           std::chrono::seconds timeout = std::chrono::seconds(90)) {
    return first_of(from, timeout, [&](const nlohmann::json& b) {
      return b.value("function", "") == function && b.value("operationId", std::int64_t{0}) == id;
    });
  }
  /// The callback of `from`'s operation `id`, whatever its function, once it came.
  nlohmann::json result_of(const std::string& from, std::int64_t id,
                           std::chrono::seconds timeout = std::chrono::seconds(90)) {
    return first_of(from, timeout, [&](const nlohmann::json& b) { return b.value("operationId", std::int64_t{0}) == id; });
  }
  /// The Handle...Notification `function` about `iccid` from `from`, once it came.
  nlohmann::json notification_of(const std::string& from, const std::string& function, const std::string& iccid,
                                 std::chrono::seconds timeout = std::chrono::seconds(60)) {
    return first_of(from, timeout, [&](const nlohmann::json& b) {
      return b.value("function", "") == function && b.value("iccid", "") == iccid;
    });
  }
  /// How many callbacks of `function` came from `from`.
  std::size_t count_of(const std::string& from, const std::string& function) {
    return count_if(from, [&](const nlohmann::json& b) { return b.value("function", "") == function; });
  }
  /// How many callbacks of `from`'s operation `id` came.
  std::size_t count_of(const std::string& from, std::int64_t id) {
    return count_if(from, [&](const nlohmann::json& b) { return b.value("operationId", std::int64_t{0}) == id; });
  }
  ~MnoEndpoint() {
    if (server_) server_->stop();
  }

 private:
  using Match = std::function<bool(const nlohmann::json&)>;

  /// The first JSON object from `from` that `match` takes, waiting up to `timeout` (null when none came).
  nlohmann::json first_of(const std::string& from, std::chrono::seconds timeout, const Match& match) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mu_);
        for (const auto& b : bodies_[from])
          if (b.is_object() && match(b)) return b;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return nullptr;
  }
  std::size_t count_if(const std::string& from, const Match& match) {
    std::lock_guard lock(mu_);
    const auto& list = bodies_[from];
    return static_cast<std::size_t>(
        std::count_if(list.begin(), list.end(), [&](const nlohmann::json& b) { return b.is_object() && match(b); }));
  }

  std::unique_ptr<net::HttpServer> server_;
  std::mutex mu_;
  std::map<std::string, std::vector<nlohmann::json>> bodies_;
};

}  // namespace rsp::e2e
