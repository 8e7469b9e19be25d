#pragma once
/// One access-log line per request a server role answers on a route:
///
///   2026-12-03T12:40:01.123Z smdpp ES2+.DownloadOrder caller=op1 peer=127.0.0.1 status=200 result=- 12.3ms
///
/// time (UTC, milliseconds), role, function (as the spec names it), the
/// authenticated caller ("-" for none), the peer address, the HTTP status,
/// the spec's result code of a failed function (SGP.22 subject/reason code,
/// "-" when there is none) and the handling time. The line is built from
/// these fields only: never a header, body, key, secret, confirmation code or
/// matching ID.

#include <chrono>
#include <string>
#include <string_view>

namespace rsp::service {

struct AccessEntry {
  std::chrono::system_clock::time_point time;
  std::string_view role;
  std::string_view function;
  std::string_view caller;  ///< empty: anonymous
  std::string_view peer;
  int status = 0;
  std::string_view subject_code;
  std::string_view reason_code;
  std::chrono::nanoseconds duration{0};
};

std::string access_line(const AccessEntry& entry);

/// "2026-12-03T12:40:01.123Z".
std::string utc_millis(std::chrono::system_clock::time_point t);

}  // namespace rsp::service
