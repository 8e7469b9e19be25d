#include "handler_cpu.hpp"

#include <cstdio>

#include "support/measure.hpp"

namespace rsp::bench::smdpp_https {

namespace {

/// The ES9+ function whose timed handler this thread is running, -1 outside one.
thread_local int timed_function = -1;

class TimedCatalog final : public smdpp::ProfileCatalog {
 public:
  TimedCatalog(std::shared_ptr<smdpp::ProfileCatalog> inner, std::shared_ptr<HandlerCpu> into)
      : inner_(std::move(inner)), into_(std::move(into)) {}

  smdpp::SmdppResult<std::optional<smdpp::ProfileOrder>> find(const std::string& matching_id,
                                                              const std::string& eid) override {
    return timed([&] { return inner_->find(matching_id, eid); });
  }
  smdpp::SmdppResult<int> record_cc_failure(const std::string& matching_id) override {
    return timed([&] { return inner_->record_cc_failure(matching_id); });
  }
  smdpp::SmdppResult<void> record(const std::string& matching_id, smdpp::OrderEvent event) override {
    return timed([&] { return inner_->record(matching_id, event); });
  }
  smdpp::SmdppResult<smdpp::InstallOutcome> record_install_result(
      const std::string& matching_id, const asn1::sgp22::ProfileInstallationResult& pir) override {
    return timed([&] { return inner_->record_install_result(matching_id, pir); });
  }
  smdpp::SmdppResult<void> record_cancel(const std::string& matching_id, std::int64_t reason) override {
    return timed([&] { return inner_->record_cancel(matching_id, reason); });
  }
  smdpp::SmdppResult<void> record_bpp_issued(const smdpp::IssuedDownload& d) override {
    return timed([&] { return inner_->record_bpp_issued(d); });
  }
  smdpp::SmdppResult<std::optional<smdpp::IssuedDownload>> issued_download(const Bytes& transaction_id) override {
    return timed([&] { return inner_->issued_download(transaction_id); });
  }
  smdpp::SmdppResult<std::optional<crypto::EcKey>> kept_one_time_key(const std::string& matching_id,
                                                                     const std::string& eid,
                                                                     ByteView euicc_otpk) override {
    return timed([&] { return inner_->kept_one_time_key(matching_id, eid, euicc_otpk); });
  }
  smdpp::SmdppResult<smdpp::NotificationRecord> record_profile_notification(
      const smdpp::ProfileNotification& n) override {
    return timed([&] { return inner_->record_profile_notification(n); });
  }

 private:
  template <class Call>
  auto timed(Call call) -> decltype(call()) {
    const int f = timed_function;
    if (f < 0) return call();
    const double t0 = thread_cpu_seconds();
    auto result = call();
    into_->storage_ns[static_cast<std::size_t>(f)] += static_cast<long long>((thread_cpu_seconds() - t0) * 1e9);
    return result;
  }

  std::shared_ptr<smdpp::ProfileCatalog> inner_;
  std::shared_ptr<HandlerCpu> into_;
};

}  // namespace

std::shared_ptr<smdpp::ProfileCatalog> timed_catalog(std::shared_ptr<smdpp::ProfileCatalog> inner,
                                                     std::shared_ptr<HandlerCpu> into) {
  return std::make_shared<TimedCatalog>(std::move(inner), std::move(into));
}

HandlerCpu::Snapshot HandlerCpu::snapshot() const {
  Snapshot s;
  for (int f = 0; f < kFnCount; ++f) {
    s.seconds[static_cast<std::size_t>(f)] = static_cast<double>(ns[static_cast<std::size_t>(f)].load()) * 1e-9;
    s.calls[static_cast<std::size_t>(f)] = calls[static_cast<std::size_t>(f)].load();
    s.storage_seconds[static_cast<std::size_t>(f)] =
        static_cast<double>(storage_ns[static_cast<std::size_t>(f)].load()) * 1e-9;
  }
  return s;
}

smdpp::Es9Dispatcher timed_dispatcher(smdpp::Es9Dispatcher inner, std::shared_ptr<HandlerCpu> into) {
  return [inner = std::move(inner), into = std::move(into)](std::string_view path, std::string_view body,
                                                            std::string_view peer) {
    if (!into->on.load(std::memory_order_relaxed)) return inner(path, body, peer);
    // The bench's four functions are numbered as es9::Function (bench_smdpp_tls.cpp checks it).
    const auto f = es9::function_from_path(path);
    const int fn = f && static_cast<int>(*f) < kFnCount ? static_cast<int>(*f) : -1;
    timed_function = fn;  // timed_catalog() adds its calls to this function's storage
    const double t0 = thread_cpu_seconds();
    auto result = inner(path, body, peer);
    const double spent = thread_cpu_seconds() - t0;
    timed_function = -1;
    if (fn >= 0) {
      const auto i = static_cast<std::size_t>(fn);
      into->ns[i] += static_cast<long long>(spent * 1e9);
      ++into->calls[i];
    }
    return result;
  };
}

void print_handler_cpu(const HandlerCpu::Snapshot& before, const HandlerCpu::Snapshot& after, int downloads,
                       double server_ms) {
  if (downloads <= 0) return;
  std::printf("server CPU per ES9+ handler (decode, core, storage, encode; event-driven server), ms per download,\n"
              "and the part of it in the profile catalog (SQL statements, commits, flushes), in a round of %d\n"
              "downloads of its own with the handler timers on (%.3f ms server CPU per download there; the figures\n"
              "above and below are taken without the timers, whose clock reads are system calls):\n",
              downloads, server_ms);
  double sum = 0, storage_sum = 0;
  for (int f = 0; f < kFnCount; ++f) {
    const auto i = static_cast<std::size_t>(f);
    const double ms = (after.seconds[i] - before.seconds[i]) * 1e3 / downloads;
    const double storage_ms = (after.storage_seconds[i] - before.storage_seconds[i]) * 1e3 / downloads;
    sum += ms;
    storage_sum += storage_ms;
    std::printf("  %-24s %7.3f  (%lld calls)  catalog %.3f\n", kFnNames[f], ms, after.calls[i] - before.calls[i],
                storage_ms);
  }
  std::printf("  %-24s %7.3f  of %.3f; outside the handlers (HTTPS transport, HTTP, metrics) %.3f\n", "all four", sum,
              server_ms, server_ms - sum);
  std::printf("  %-24s %7.3f  in the catalog, %.3f in the handlers besides\n", "all four", storage_sum,
              sum - storage_sum);
}

}  // namespace rsp::bench::smdpp_https
