#include "ledger.hpp"

#include <algorithm>

namespace rsp::bench {

Ledger::Ledger(std::size_t count, std::function<void(std::size_t)> succeeded) : succeeded_(std::move(succeeded)) {
  for (std::size_t i = 0; i < count; ++i) free_.push_back(i);
}

std::optional<std::size_t> Ledger::take(std::size_t total, Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  free_cv_.wait_until(lock, deadline, [&] { return issued_ >= total || !free_.empty(); });
  if (issued_ >= total || free_.empty()) return std::nullopt;
  if (++issued_ >= total) free_cv_.notify_all();  // the others end too
  const auto d = free_.front();
  free_.pop_front();
  // A free device left for a thread that was not woken for it.
  if (!free_.empty()) free_cv_.notify_one();
  return d;
}

void Ledger::accepted(std::int64_t id, std::size_t device, Clock::time_point t0) {
  std::lock_guard lock(mu_);
  if (auto it = early_.find(id); it != early_.end()) {
    end(id, device, t0, it->second.first, it->second.second);
    early_.erase(it);
  } else {
    open_[id] = {device, t0};
  }
}

void Ledger::refused(std::size_t device, const std::string& kind) {
  std::lock_guard lock(mu_);
  ++errors_;
  kinds_.add(kind);
  ++done_;
  free_device(device);
}

void Ledger::callback(std::int64_t id, const std::string& failure) {
  const auto t1 = Clock::now();
  std::lock_guard lock(mu_);
  if (auto it = open_.find(id); it != open_.end()) {
    const auto [device, t0] = it->second;
    open_.erase(it);
    end(id, device, t0, t1, failure);
  } else if (ended_.count(id) || early_.count(id)) {
    ++duplicates_;
  } else {
    early_[id] = {t1, failure};
  }
}

bool Ledger::wait_done(std::size_t total, std::chrono::seconds timeout) {
  std::unique_lock lock(mu_);
  return done_cv_.wait_for(lock, timeout, [&] { return done_ >= total; });
}

std::vector<double> Ledger::latencies() {
  std::lock_guard lock(mu_);
  return latencies_;
}

std::size_t Ledger::errors() {
  std::lock_guard lock(mu_);
  return errors_;
}

std::size_t Ledger::done() {
  std::lock_guard lock(mu_);
  return done_;
}

std::size_t Ledger::open() {
  std::lock_guard lock(mu_);
  return open_.size();
}

std::size_t Ledger::duplicates() {
  std::lock_guard lock(mu_);
  return duplicates_;
}

Ledger::Clock::time_point Ledger::last() {
  std::lock_guard lock(mu_);
  return last_;
}

void Ledger::end(std::int64_t id, std::size_t device, Clock::time_point t0, Clock::time_point t1,
                 const std::string& failure) {
  latencies_.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  ended_.insert(id);
  if (failure.empty()) {
    if (succeeded_) succeeded_(device);
  } else {
    ++errors_;
    kinds_.add(failure);
  }
  ++done_;
  last_ = std::max(last_, t1);
  free_device(device);
}

void Ledger::free_device(std::size_t device) {
  free_.push_back(device);
  free_cv_.notify_one();
  done_cv_.notify_all();  // wait_done(), one thread
}

}  // namespace rsp::bench
