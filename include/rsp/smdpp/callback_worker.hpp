#pragma once
/// Delivery of ES2+.HandleDownloadProgressInfo (SGP.22 §5.3.5) from the
/// inventory's durable outbox to each operator's callback URL: the service
/// kit's outbox worker (rsp/service/outbox.hpp: per-operator lanes, claims,
/// back-off) over its SQL outbox (rsp/service/sql_outbox.hpp), where the
/// inventory queues the callbacks.
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
/// functionCallIdentifier (for entries an older version queued, the
/// identifier it used), the same on every retry so the operator can drop
/// duplicates.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rsp/common/expected.hpp"
#include "rsp/net/metrics.hpp"
#include "rsp/service/outbox.hpp"
#include "rsp/smdpp/inventory.hpp"

namespace rsp::smdpp {

/// POSTs `body` to `url`; success only for a 2xx answer. The error text is
/// stored with the entry, so it never holds the URL or any credential.
/// Called from several threads at once (one per operator being served).
using CallbackSender = service::OutboxSender;

/// The production sender: net::HttpsClient, server certificate checked
/// against `trust_anchors` (DER) for https:// URLs; http:// for lab use.
/// `timeout` bounds the whole delivery (connection, handshake, request and
/// answer together), however slowly the endpoint trickles its bytes.
CallbackSender https_callback_sender(std::vector<Bytes> trust_anchors,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

struct CallbackWorkerConfig {
  /// functionRequesterIdentifier of the calls: this SM-DP+ (its address).
  std::string requester_identifier;
  OutboxPolicy policy;
  /// How often the outbox is polled for due entries.
  std::chrono::milliseconds poll_interval{1000};
  /// Operators served at once, each by a thread of its own: a hanging
  /// endpoint delays only its own operator's callbacks.
  std::size_t max_parallel_operators = 16;
  /// How long a claimed entry stays with this worker. It must exceed one
  /// delivery (the sender's whole-delivery timeout), so that an entry is
  /// never sent by two instances sharing the database.
  std::chrono::seconds lease{std::chrono::minutes(3)};
  /// rsp_smdpp_callbacks_total{result} goes here when set.
  std::shared_ptr<net::Metrics> metrics;
};

/// The HandleDownloadProgressInfo request body for a claimed outbox entry
/// (its body: the payload queued by the inventory).
std::string progress_request_body(const service::OutboxItem& item, const std::string& requester_identifier);

class CallbackWorker {
 public:
  CallbackWorker(std::shared_ptr<Inventory> inventory, CallbackWorkerConfig config, CallbackSender sender);
  ~CallbackWorker();  ///< stops
  CallbackWorker(const CallbackWorker&) = delete;
  CallbackWorker& operator=(const CallbackWorker&) = delete;

  /// One pass over the due entries (at the inventory clock's time), the
  /// operators in parallel, each in order; returns how many were delivered.
  SmdppResult<std::size_t> run_once();

  /// Polls in a background thread until stop().
  void start();
  /// Wakes the thread, lets a delivery in flight finish and joins. Idempotent.
  void stop();

  std::uint64_t delivered() const { return worker_->delivered(); }
  std::uint64_t failed_attempts() const { return worker_->failed_attempts(); }
  std::uint64_t given_up() const { return worker_->given_up(); }

 private:
  std::unique_ptr<service::OutboxWorker> worker_;
};

}  // namespace rsp::smdpp
