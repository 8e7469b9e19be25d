// Scale-out on PostgreSQL: two `rsp smdpp serve` instances on one database,
// 16 LPAs downloading at once, each LPA's ES9+ calls alternating between the
// instances. Every ordered profile is downloaded and installed exactly once,
// none is lost or left half-way, and every HandleDownloadProgressInfo callback
// reaches the operator once although both instances send from the one outbox.
//
// The orders are placed from 4 threads at once (DownloadOrder by profile
// type: each must get another profile). RSP_PG_SCALE_DOWNLOADS sets how many
// downloads (the full run: 500); the default keeps the test quick
// under the sanitizers. Skipped with a message when PostgreSQL cannot start.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <nlohmann/json.hpp>

#include "alternating_es9.hpp"
#include "mno_endpoint.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/lpa/es10_channel.hpp"
#include "rsp/lpa/https_transport.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/net/server.hpp"
#include "rsp/smdpp/es2_service.hpp"
#include "rsp/smdpp/inventory.hpp"
#include "rsp/store/open.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"
#include "simulated_card.hpp"
#include "test_support/pg_server.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kOperator = "scale-op";
const std::string kAddress = "localhost";  // the DPtls name `rsp pki init` issues
constexpr const char* kHdpiPath = "/gsma/rsp2/es2plus/handleDownloadProgressInfo";
constexpr int kLpas = 16;

int download_count() {
  if (const char* n = std::getenv("RSP_PG_SCALE_DOWNLOADS")) return std::max(kLpas, std::atoi(n));
  return 48;
}

/// The operator's callback endpoint (plain HTTP, lab use): counts every
/// delivery by its functionCallIdentifier.
class CallbackCounter {
 public:
  bool start() {
    net::HttpServerOptions o;
    o.insecure_plain_http = true;  // a test endpoint on the loopback
    o.worker_threads = 2;
    server_ = std::make_unique<net::HttpServer>(std::move(o));
    server_->post(kHdpiPath, [this](const net::Request& req) {
      auto j = nlohmann::json::parse(req.body, nullptr, false);
      std::string call;
      if (j.is_object() && j.contains("header") && j["header"].is_object())
        call = j["header"].value("functionCallIdentifier", "");
      {
        std::lock_guard lock(mu_);
        ++by_call_[call];
        ++total_;
      }
      cv_.notify_all();
      return es2plus_success();
    });
    return static_cast<bool>(server_->start());
  }
  std::string url() const { return server_->url() + kHdpiPath; }
  /// Waits until `n` deliveries arrived (or the timeout); the count by call.
  std::map<std::string, int> wait_for(std::size_t n, std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return total_ >= n; });
    return by_call_;
  }

 private:
  std::unique_ptr<net::HttpServer> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> by_call_;
  std::size_t total_ = 0;
};

TEST(SmdppPostgresScale, TwoInstancesSixteenLpasEveryProfileOnce) {
  test_support::PgServer pg;
  if (!pg.ok()) GTEST_SKIP() << "PostgreSQL not available: " << pg.why();
  ASSERT_TRUE(pg.create_database("scale")) << pg.why();
  const std::string url = pg.url("scale");
  const int downloads = download_count();
  TempDir dir;
  const std::string pki = (dir.path() / "pki").string();
  const std::string profiles = (dir.path() / "profiles").string();
  const std::string kek = (dir.path() / "smdpp.kek").string();
  auto r = rsp({"pki", "init", "--out", pki, "--curves", "nist"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"profile", "sample", "--out", profiles, "--count", std::to_string(downloads), "--type", "scale"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"smdpp", "keys", "init", "--out", kek});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"smdpp", "profiles", "import", profiles, "--operator", kOperator, "--db", url, "--kek-file", kek});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // The orders, from 4 threads at once: DownloadOrder by type must hand each
  // its own profile (no two orders for one, none refused while any is left).
  std::vector<std::string> codes;
  {
    auto opened = store::open_database(url, store::OpenOptions{4});
    ASSERT_TRUE(opened) << opened.error().message;
    std::shared_ptr<store::Database> db(std::move(*opened));
    static const smdpp::SystemClock clock;
    auto inv = smdpp::Inventory::open(db, clock, {});
    ASSERT_TRUE(inv) << inv.error().message;
    smdpp::Es2Service es2(*inv, smdpp::Es2Config{kAddress, 3}, crypto::system_random());
    std::mutex mu;
    std::vector<std::string> failures;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int i = t; i < downloads; i += 4) {
          auto iccid = es2.download_order(kOperator, {std::nullopt, std::nullopt, std::string("scale")});
          std::lock_guard lock(mu);
          if (!iccid) {
            failures.push_back("DownloadOrder: " + iccid.error().subject_code + "/" + iccid.error().reason_code + " " +
                               iccid.error().message);
            continue;
          }
          smdpp::ConfirmOrderRequest cr;
          cr.iccid = *iccid;
          cr.release_flag = true;
          auto conf = es2.confirm_order(kOperator, cr);
          if (!conf) {
            failures.push_back("ConfirmOrder: " + conf.error().message);
            continue;
          }
          codes.push_back("LPA:1$" + kAddress + "$" + conf->matching_id);
        }
      });
    for (auto& t : threads) t.join();
    ASSERT_TRUE(failures.empty()) << failures.front();
    ASSERT_EQ(codes.size(), static_cast<std::size_t>(downloads));
    auto released = db->query("SELECT count(*) FROM profiles WHERE state = 'released'");
    ASSERT_TRUE(released) << released.error().message;
    ASSERT_EQ((*released)[0].int64(0), downloads);
  }

  CallbackCounter operator_endpoint;
  ASSERT_TRUE(operator_endpoint.start());
  {
    std::ofstream key(dir.path() / "op.key");
    key << "scale-op-key-4f1e2d3c5b6a7980\n";
  }
  fs::permissions(dir.path() / "op.key", fs::perms::owner_read | fs::perms::owner_write);
  nlohmann::json cfg = {{"listen", "127.0.0.1:0"},
                        {"address", kAddress},
                        {"pki", pki},
                        {"database", url},
                        {"kek_file", kek},
                        {"workers", 8},
                        {"access_log", (dir.path() / "access.log").string()},
                        {"operators",
                         {{{"name", kOperator},
                           {"api_key_file", (dir.path() / "op.key").string()},
                           {"callback_url", operator_endpoint.url()}}}}};
  const fs::path config = dir.path() / "smdpp.json";
  std::ofstream(config) << cfg.dump();
  ServeProcess a({"--config", config.string()});
  ServeProcess b({"--config", config.string()});
  const std::string url_a = a.url();
  const std::string url_b = b.url();
  ASSERT_FALSE(url_a.empty()) << a.output();
  ASSERT_FALSE(url_b.empty()) << b.output();
  const std::string endpoint_a = url_a.substr(url_a.find("://") + 3);
  const std::string endpoint_b = url_b.substr(url_b.find("://") + 3);

  // 16 eUICCs, one per LPA; each LPA downloads profile after profile.
  std::vector<fs::path> cards;
  for (int i = 0; i < kLpas; ++i) {
    cards.push_back(dir.path() / ("euicc" + std::to_string(i)));
    r = rsp({"euicc", "create", "--dir", cards.back().string(), "--pki", pki});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::vector<std::string> failures;
  std::map<std::string, int> installed;  ///< ICCID -> how many LPAs report it installed
  std::vector<std::thread> lpas;
  for (int i = 0; i < kLpas; ++i)
    lpas.emplace_back([&, i] {
      auto store = euicc::EuiccStore::open(cards[static_cast<std::size_t>(i)]);
      if (!store) {
        std::lock_guard lock(mu);
        failures.push_back("card: " + store.error().message);
        return;
      }
      lpa::HttpsEs9Options o;
      if (auto id = store->identity())
        for (const auto& c : id->curves) o.trust_anchors.push_back(c.ci_cert);
      o.resolve[kAddress] = endpoint_a;
      lpa::HttpsEs9Transport to_a(o);
      o.resolve[kAddress] = endpoint_b;
      lpa::HttpsEs9Transport to_b(o);
      // Half the LPAs start on each instance.
      AlternatingEs9 es9(to_a, to_b, static_cast<std::size_t>(i % 2));
      SimulatedCard sim(*store);
      if (!sim.es10.select_isd_r()) return;
      for (std::size_t n = next++; n < codes.size(); n = next++) {
        auto d = lpa::download_profile(codes[n], std::nullopt, sim.es10, es9);
        std::lock_guard lock(mu);
        if (!d) {
          failures.push_back(codes[n] + ": " + d.error().to_string());
          continue;
        }
        if (!d->notification_delivered) failures.push_back(codes[n] + ": notification not delivered");
        ++installed[messages::iccid_to_digits(d->iccid)];
      }
    });
  for (auto& t : lpas) t.join();
  ASSERT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  ASSERT_EQ(installed.size(), static_cast<std::size_t>(downloads));
  for (const auto& [iccid, n] : installed) EXPECT_EQ(n, 1) << iccid;

  auto opened = store::open_database(url);
  ASSERT_TRUE(opened) << opened.error().message;
  auto& db = **opened;
  // Every profile installed, none left released, downloaded or in error.
  auto states = db.query("SELECT state, count(*) FROM profiles GROUP BY state");
  ASSERT_TRUE(states) << states.error().message;
  ASSERT_EQ(states->size(), 1u);
  EXPECT_EQ((*states)[0].text(0), "installed");
  EXPECT_EQ((*states)[0].int64(1), downloads);
  // Each went through released -> downloaded -> installed exactly once.
  for (const char* to : {"released", "downloaded", "installed"}) {
    auto twice = db.query("SELECT iccid FROM profile_transitions WHERE to_state = $1 GROUP BY iccid"
                          " HAVING count(*) <> 1",
                          {store::value(to)});
    ASSERT_TRUE(twice) << twice.error().message;
    EXPECT_TRUE(twice->empty()) << twice->size() << " profiles not " << to << " exactly once";
    auto all = db.query_one("SELECT count(DISTINCT iccid) FROM profile_transitions WHERE to_state = $1",
                            {store::value(to)});
    ASSERT_TRUE(all && *all);
    EXPECT_EQ((*all)->int64(0), downloads) << to;
  }
  // The ICCIDs the LPAs installed are the ones the SM-DP+ says installed.
  auto iccids = db.query("SELECT iccid FROM profiles WHERE state = 'installed'");
  ASSERT_TRUE(iccids);
  for (const auto& row : *iccids) EXPECT_EQ(installed.count(row.text(0)), 1u) << row.text(0);

  // Two callbacks per download (BPP download, installation), each sent once
  // by whichever instance claimed it.
  const std::size_t expected = static_cast<std::size_t>(downloads) * 2;
  for (int i = 0; i < 120; ++i) {
    auto pending = db.query_one("SELECT count(*) FROM service_outbox WHERE status = 'pending'");
    if (pending && *pending && (*pending)->int64(0) == 0) break;
    std::this_thread::sleep_for(500ms);
  }
  auto delivered = db.query_one("SELECT count(*) FROM service_outbox WHERE status = 'delivered' AND attempts = 1");
  ASSERT_TRUE(delivered && *delivered);
  EXPECT_EQ(static_cast<std::size_t>((*delivered)->int64(0)), expected);
  const auto calls = operator_endpoint.wait_for(expected, 60s);
  EXPECT_EQ(calls.size(), expected);
  for (const auto& [call, n] : calls) EXPECT_EQ(n, 1) << "callback " << call << " delivered " << n << " times";
  EXPECT_TRUE(a.alive());
  EXPECT_TRUE(b.alive());
}

}  // namespace
}  // namespace rsp::e2e
