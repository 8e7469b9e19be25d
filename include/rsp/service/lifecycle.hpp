#pragma once
/// A server role's lifecycle: SIGTERM and SIGINT are blocked before any
/// thread starts (so every thread inherits the mask and only wait() sees
/// them); wait() returns when one arrives, and the role then drains: stops
/// accepting, finishes the requests in flight (Server::stop) and stops its
/// outbox worker.

#include <signal.h>

namespace rsp::service {

class StopSignals {
 public:
  /// Blocks SIGTERM and SIGINT in the calling thread; construct it before
  /// starting any thread.
  StopSignals();
  /// Waits for SIGTERM or SIGINT; returns "SIGTERM" or "SIGINT".
  const char* wait();

 private:
  sigset_t set_{};
};

}  // namespace rsp::service
