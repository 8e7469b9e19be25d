#include "fixed_costs.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "rsp/crypto/random.hpp"
#include "rsp/crypto/scp80.hpp"
#include "rsp/m2m/isdr_commands.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/server.hpp"
#include "rsp/ota/command_sms.hpp"
#include "rsp/ota/trigger.hpp"
#include "rsp/store/open.hpp"

namespace rsp::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

/// The median wall time and the mean CPU of one call of `step`, run `n` times.
struct Timed {
  double median_wall_ms = 0;
  double cpu_ms = 0;
};

template <class Step>
expected<Timed, std::string> time_each(int n, Step step) {
  std::vector<double> times;
  const double c0 = thread_cpu_seconds();
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    if (auto r = step(i); !r) return unexpected(r.error());
    times.push_back(ms_since(t0));
  }
  const double cpu = (thread_cpu_seconds() - c0) * 1000.0 / n;
  // The median: on a disk other jobs share, single flushes scatter widely.
  std::sort(times.begin(), times.end());
  return Timed{times[times.size() / 2], cpu};
}

expected<Timed, std::string> commit_ms(const fs::path& dir, int commits) {
  auto db = store::open_database((dir / "commit-cost.db").string());
  if (!db) return unexpected("commit database: " + db.error().message);
  if (!(*db)->execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)"))
    return unexpected(std::string("commit database: create table"));
  const Bytes row(200, 0x5a);  // about an operation row
  return time_each(commits, [&](int) -> expected<void, std::string> {
    auto tx = (*db)->begin();
    if (!tx || !(*db)->execute("INSERT INTO t (v) VALUES ($1)", {store::Value(row)}) || !tx->commit())
      return unexpected(std::string("commit database: insert"));
    return {};
  });
}

/// A card state save as euicc/state_slots writes it: the record overwritten
/// in place in a slot file that exists, then fdatasync. 1,100 bytes: a
/// simulated M2M card's state with its bootstrap and a second profile.
expected<Timed, std::string> card_flush_ms(const fs::path& dir, int flushes) {
  const fs::path file = dir / "card-flush-cost.state";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return unexpected(std::string("card flush file: cannot open"));
  const Bytes record(1100, 0x5a);
  auto write_once = [&](int) -> expected<void, std::string> {
    if (::pwrite(fd, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size()) || ::fdatasync(fd) != 0)
      return unexpected(std::string("card flush file: cannot write"));
    return {};
  };
  if (::pwrite(fd, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size()) || ::fsync(fd) != 0) {
    ::close(fd);
    return unexpected(std::string("card flush file: cannot write"));
  }
  auto timed = time_each(flushes, write_once);
  ::close(fd);
  std::error_code ec;
  fs::remove(file, ec);
  return timed;
}

struct HandshakeCost {
  double server_cpu_ms = 0, client_cpu_ms = 0, wall_ms = 0;
};

expected<HandshakeCost, std::string> handshake_ms(int handshakes) {
  crypto::SystemRandom random;
  const Bytes key = random.bytes(16);
  const std::string identity = "eUICC-bench-handshake";
  net::HttpServerOptions o;
  o.tls = net::TlsServerConfig{};
  o.tls->psk = net::PskServerConfig{[key, identity](std::string_view id) -> std::optional<Bytes> {
    if (id == identity) return key;
    return std::nullopt;
  }};
  o.worker_threads = 2;
  net::HttpServer server(std::move(o));
  server.post("/gsma/adminagent", [](const net::Request&) {
    net::Response r;
    r.status = 204;
    return r;
  });
  if (!server.start()) return unexpected(std::string("PSK-TLS server did not start"));
  // In batches, each figure the median of the batches': one batch that
  // meets another job on the machine (or the allocator warming up) does
  // not move it, as it moved one average over all handshakes.
  constexpr int kBatches = 5;
  const int per_batch = std::max(handshakes / kBatches, 1);
  std::vector<double> server_ms, client_ms, wall_ms;
  for (int b = 0; b < kBatches; ++b) {
    const double p0 = process_cpu_seconds(), c0 = thread_cpu_seconds();
    const auto t0 = Clock::now();
    for (int i = 0; i < per_batch; ++i) {
      net::HttpsClientOptions co;
      co.base_url = server.url();
      co.psk = net::PskClientConfig{identity, key};
      auto client = net::HttpsClient::create(std::move(co));
      if (!client) return unexpected("PSK-TLS client: " + client.error().message);
      auto r = (*client)->request("POST", "/gsma/adminagent", "");
      if (!r || r->status != 204) return unexpected(std::string("PSK-TLS exchange failed"));
    }
    wall_ms.push_back(ms_since(t0) / per_batch);
    const double client_cpu = thread_cpu_seconds() - c0;
    client_ms.push_back(client_cpu * 1000.0 / per_batch);
    server_ms.push_back(((process_cpu_seconds() - p0) - client_cpu) * 1000.0 / per_batch);
  }
  server.stop();
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  return HandshakeCost{median(server_ms), median(client_ms), median(wall_ms)};
}

expected<double, std::string> scp80_wrap_us() {
  crypto::SystemRandom random;
  const crypto::scp80::Keys keys(random.bytes(16), random.bytes(16));
  ota::AdminSessionTrigger trigger;
  trigger.host = "127.0.0.1:40000";
  trigger.uri = "/gsma/adminagent";
  trigger.agent_id = "//se-id/eid/89049032000000000000000000000000";
  trigger.security = ota::TriggerSecurity{"eUICC-89049032000000000000000000000000", 1, 1};
  auto data = ota::encode(trigger);
  if (!data) return unexpected(std::string("trigger encoding"));
  crypto::scp80::CommandHeader header;  // the wake-up's SPI (es5/wake_up.hpp): CC, ciphered, counter higher
  header.spi = crypto::scp80::Spi{crypto::scp80::Integrity::CryptographicChecksum, true,
                                  crypto::scp80::CounterMode::Higher, crypto::scp80::PorMode::None,
                                  crypto::scp80::Integrity::CryptographicChecksum, true, false};
  header.tar = m2m::kIsdRTar;
  const double c0 = thread_cpu_seconds();
  long n = 0;
  double now = c0;
  do {
    header.counter = static_cast<std::uint64_t>(n + 1);
    if (!ota::build_command_user_data(header, keys, *data, static_cast<std::uint16_t>(n)))
      return unexpected(std::string("SCP80 wrap"));
    ++n;
    now = thread_cpu_seconds();
  } while (now - c0 < 0.2);
  return (now - c0) * 1e6 / static_cast<double>(n);
}

}  // namespace

expected<FixedCosts, std::string> measure_fixed_costs(const fs::path& dir, int commits, int handshakes) {
  FixedCosts f;
  auto c = commit_ms(dir, commits);
  if (!c) return unexpected(c.error());
  f.commit_ms = c->median_wall_ms;
  f.commit_cpu_ms = c->cpu_ms;
  auto cf = card_flush_ms(dir, commits);
  if (!cf) return unexpected(cf.error());
  f.card_flush_ms = cf->median_wall_ms;
  f.card_flush_cpu_ms = cf->cpu_ms;
  auto h = handshake_ms(handshakes);
  if (!h) return unexpected(h.error());
  f.handshake_server_ms = h->server_cpu_ms;
  f.handshake_client_ms = h->client_cpu_ms;
  f.handshake_wall_ms = h->wall_ms;
  auto w = scp80_wrap_us();
  if (!w) return unexpected(w.error());
  f.scp80_wrap_us = *w;
  return f;
}

}  // namespace rsp::bench
