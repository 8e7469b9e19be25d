#pragma once
/// bench_smsr's EnableProfile run: free devices, operations in flight,
/// results. An operation ends when both its ES4 answer (its id) and its
/// callback came, in either order.
///
/// The MNO client threads wait here for a free device: a device freed wakes
/// one of them (not all: with every device busy, each callback would else
/// wake every client thread for one device, and all but one would sleep
/// again), and the run's end wakes them all.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "failure_kinds.hpp"

namespace rsp::bench {

class Ledger {
 public:
  using Clock = std::chrono::steady_clock;

  /// `count` devices, all free; `succeeded(device)` runs (under the
  /// ledger's lock) for each operation that ended in success.
  Ledger(std::size_t count, std::function<void(std::size_t)> succeeded);

  /// A device with no open operation; nullopt once `total` were issued or
  /// at `deadline` (operations that never end leave no device free).
  std::optional<std::size_t> take(std::size_t total, Clock::time_point deadline);
  void accepted(std::int64_t id, std::size_t device, Clock::time_point t0);
  /// The ES4 call itself failed (`kind`: what it got): the device is free
  /// again, counted as an error.
  void refused(std::size_t device, const std::string& kind);
  /// An operation's result: `failure` empty for success, else its kind. A
  /// second callback for an operation already ended is counted apart
  /// (duplicates()), not as a second result.
  void callback(std::int64_t id, const std::string& failure);
  bool wait_done(std::size_t total, std::chrono::seconds timeout);

  std::vector<double> latencies();
  std::size_t errors();
  std::size_t done();
  /// Operations accepted whose callback has not come (yet).
  std::size_t open();
  std::size_t duplicates();
  /// The failures so far, per kind.
  std::string failure_summary() const { return kinds_.summary(); }
  Clock::time_point last();

 private:
  void end(std::int64_t id, std::size_t device, Clock::time_point t0, Clock::time_point t1,
           const std::string& failure);
  void free_device(std::size_t device);  ///< with mu_ held

  std::function<void(std::size_t)> succeeded_;
  std::mutex mu_;
  std::condition_variable free_cv_;  ///< the client threads, for a free device or the run's end
  std::condition_variable done_cv_;  ///< wait_done()
  std::deque<std::size_t> free_;
  std::map<std::int64_t, std::pair<std::size_t, Clock::time_point>> open_;
  std::map<std::int64_t, std::pair<Clock::time_point, std::string>> early_;
  std::set<std::int64_t> ended_;  ///< to tell a repeated callback from an early one
  FailureKinds kinds_;
  std::vector<double> latencies_;
  std::size_t issued_ = 0, done_ = 0, errors_ = 0, duplicates_ = 0;
  Clock::time_point last_{};
};

}  // namespace rsp::bench
