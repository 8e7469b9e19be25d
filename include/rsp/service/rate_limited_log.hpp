#pragma once
/// A log that writes at most `per_second` lines a second and reports how many
/// it left out, so that a flood of bad requests or failed handshakes cannot
/// flood the log. Thread-safe.

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace rsp::service {

using LogSink = std::function<void(std::string_view line)>;

class RateLimitedLog {
 public:
  /// `what` names the lines in the report of those left out ("failed calls").
  RateLimitedLog(LogSink sink, std::size_t per_second, std::string what)
      : sink_(std::move(sink)), per_second_(per_second), what_(std::move(what)) {}

  void write(const std::string& line);

 private:
  LogSink sink_;
  std::size_t per_second_;
  std::string what_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point window_{};
  std::size_t written_ = 0;
  std::size_t dropped_ = 0;
};

}  // namespace rsp::service
