#include "rsp/service/async_log.hpp"

namespace rsp::service {

AsyncLog::AsyncLog(LogSink sink, std::size_t capacity) : sink_(std::move(sink)), capacity_(capacity) {
  thread_ = std::thread([this] { run(); });
}

AsyncLog::~AsyncLog() { stop(); }

void AsyncLog::write(std::string_view line) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= capacity_) {
      ++dropped_;
      ++unreported_;
      return;
    }
    queue_.emplace_back(line);
  }
  cv_.notify_one();
}

std::size_t AsyncLog::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void AsyncLog::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) break;
    std::deque<std::string> batch;
    batch.swap(queue_);
    const std::size_t lost = unreported_;
    unreported_ = 0;
    lock.unlock();
    if (sink_) {
      if (lost) sink_(std::to_string(lost) + " log lines were dropped (the log could not keep up)");
      for (const auto& l : batch) sink_(l);
    }
    lock.lock();
  }
}

void AsyncLog::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace rsp::service
