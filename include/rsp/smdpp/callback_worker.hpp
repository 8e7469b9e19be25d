#pragma once
/// Delivery of ES2+.HandleDownloadProgressInfo (SGP.22 §5.3.5) from the
/// inventory's durable outbox to each operator's callback URL.
///
/// An entry leaves the outbox only after the operator answered 2xx: every
/// other outcome (connection refused, TLS failure, 4xx/5xx, timeout) counts an
/// attempt and schedules the next one with exponential back-off
/// (OutboxPolicy); after max_attempts the entry stays, marked failed. Because
/// the outbox is in the database, entries not yet delivered are sent after a
/// restart. The request body is the queued payload (eid, iccid, profileType,
/// timestamp, notificationPointId, notificationPointStatus, resultData?) with
/// the common header of §6.5.1 added: this SM-DP+ as
/// functionRequesterIdentifier and "hdpi-<outbox id>" as
/// functionCallIdentifier, the same on every retry so the operator can drop
/// duplicates.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rsp/common/expected.hpp"
#include "rsp/net/metrics.hpp"
#include "rsp/smdpp/inventory.hpp"

namespace rsp::smdpp {

/// POSTs `body` to `url`; success only for a 2xx answer. The error text is
/// stored with the entry, so it never holds the URL or any credential.
using CallbackSender = std::function<expected<void, std::string>(const std::string& url, const std::string& body)>;

/// The production sender: net::HttpsClient, server certificate checked
/// against `trust_anchors` (DER) for https:// URLs; http:// for lab use.
CallbackSender https_callback_sender(std::vector<Bytes> trust_anchors,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

struct CallbackWorkerConfig {
  /// functionRequesterIdentifier of the calls: this SM-DP+ (its address).
  std::string requester_identifier;
  OutboxPolicy policy;
  /// How often the outbox is polled for due entries.
  std::chrono::milliseconds poll_interval{1000};
  /// Entries taken per poll, and how long they stay leased to this worker
  /// (longer than their deliveries take: 10 callbacks at the sender's 10 s).
  std::size_t batch = 10;
  std::chrono::seconds lease{std::chrono::minutes(3)};
  /// rsp_smdpp_callbacks_total{result} goes here when set.
  std::shared_ptr<net::Metrics> metrics;
};

/// The HandleDownloadProgressInfo request body for an outbox entry.
std::string progress_request_body(const OutboxEntry& entry, const std::string& requester_identifier);

class CallbackWorker {
 public:
  CallbackWorker(std::shared_ptr<Inventory> inventory, CallbackWorkerConfig config, CallbackSender sender);
  ~CallbackWorker();  ///< stops
  CallbackWorker(const CallbackWorker&) = delete;
  CallbackWorker& operator=(const CallbackWorker&) = delete;

  /// One pass over the due entries (at the inventory clock's time); returns
  /// how many were delivered.
  SmdppResult<std::size_t> run_once();

  /// Polls in a background thread until stop().
  void start();
  /// Wakes the thread, lets a delivery in flight finish and joins. Idempotent.
  void stop();

  std::uint64_t delivered() const { return delivered_.load(); }
  std::uint64_t failed_attempts() const { return failed_.load(); }
  std::uint64_t given_up() const { return given_up_.load(); }

 private:
  void count(const char* result);

  std::shared_ptr<Inventory> inv_;
  CallbackWorkerConfig config_;
  CallbackSender sender_;
  net::CounterFamily* counter_ = nullptr;
  std::atomic<std::uint64_t> delivered_{0}, failed_{0}, given_up_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rsp::smdpp
