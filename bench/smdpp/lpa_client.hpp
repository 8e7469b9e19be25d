#pragma once
/// bench_smdpp's LPA: one keep-alive HTTPS connection to the ES9+ service
/// and the simulated eUICC of the download at hand, running whole SGP.22
/// downloads and timing each ES9+ call; and the client threads that drive
/// several of them.

#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rsp/messages/es9_json.hpp"
#include "rsp/net/client.hpp"
#include "rsp/smdpp/http_service.hpp"
#include "support/measure.hpp"
#include "test_euicc.hpp"

namespace rsp::bench::smdpp_https {

namespace fs = std::filesystem;
namespace es9 = rsp::messages::es9;
using Clock = std::chrono::steady_clock;

/// The SM-DP+ address of the run (the test PKI's DPtls certificate names it).
inline constexpr const char* kAddress = "smdp.bench.example";

enum Fn { kInit, kAuth, kBpp, kNotify, kFnCount };
inline constexpr const char* kFnNames[kFnCount] = {"initiateAuthentication", "authenticateClient", "getBoundProfilePackage",
                                                    "handleNotification"};

/// One LPA with its keep-alive HTTPS connection, and the eUICC it serves.
class Client {
 public:
  Client(const fs::path& pki_dir, crypto::Curve curve, int port, bool verify)
      : euicc_(std::in_place, smdpp::testing::test_pki_euicc_credentials(pki_dir, curve), crypto::system_random()), verify_(verify) {
    net::HttpsClientOptions o;
    o.base_url = std::string("https://") + kAddress + ":" + std::to_string(port);
    o.connect_to = "127.0.0.1";
    o.trust_anchors = net::load_certificates(pki_dir / "CERT_CI_ECDSA_NIST.pem").value();
    http_ = std::move(net::HttpsClient::create(o).value());
  }

  /// A whole download by the eUICC with `creds`; false on any failure (the
  /// first one is kept in `error`).
  bool download(const std::string& matching_id, const smdpp::testing::TestEuiccCredentials& creds) {
    euicc_.emplace(creds, crypto::system_random());
    auto init = call(kInit, es9::encode_request(euicc_->initiate(kAddress)), es9::decode_initiate_authentication_response);
    if (!init) return false;
    auto acr = euicc_->authenticate_server(*init, matching_id);
    if (!acr) return fail(acr.error());
    auto auth = call(kAuth, es9::encode_request(*acr), es9::decode_authenticate_client_response);
    if (!auth) return false;
    auto gbpp = euicc_->prepare_download(*auth, std::nullopt);
    if (!gbpp) return fail(gbpp.error());
    auto bpp = call(kBpp, es9::encode_request(*gbpp), es9::decode_get_bound_profile_package_response);
    if (!bpp) return false;
    if (verify_) {
      if (auto loaded = euicc_->load_bpp(bpp->boundProfilePackage); !loaded) return fail(loaded.error());
    }
    asn1::sgp22::HandleNotification hn;
    hn.pendingNotification = euicc_->install_result(true);
    const auto t0 = Clock::now();
    auto r = http_->post(std::string(es9::path(es9::Function::HandleNotification)), es9::encode_request(hn),
                         "application/json", headers());
    latency_[kNotify].push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (!r || r->status != 204) return fail(r ? "handleNotification status " + std::to_string(r->status) : r.error().message);
    exchange_[kNotify] = {es9::encode_request(hn), r->body, r->status};
    return true;
  }

  /// The exchanges of the last download again, against a server that answers
  /// each with the answer it got then: the HTTPS transport of a download alone.
  bool replay() {
    for (int f = 0; f < kFnCount; ++f) {
      const auto& x = exchange_[f];
      auto r = http_->post(std::string(es9::path(static_cast<es9::Function>(f))), x.request, "application/json",
                           headers());
      if (!r || r->status != x.status || r->body.size() != x.response.size()) return fail("replay failed");
    }
    return true;
  }

  /// One ES9+ exchange as it went over the wire.
  struct Exchange {
    std::string request, response;
    int status = 0;
  };
  int exchange_status(Fn fn) const { return exchange_[fn].status; }
  const std::string& exchange_response(Fn fn) const { return exchange_[fn].response; }
  void replay_exchanges_of(const Client& other) { std::copy(std::begin(other.exchange_), std::end(other.exchange_), exchange_); }

  /// initiateAuthentication + authenticateClient, then left open.
  bool open_session(const std::string& matching_id) {
    auto init = call(kInit, es9::encode_request(euicc_->initiate(kAddress)), es9::decode_initiate_authentication_response);
    if (!init) return false;
    auto acr = euicc_->authenticate_server(*init, matching_id);
    if (!acr) return fail(acr.error());
    return static_cast<bool>(call(kAuth, es9::encode_request(*acr), es9::decode_authenticate_client_response));
  }

  std::vector<double> latency_[kFnCount];
  std::string error;
  std::uint64_t connections() const { return http_->connections_opened(); }

 private:
  static net::Headers headers() { return {{"X-Admin-Protocol", std::string(smdpp::kAdminProtocol)}}; }

  bool fail(const std::string& e) {
    if (error.empty()) error = e;
    return false;
  }

  template <class Decode>
  auto call(Fn fn, const std::string& body, Decode decode) -> decltype(decode(std::string_view())) {
    const auto t0 = Clock::now();
    auto r = http_->post(std::string(es9::path(static_cast<es9::Function>(fn))), body, "application/json", headers());
    latency_[fn].push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (!r) {
      fail(std::string(kFnNames[fn]) + ": " + r.error().message);
      return decode("");
    }
    auto out = decode(r->body);
    if (!out) fail(std::string(kFnNames[fn]) + ": " + r->body.substr(0, 300));
    exchange_[fn] = {body, r->body, r->status};
    return out;
  }

  std::optional<smdpp::testing::TestEuicc> euicc_;  ///< the eUICC of the download at hand
  std::unique_ptr<net::HttpsClient> http_;
  bool verify_;
  Exchange exchange_[kFnCount];
};

/// Runs `work(client, i)` for i in [0, n) spread over one thread per client;
/// returns the CPU seconds those threads used.
template <class Work>
double run_clients(std::vector<std::unique_ptr<Client>>& clients, int n, Work work) {
  std::atomic<int> next{0};
  std::vector<double> cpu(clients.size(), 0.0);
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < clients.size(); ++c)
    threads.emplace_back([&, c] {
      ::pthread_setname_np(::pthread_self(), "bench-client");  // tells profiles the two sides apart
      const double start = bench::cpu_seconds(RUSAGE_THREAD);
      for (int i = next++; i < n; i = next++) work(*clients[c], i);
      cpu[c] = bench::cpu_seconds(RUSAGE_THREAD) - start;
    });
  for (auto& t : threads) t.join();
  double sum = 0;
  for (double c : cpu) sum += c;
  return sum;
}

}  // namespace rsp::bench::smdpp_https
