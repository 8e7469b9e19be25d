#pragma once
/// The clock every server role reads time from, injected so tests move it by
/// hand (sessions, order expiry, outbox back-off, access-log times).

#include <chrono>

namespace rsp::service {

using TimePoint = std::chrono::sys_seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  }
};

/// A clock tests move by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint t) : t_(t) {}
  TimePoint now() const override { return t_; }
  void advance(std::chrono::seconds d) { t_ += d; }

 private:
  TimePoint t_;
};

}  // namespace rsp::service
