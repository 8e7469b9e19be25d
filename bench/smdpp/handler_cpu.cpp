#include "handler_cpu.hpp"

#include <cstdio>

#include "support/measure.hpp"

namespace rsp::bench::smdpp_https {

HandlerCpu::Snapshot HandlerCpu::snapshot() const {
  Snapshot s;
  for (int f = 0; f < kFnCount; ++f) {
    s.seconds[static_cast<std::size_t>(f)] = static_cast<double>(ns[static_cast<std::size_t>(f)].load()) * 1e-9;
    s.calls[static_cast<std::size_t>(f)] = calls[static_cast<std::size_t>(f)].load();
  }
  return s;
}

smdpp::Es9Dispatcher timed_dispatcher(smdpp::Es9Dispatcher inner, std::shared_ptr<HandlerCpu> into) {
  return [inner = std::move(inner), into = std::move(into)](std::string_view path, std::string_view body,
                                                            std::string_view peer) {
    const double t0 = thread_cpu_seconds();
    auto result = inner(path, body, peer);
    const double spent = thread_cpu_seconds() - t0;
    // The bench's four functions are numbered as es9::Function (bench_smdpp_tls.cpp checks it).
    if (const auto f = es9::function_from_path(path); f && static_cast<int>(*f) < kFnCount) {
      const auto i = static_cast<std::size_t>(*f);
      into->ns[i] += static_cast<long long>(spent * 1e9);
      ++into->calls[i];
    }
    return result;
  };
}

void print_handler_cpu(const HandlerCpu::Snapshot& before, const HandlerCpu::Snapshot& after, int downloads,
                       double server_ms) {
  if (downloads <= 0) return;
  std::printf("server CPU per ES9+ handler (decode, core, storage, encode; event-driven server), ms per download:\n");
  double sum = 0;
  for (int f = 0; f < kFnCount; ++f) {
    const auto i = static_cast<std::size_t>(f);
    const double ms = (after.seconds[i] - before.seconds[i]) * 1e3 / downloads;
    sum += ms;
    std::printf("  %-24s %7.3f  (%lld calls)\n", kFnNames[f], ms, after.calls[i] - before.calls[i]);
  }
  std::printf("  %-24s %7.3f  of %.3f; outside the handlers (HTTPS transport, HTTP, metrics) %.3f\n", "all four", sum,
              server_ms, server_ms - sum);
}

}  // namespace rsp::bench::smdpp_https
