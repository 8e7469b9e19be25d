#pragma once
/// A log sink that never makes a request wait: lines are queued (at most
/// `capacity`) and written by a thread of their own, so a slow reader of the
/// log (a full pipe, a slow disk) cannot stall the threads serving requests.
/// When the queue is full a line is dropped and counted; the count is written
/// as a line of its own once there is room. stop() writes what is queued.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "rsp/service/rate_limited_log.hpp"

namespace rsp::service {

class AsyncLog {
 public:
  AsyncLog(LogSink sink, std::size_t capacity = 100000);
  ~AsyncLog();  ///< stops
  AsyncLog(const AsyncLog&) = delete;
  AsyncLog& operator=(const AsyncLog&) = delete;

  /// Queues the line; never blocks on the sink.
  void write(std::string_view line);
  /// Writes every queued line, then ends the thread. Idempotent; later
  /// lines are dropped.
  void stop();
  std::size_t dropped() const;

 private:
  void run();

  LogSink sink_;
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::size_t dropped_ = 0;
  std::size_t unreported_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rsp::service
