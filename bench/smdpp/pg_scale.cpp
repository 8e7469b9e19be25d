#include "pg_scale.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

#include "rsp/messages/iccid.hpp"
#include "rsp/smdpp/es2_service.hpp"
#include "rsp/smdpp/server.hpp"
#include "rsp/smdpp/session_store.hpp"
#include "rsp/smdpp/sql_catalog.hpp"
#include "rsp/store/open.hpp"
#include "rsp/store/postgresql.hpp"
#include "support/measure.hpp"
#include "test_euicc.hpp"

namespace fs = std::filesystem;

namespace rsp::bench {

namespace {

using Clock = std::chrono::steady_clock;

/// CPU seconds used so far by every process named "postgres" on this host
/// (the local server's backends; 0 when it runs elsewhere or as another
/// user whose /proc entries cannot be read).
double postgres_cpu_s() {
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::ifstream in(e.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    const auto open = line.find('(');
    const auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || line.substr(open + 1, close - open - 1) != "postgres")
      continue;
    // After "(comm)": state is field 3; utime and stime are fields 14 and 15.
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::atof(field.c_str());
      if (i == 15) stime = std::atof(field.c_str());
    }
    total += (utime + stime) / tick;
  }
  return total;
}

/// One `rsp smdpp serve` as the bench builds it: inventory, sessions and a
/// connection pool of its own on the shared database, its own ES9+ service.
struct Instance {
  std::unique_ptr<smdpp::HttpService> service;
  std::shared_ptr<smdpp::Server> core;
};

struct Setup {
  std::shared_ptr<store::Database> db;
  std::shared_ptr<smdpp::Inventory> inventory;
};

expected<Setup, std::string> open_instance_db(const PgScaleOptions& o, std::shared_ptr<const smdpp::KeyEncryptionKey> kek,
                                              const smdpp::Clock& clock) {
  auto db = store::open_database(o.url, store::OpenOptions{o.service.worker_threads + 4});
  if (!db) return unexpected(db.error().message);
  Setup s;
  s.db = std::shared_ptr<store::Database>(std::move(*db));
  auto inv = smdpp::Inventory::open(s.db, clock, {std::move(kek), nullptr});
  if (!inv) return unexpected(inv.error().message);
  s.inventory = std::move(*inv);
  return s;
}

expected<Instance, std::string> start_instance(const PgScaleOptions& o, const Setup& s, const smdpp::Clock& clock) {
  auto ids = smdpp::IdentitySet::load_directory(o.pki);
  if (!ids) return unexpected(ids.error().message);
  auto identities = std::make_shared<const smdpp::IdentitySet>(std::move(*ids));
  smdpp::ServerConfig cfg;
  cfg.address = o.address;
  auto catalog = std::make_shared<smdpp::SqlProfileCatalog>(s.inventory, crypto::system_random());
  auto sessions = std::make_shared<smdpp::SqlSessionStore>(s.db, identities);
  Instance in;
  in.core = std::make_shared<smdpp::Server>(cfg, identities, catalog, clock, crypto::system_random(), sessions);
  smdpp::HttpServiceConfig hc = o.service;
  hc.es9 = smdpp::es9_dispatcher(in.core);
  auto service = smdpp::HttpService::start(std::move(hc));
  if (!service) return unexpected(service.error().message);
  in.service = std::move(*service);
  return in;
}

/// `n` profiles of a type of this run, ordered and released; their matchingIds.
expected<std::vector<std::string>, std::string> order_profiles(const std::shared_ptr<smdpp::Inventory>& inventory,
                                                               const std::string& address, const std::string& prefix,
                                                               int n, std::size_t filler) {
  smdpp::Es2Service es2(inventory, smdpp::Es2Config{address, 3}, crypto::system_random());
  smdpp::Inventory& inv = *inventory;
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    std::string digits = std::to_string(i);
    digits = prefix + std::string(19 - prefix.size() - digits.size(), '0') + digits;
    smdpp::ImportProfile p;
    p.operator_name = "bench";
    p.profile_type = "bench";
    p.upp = smdpp::testing::make_test_upp(*messages::iccid_from_digits(digits), filler);
    auto iccid = inv.import_profile(p);
    if (!iccid) return unexpected("import: " + iccid.error().message);
    if (auto r = es2.download_order("bench", {std::nullopt, *iccid, std::nullopt}); !r)
      return unexpected("order: " + r.error().message);
    smdpp::ConfirmOrderRequest cr;
    cr.iccid = *iccid;
    cr.release_flag = true;
    auto conf = es2.confirm_order("bench", cr);
    if (!conf) return unexpected("confirm: " + conf.error().message);
    out.push_back(conf->matching_id);
  }
  return out;
}

}  // namespace

int run_pg_scale(const PgScaleOptions& o, const Drive& drive) {
  static const smdpp::SystemClock clock;
  auto kek = smdpp::KeyEncryptionKey::make(crypto::system_random().bytes(smdpp::KeyEncryptionKey::kSize));
  if (!kek) return 1;
  const auto key = std::make_shared<const smdpp::KeyEncryptionKey>(std::move(*kek));
  // ICCIDs of this run only, so that a database kept from earlier runs serves again.
  const std::string run = std::to_string(100000 + (std::time(nullptr) % 900000));
  std::printf("bench_smdpp: PostgreSQL %s, %d downloads per round, %d clients, %zu worker threads per instance\n",
              store::redact_url(o.url).c_str(), o.downloads, o.clients, o.service.worker_threads);
  int rc = 0;
  double one_rate = 0;
  for (int instances = 1; instances <= 2; ++instances) {
    std::vector<Setup> setups;
    std::vector<Instance> running;
    std::vector<int> ports;
    for (int i = 0; i < instances; ++i) {
      auto s = open_instance_db(o, key, clock);
      if (!s) {
        std::fprintf(stderr, "database: %s\n", s.error().c_str());
        return 1;
      }
      auto in = start_instance(o, *s, clock);
      if (!in) {
        std::fprintf(stderr, "instance: %s\n", in.error().c_str());
        return 1;
      }
      ports.push_back(in->service->port());
      setups.push_back(std::move(*s));
      running.push_back(std::move(*in));
    }
    auto mids = order_profiles(setups.front().inventory, o.address, "894" + run + std::to_string(instances),
                               o.downloads, o.profile_filler);
    if (!mids) {
      std::fprintf(stderr, "%s\n", mids.error().c_str());
      return 1;
    }
    const double cpu0 = process_cpu_seconds();
    const double pg0 = postgres_cpu_s();
    const auto t0 = Clock::now();
    const DriveResult r = drive(ports, *mids);
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double server_cpu = process_cpu_seconds() - cpu0 - r.client_cpu_s;
    const double pg_cpu = postgres_cpu_s() - pg0;
    for (auto& in : running) in.service->stop();
    if (r.ok != o.downloads) {
      std::fprintf(stderr, "%d of %d downloads failed; first: %s\n", o.downloads - r.ok, o.downloads,
                   r.first_error.c_str());
      rc = 1;
    }
    const double rate = r.ok / wall;
    if (instances == 1) one_rate = rate;
    const double per = r.ok > 0 ? 1e3 / r.ok : 0;
    std::printf("postgresql %d instance%s  %8.1f downloads/s%s  server CPU per download %.2f ms (SM-DP+ %.2f ms, "
                "PostgreSQL %.2f ms)  p99 per ES9+ call %.1f ms\n",
                instances, instances == 1 ? " " : "s", rate,
                instances == 2 && one_rate > 0
                    ? (" (x" + std::to_string(rate / one_rate).substr(0, 4) + " of one)").c_str()
                    : "",
                (server_cpu + pg_cpu) * per, server_cpu * per, pg_cpu * per, r.p99_ms);
  }
  return rc;
}

}  // namespace rsp::bench
