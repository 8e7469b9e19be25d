// The access-log line: its fields in order, and nothing else.

#include "rsp/service/access_log.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "rsp/service/async_log.hpp"
#include "rsp/service/rate_limited_log.hpp"

#include <atomic>
#include <mutex>

namespace rsp::service {
namespace {

using namespace std::chrono_literals;

TEST(AccessLog, OneLineWithEveryField) {
  AccessEntry e;
  e.time = std::chrono::system_clock::time_point(1796301601123ms);  // 2026-12-03T12:40:01.123Z
  e.role = "smdpp";
  e.function = "ES2+.DownloadOrder";
  e.caller = "op1";
  e.peer = "127.0.0.1";
  e.status = 200;
  e.duration = 12345us;
  EXPECT_EQ(access_line(e),
            "2026-12-03T12:40:01.123Z smdpp ES2+.DownloadOrder caller=op1 peer=127.0.0.1 status=200 result=- 12.3ms");
  e.caller = {};
  e.peer = {};
  e.status = 200;
  e.subject_code = "8.2.1";
  e.reason_code = "3.9";
  e.duration = 0ns;
  EXPECT_EQ(access_line(e),
            "2026-12-03T12:40:01.123Z smdpp ES2+.DownloadOrder caller=- peer=- status=200 result=8.2.1/3.9 0.0ms");
}

TEST(AccessLog, UtcMillis) {
  EXPECT_EQ(utc_millis(std::chrono::system_clock::time_point(0ms)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(utc_millis(std::chrono::system_clock::time_point(1999ms)), "1970-01-01T00:00:01.999Z");
}

TEST(RateLimitedLog, WritesAtMostItsRateAndReportsTheRest) {
  std::vector<std::string> lines;
  RateLimitedLog log([&](std::string_view l) { lines.emplace_back(l); }, 2, "failed TLS handshakes");
  for (int i = 0; i < 5; ++i) log.write("line " + std::to_string(i));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "line 1");
  std::this_thread::sleep_for(1100ms);
  log.write("later");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2], "3 more failed TLS handshakes were not logged");
  EXPECT_EQ(lines[3], "later");
  RateLimitedLog none(nullptr, 2, "x");
  none.write("nowhere");  // no sink: nothing happens
}

TEST(AsyncLog, WritesInOrderAndStopWritesWhatIsQueued) {
  std::vector<std::string> lines;
  AsyncLog log([&](std::string_view l) { lines.emplace_back(l); });
  for (int i = 0; i < 500; ++i) log.write("line " + std::to_string(i));
  log.stop();
  ASSERT_EQ(lines.size(), 500u);
  EXPECT_EQ(lines[0], "line 0");
  EXPECT_EQ(lines[499], "line 499");
  log.write("after stop");
  log.stop();
  EXPECT_EQ(lines.size(), 500u);
  EXPECT_EQ(log.dropped(), 1u);
}

// A sink that blocks (a full pipe) never blocks the writer: lines beyond the
// capacity are dropped, counted, and reported once the sink moves again.
TEST(AsyncLog, ABlockedSinkDropsInsteadOfBlocking) {
  std::mutex gate;
  std::unique_lock hold(gate);
  std::vector<std::string> lines;
  std::atomic<bool> entered{false};
  AsyncLog log(
      [&](std::string_view l) {
        entered = true;
        std::lock_guard wait(gate);
        lines.emplace_back(l);
      },
      3);
  log.write("first");
  for (int i = 0; i < 200 && !entered; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(entered);  // the thread is stuck in the sink with "first"
  for (int i = 0; i < 10; ++i) log.write("more " + std::to_string(i));  // returns at once
  EXPECT_EQ(log.dropped(), 7u);
  hold.unlock();
  log.stop();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "first");
  EXPECT_EQ(lines[1], "7 log lines were dropped (the log could not keep up)");
  EXPECT_EQ(lines[2], "more 0");
  EXPECT_EQ(lines[4], "more 2");
}

}  // namespace
}  // namespace rsp::service
