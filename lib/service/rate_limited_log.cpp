#include "rsp/service/rate_limited_log.hpp"

namespace rsp::service {

void RateLimitedLog::write(const std::string& line) {
  if (!sink_) return;
  std::size_t dropped = 0;
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now - window_ >= std::chrono::seconds(1)) {
      window_ = now;
      dropped = dropped_;
      dropped_ = 0;
      written_ = 0;
    }
    if (written_ >= per_second_) {
      ++dropped_;
      return;
    }
    ++written_;
  }
  if (dropped) sink_(std::to_string(dropped) + " more " + what_ + " were not logged");
  sink_(line);
}

}  // namespace rsp::service
