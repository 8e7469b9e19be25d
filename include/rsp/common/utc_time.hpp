#pragma once
/// Seconds since the epoch as the UTC time text the interfaces carry
/// ("2026-12-05T15:09:31Z": ISO 8601 / RFC 3339, whole seconds, 'Z').

#include <cstdint>
#include <string>

namespace rsp {

std::string utc_time_text(std::int64_t seconds);

}  // namespace rsp
