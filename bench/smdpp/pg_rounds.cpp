#include "pg_rounds.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "fleet.hpp"
#include "lpa_client.hpp"
#include "pg_scale.hpp"
#include "rsp/smdpp/http_service.hpp"

namespace rsp::bench::smdpp_https {

int postgresql_rounds(const Args& a, const std::filesystem::path& pki) {
  bench::PgScaleOptions o;
  o.url = a.db;
  o.pki = pki;
  o.address = kAddress;
  o.downloads = a.downloads;
  o.clients = a.clients;
  o.profile_filler = kProfileFiller;
  o.service.address = kAddress;
  o.service.tls_identities = smdpp::load_tls_identities(pki).value();
  o.service.worker_threads = static_cast<std::size_t>(std::max(8, a.clients));
  const auto fleet = bench::make_fleet(pki, a.curve, a.downloads);
  return bench::run_pg_scale(o, [&](const std::vector<int>& ports, const std::vector<std::string>& mids) {
    std::vector<std::unique_ptr<Client>> clients;
    for (std::size_t c = 0; c < static_cast<std::size_t>(a.clients); ++c)
      clients.push_back(std::make_unique<Client>(pki, a.curve, ports[c % ports.size()], a.verify));
    std::atomic<int> done{0};
    bench::DriveResult r;
    r.client_cpu_s = run_clients(clients, static_cast<int>(mids.size()), [&](Client& c, int i) {
      if (c.download(mids[static_cast<std::size_t>(i)], fleet[static_cast<std::size_t>(i)])) ++done;
    });
    r.ok = done;
    for (const auto& c : clients)
      if (!c->error.empty() && r.first_error.empty()) r.first_error = c->error;
    for (int f = 0; f < kFnCount; ++f) {
      std::vector<double> all;
      for (const auto& c : clients) all.insert(all.end(), c->latency_[f].begin(), c->latency_[f].end());
      r.p99_ms = std::max(r.p99_ms, percentile(all, 0.99) * 1e3);
    }
    return r;
  });
}

}  // namespace rsp::bench::smdpp_https
