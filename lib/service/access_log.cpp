#include "rsp/service/access_log.hpp"

#include <ctime>
#include <fmt/core.h>

namespace rsp::service {

std::string utc_millis(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ((ms % 1000) + 1000) % 1000);
}

std::string access_line(const AccessEntry& e) {
  std::string result = "-";
  if (!e.subject_code.empty() || !e.reason_code.empty())
    result = std::string(e.subject_code) + "/" + std::string(e.reason_code);
  const double ms = std::chrono::duration<double, std::milli>(e.duration).count();
  return fmt::format("{} {} {} caller={} peer={} status={} result={} {:.1f}ms", utc_millis(e.time), e.role, e.function,
                     e.caller.empty() ? std::string_view("-") : e.caller, e.peer.empty() ? std::string_view("-") : e.peer,
                     e.status, result, ms);
}

}  // namespace rsp::service
