#include "fixed_costs.hpp"

#include <sys/resource.h>

#include <atomic>
#include <string>

#include "rsp/store/sqlite.hpp"

namespace rsp::bench::smdpp_https {

CommitCost durable_commit_cost(const fs::path& dir) {
  auto db = store::open_sqlite(dir / "commit_reference.db");
  if (!db) return {};
  auto& d = **db;
  if (!d.execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'x');")) return {};
  constexpr int kCommits = 300;
  const double c0 = cpu_seconds(RUSAGE_THREAD);
  const auto t0 = Clock::now();
  for (int i = 0; i < kCommits; ++i) {
    auto tx = d.begin();
    if (!tx || !d.execute("UPDATE t SET v = $1 WHERE id = 1", {store::Value(std::to_string(i))}) || !tx->commit())
      return {};
  }
  return {(cpu_seconds(RUSAGE_THREAD) - c0) * 1e3 / kCommits,
          std::chrono::duration<double>(Clock::now() - t0).count() * 1e3 / kCommits};
}

double transport_cpu_seconds(const Client& sample, std::size_t clients, const fs::path& pki_dir, crypto::Curve curve,
                             smdpp::HttpServiceConfig config, int n) {
  config.es9 = [&sample](std::string_view path, std::string_view, std::string_view) {
    const auto f = es9::function_from_path(path);
    if (!f || static_cast<int>(*f) >= kFnCount) return smdpp::Es9HttpResult{404, {}, {}, {}, {}};
    const auto fn = static_cast<Fn>(*f);
    return smdpp::Es9HttpResult{sample.exchange_status(fn), sample.exchange_response(fn), {}, {}, {}};
  };
  auto service = smdpp::HttpService::start(std::move(config));
  if (!service) return -1;
  std::vector<std::unique_ptr<Client>> replayers;
  for (std::size_t c = 0; c < clients; ++c) {
    replayers.push_back(std::make_unique<Client>(pki_dir, curve, (*service)->port(), false));
    replayers.back()->replay_exchanges_of(sample);
  }
  std::atomic<int> ok{0};
  const double cpu0 = cpu_seconds(RUSAGE_SELF);
  const double cpu_clients = run_clients(replayers, n, [&](Client& c, int) { ok += c.replay() ? 1 : 0; });
  const double cpu_server = cpu_seconds(RUSAGE_SELF) - cpu0 - cpu_clients;
  (*service)->stop();
  return ok == n ? cpu_server : -1;
}

}  // namespace rsp::bench::smdpp_https
