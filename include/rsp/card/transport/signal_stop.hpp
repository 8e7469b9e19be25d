#pragma once
/// Turns SIGINT / SIGTERM into a stop request, so long-running transports
/// (run_vpcd) end cleanly on Ctrl-C.

#include <atomic>
#include <csignal>
#include <stop_token>
#include <thread>

namespace rsp::card::transport {

/// While alive, SIGINT and SIGTERM are blocked in the constructing thread
/// (and in threads it starts afterwards) and a helper thread waits for them
/// and calls `source.request_stop()`. Construct it on the main thread before
/// starting other threads, so that no thread receives the signals directly.
/// The destructor restores the previous signal mask.
class StopOnSignals {
 public:
  explicit StopOnSignals(std::stop_source source);
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

  /// True once a signal arrived.
  bool signalled() const { return signalled_.load(); }

 private:
  sigset_t previous_{};
  std::atomic<bool> signalled_{false};
  std::jthread waiter_;
};

}  // namespace rsp::card::transport
