#pragma once
/// The delivery side of a durable outbox, shared by every server role that
/// calls back (the SM-DP+'s ES2+ HandleDownloadProgressInfo, SGP.22 §5.3.5;
/// later the SM-SR's and SM-DP's notifications).
///
/// The role keeps its entries in its own database table and exposes them
/// through OutboxStore; the worker delivers them:
///   - per-recipient lanes: each recipient's entries go out in order, one at a
///     time, while other recipients' go out beside them (a thread each, at
///     most max_parallel_recipients), so a hanging endpoint delays only its
///     own recipient;
///   - claim tokens: an entry is taken under a claim unique to this worker,
///     leased for `lease`, so instances sharing a database never send it
///     twice, and one whose sender died is due again when the lease ends;
///   - retries with exponential back-off (OutboxPolicy, applied by the store):
///     an entry leaves only once delivered; after max_attempts it stays,
///     marked failed, for the audit.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "rsp/common/expected.hpp"
#include "rsp/net/metrics.hpp"

namespace rsp::service {

struct OutboxPolicy {
  int max_attempts = 10;
  std::chrono::seconds first_delay{30};
  std::chrono::seconds max_delay{std::chrono::hours(1)};
};

/// One entry taken for delivery.
struct OutboxItem {
  std::int64_t id = 0;
  std::string recipient;    ///< the lane: entries of one recipient go out in order
  std::string destination;  ///< e.g. the recipient's callback URL; empty: none configured
  std::string body;         ///< what is sent
  int attempts = 0;         ///< before this one
  std::string claim;        ///< the claim it is held under
  std::string ref;          ///< the role's own name for it, if any (SqlOutbox)
};

/// The role's durable entries. Errors are messages for the log (never a
/// destination's credentials). Called from several threads at once.
class OutboxStore {
 public:
  virtual ~OutboxStore() = default;
  /// The recipients with entries due now, at most `limit`, each once.
  virtual expected<std::vector<std::string>, std::string> due_recipients(std::size_t limit) = 0;
  /// Takes the recipient's oldest due entry under `claim` for `lease`, in one
  /// transaction; nullopt when none is due.
  virtual expected<std::optional<OutboxItem>, std::string> claim_next(const std::string& recipient,
                                                                      std::chrono::seconds lease,
                                                                      const std::string& claim) = 0;
  /// Marks the entry delivered while still held under its claim; false when
  /// the claim was lost (nothing changed).
  virtual expected<bool, std::string> delivered(const OutboxItem& item) = 0;
  /// Counts an attempt and schedules the next by `policy`, as for delivered().
  virtual expected<bool, std::string> failed(const OutboxItem& item, const std::string& error,
                                             const OutboxPolicy& policy) = 0;

  // Batches (OutboxWorkerConfig::batch): a store that overrides these takes
  // and marks several entries in one transaction, one disk flush for all.
  /// Up to `max` of the recipient's due entries, oldest first, each taken as
  /// claim_next() takes one; empty when none is due. Default: claim_next().
  virtual expected<std::vector<OutboxItem>, std::string> claim_batch(const std::string& recipient,
                                                                     std::chrono::seconds lease,
                                                                     const std::string& claim, std::size_t max);
  /// delivered() for each of `items`; returns how many were still held.
  /// Default: one delivered() each.
  virtual expected<std::size_t, std::string> delivered_batch(std::span<const OutboxItem> items);
  /// delivered_batch(`delivered`) and then claim_batch(recipient, ...), in
  /// one transaction where the store can: a lane that goes on after a batch
  /// it sent marks it with its next claim (OutboxWorkerConfig::gather).
  /// Returns how many of `delivered` were still held, and the new claim
  /// (empty when none is due). Default: the two calls.
  virtual expected<std::pair<std::size_t, std::vector<OutboxItem>>, std::string> delivered_and_claim(
      std::span<const OutboxItem> delivered, const std::string& recipient, std::chrono::seconds lease,
      const std::string& claim, std::size_t max);
  /// Hands back claimed entries that were not sent: due again at once, no
  /// attempt counted, while still held under their claim. Default: nothing
  /// (they are due again when their lease ends).
  virtual expected<void, std::string> release(std::span<const OutboxItem> items);
};

/// Sends `body` to `destination`; success only when the recipient took it.
/// The error text is stored with the entry: never the destination or any
/// credential. Called from several threads at once.
using OutboxSender = std::function<expected<void, std::string>(const std::string& destination, const std::string& body)>;

struct OutboxWorkerConfig {
  OutboxPolicy policy;
  /// How often the store is polled for due entries.
  std::chrono::milliseconds poll_interval{1000};
  std::size_t max_parallel_recipients = 16;
  /// Entries of one recipient claimed in one transaction and marked
  /// delivered in one more (OutboxStore::claim_batch): two disk flushes per
  /// batch instead of two per entry. They still go out one at a time and in
  /// order; a batch stops at a failed send, at stop(), or once half the
  /// lease has passed, and hands the entries not sent back (release()).
  std::size_t batch = 1;
  /// After a batch that came back short (fewer than `batch` entries, all
  /// sent), the lane waits this long before it claims again, so that the
  /// entries arriving meanwhile go in one batch (one claim and one delivery
  /// transaction) instead of one or two each; it ends, as without it, once a
  /// claim finds nothing due. Zero: it claims again at once. It delays an
  /// entry by at most this much (the poll interval bounds it already for a
  /// recipient without a lane). The batch it waits after is marked delivered
  /// with the next claim, in its transaction (OutboxStore::delivered_and_claim):
  /// one transaction per batch, not two; until then its entries stay held
  /// under their claim (no other sender takes them), and a crash meanwhile
  /// sends them once more, as a crash before delivered() always did.
  std::chrono::milliseconds gather{0};
  /// How long a claimed entry stays with this worker; must exceed one
  /// delivery (the sender's whole-delivery timeout).
  std::chrono::seconds lease{std::chrono::minutes(3)};
  /// `<metric>{result="delivered|failed|given_up"}` goes here when set.
  std::shared_ptr<net::Metrics> metrics;
  std::string metric = "rsp_outbox_deliveries_total";
  std::string metric_help = "Outbox deliveries, by result (delivered, failed attempt, given_up after the last).";
  /// The error stored with an entry whose recipient has no destination.
  std::string no_destination = "no destination configured";
};

class OutboxWorker {
 public:
  OutboxWorker(std::shared_ptr<OutboxStore> store, OutboxWorkerConfig config, OutboxSender sender);
  ~OutboxWorker();  ///< stops
  OutboxWorker(const OutboxWorker&) = delete;
  OutboxWorker& operator=(const OutboxWorker&) = delete;

  /// One pass over the due entries, the recipients in parallel, each in
  /// order; returns how many were delivered.
  expected<std::size_t, std::string> run_once();
  /// Polls in a background thread until stop().
  void start();
  /// Wakes the thread, lets the deliveries in flight finish and joins. Idempotent.
  void stop();

  std::uint64_t delivered() const { return delivered_.load(); }
  std::uint64_t failed_attempts() const { return failed_.load(); }
  std::uint64_t given_up() const { return given_up_.load(); }

 private:
  struct Lane {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void count(const char* result);
  expected<void, std::string> start_lanes();
  void serve_recipient(const std::string& recipient);
  void join_lanes(bool all);
  bool stopping() const;

  std::shared_ptr<OutboxStore> store_;
  OutboxWorkerConfig config_;
  OutboxSender sender_;
  net::CounterFamily* counter_ = nullptr;
  std::atomic<std::uint64_t> delivered_{0}, failed_{0}, given_up_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::mutex lanes_mu_;  ///< taken after mu_ when both are needed
  std::map<std::string, std::unique_ptr<Lane>> lanes_;
  std::string claim_prefix_;  ///< unique to this worker
  std::atomic<std::uint64_t> claims_{0};
};

}  // namespace rsp::service
