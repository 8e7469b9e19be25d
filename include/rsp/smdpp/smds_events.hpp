#pragma once
/// The SM-DP+'s ES12 calls to SM-DSs (SGP.22 v2.2.2 §3.6, §5.7): the
/// inventory queues an order's RegisterEvent when its profile is released
/// and its DeleteEvent when the order ends (Inventory::enable_smds_events);
/// this worker sends them from the outbox over mutual TLS with the SM-DP+'s
/// TLS certificate, retried with back-off, and queues the deletions of
/// events whose orders expired. A DeleteEvent the SM-DS answers with
/// "unknown" is done: the event is gone either way.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "rsp/es12/client.hpp"
#include "rsp/net/metrics.hpp"
#include "rsp/service/outbox.hpp"
#include "rsp/smdpp/inventory.hpp"

namespace rsp::smdpp {

struct SmdsEventWorkerConfig {
  rsp::es12::ClientConfig client;  ///< the SM-DSs' TLS roots and this SM-DP+'s client identity
  service::OutboxPolicy policy;
  std::chrono::milliseconds poll_interval{1000};
  std::shared_ptr<net::Metrics> metrics;
};

class SmdsEventWorker {
 public:
  /// `inventory` must have had enable_smds_events() called.
  SmdsEventWorker(std::shared_ptr<Inventory> inventory, SmdsEventWorkerConfig config);
  ~SmdsEventWorker();
  SmdsEventWorker(const SmdsEventWorker&) = delete;
  SmdsEventWorker& operator=(const SmdsEventWorker&) = delete;

  /// Queues the deletions of expired orders' events, then one delivery pass;
  /// returns how many calls the SM-DSs took.
  expected<std::size_t, std::string> run_once();
  void start();  ///< run_once() every poll_interval in a thread
  void stop();   ///< idempotent

  const service::OutboxWorker& outbox_worker() const { return *worker_; }

 private:
  std::shared_ptr<Inventory> inventory_;
  SmdsEventWorkerConfig config_;
  std::unique_ptr<service::OutboxWorker> worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rsp::smdpp
