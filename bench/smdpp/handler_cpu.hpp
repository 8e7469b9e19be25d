#pragma once
/// bench_smdpp's per-function split of the server CPU: the thread CPU each
/// ES9+ handler took (request decoding, the SM-DP+ core, its storage, the
/// answer's encoding), measured around the dispatcher, so that the server CPU
/// per download can be told apart into the four ES9+ calls and what lies
/// outside every handler (HTTPS transport, HTTP framing, metrics).

#include <array>
#include <atomic>
#include <memory>

#include "lpa_client.hpp"
#include "rsp/smdpp/catalog.hpp"
#include "rsp/smdpp/http_service.hpp"

namespace rsp::bench::smdpp_https {

/// Handler CPU per ES9+ function, added up by every thread that runs one,
/// and the part of it spent in the profile catalog (its SQL statements,
/// commits and flushes: timed_catalog()). Timed only while `on`: each timer
/// reads the thread's CPU clock, a system call (2 per handler, 2 per catalog
/// call, about 12 per download), so the run's headline figures are taken
/// with it off and the split in a round of its own.
struct HandlerCpu {
  std::atomic<bool> on{false};
  std::array<std::atomic<long long>, kFnCount> ns{};
  std::array<std::atomic<long long>, kFnCount> calls{};
  std::array<std::atomic<long long>, kFnCount> storage_ns{};

  struct Snapshot {
    std::array<double, kFnCount> seconds{};
    std::array<long long, kFnCount> calls{};
    std::array<double, kFnCount> storage_seconds{};
  };
  Snapshot snapshot() const;
};

/// `inner` with the thread CPU of each call added to `into` under its function
/// while `into->on`; `inner` alone otherwise.
smdpp::Es9Dispatcher timed_dispatcher(smdpp::Es9Dispatcher inner, std::shared_ptr<HandlerCpu> into);

/// `inner` with the thread CPU of each call made inside a handler of
/// timed_dispatcher() added to `into`'s storage_ns under that handler's
/// function; calls from elsewhere (the reference transport's handlers) go
/// through untimed.
std::shared_ptr<smdpp::ProfileCatalog> timed_catalog(std::shared_ptr<smdpp::ProfileCatalog> inner,
                                                     std::shared_ptr<HandlerCpu> into);

/// Prints the handler CPU per download of each function between `before` and
/// `after` (`downloads` downloads), their sum and what the server CPU per
/// download (`server_ms`) leaves outside the handlers.
void print_handler_cpu(const HandlerCpu::Snapshot& before, const HandlerCpu::Snapshot& after, int downloads,
                       double server_ms);

}  // namespace rsp::bench::smdpp_https
