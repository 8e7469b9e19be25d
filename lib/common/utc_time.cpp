#include "rsp/common/utc_time.hpp"

#include <ctime>

namespace rsp {

std::string utc_time_text(std::int64_t seconds) {
  const std::time_t tt = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace rsp
