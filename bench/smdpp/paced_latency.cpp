#include "paced_latency.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

namespace rsp::bench::smdpp_https {

double paced_p99_ms(std::vector<std::unique_ptr<Client>>& clients, const std::vector<std::string>& ids,
                    const std::vector<smdpp::testing::TestEuiccCredentials>& fleet, std::size_t first, double rate) {
  if (rate <= 0) return 0;
  for (auto& c : clients)
    for (auto& l : c->latency_) l.clear();
  std::atomic<int> failed{0};
  const auto t0 = Clock::now();
  run_clients(clients, static_cast<int>(ids.size()), [&](Client& c, int i) {
    std::this_thread::sleep_until(t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i / rate)));
    if (!c.download(ids[static_cast<std::size_t>(i)], fleet[first + static_cast<std::size_t>(i)])) ++failed;
  });
  if (failed > 0) return 0;
  double worst = 0;
  for (int f = 0; f < kFnCount; ++f) {
    std::vector<double> all;
    for (const auto& c : clients) all.insert(all.end(), c->latency_[f].begin(), c->latency_[f].end());
    worst = std::max(worst, percentile(all, 0.99) * 1e3);
  }
  return worst;
}

}  // namespace rsp::bench::smdpp_https
