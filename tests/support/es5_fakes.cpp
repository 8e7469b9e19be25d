#include "test_support/es5_fakes.hpp"

namespace rsp::test_support {

void FakeScripts::queue(const std::string& eid, es5::Script s) {
  std::lock_guard lock(mu_);
  queues_[eid].push_back(std::move(s));
}

std::optional<es5::Script> FakeScripts::next_script(const std::string& eid) {
  std::lock_guard lock(mu_);
  auto& q = queues_[eid];
  if (q.empty()) return std::nullopt;
  ++handed_out_;
  return q.front();
}

void FakeScripts::completed(const std::string& eid, const std::string& token,
                            const es5::Es5Result<std::vector<apdu::Response>>& outcome) {
  std::lock_guard lock(mu_);
  auto& q = queues_[eid];
  if (!q.empty() && q.front().token == token) q.pop_front();
  done_.insert_or_assign(token, outcome);
}

std::size_t FakeScripts::pending(const std::string& eid) {
  std::lock_guard lock(mu_);
  return queues_[eid].size();
}

std::map<std::string, es5::Es5Result<std::vector<apdu::Response>>> FakeScripts::done() {
  std::lock_guard lock(mu_);
  return done_;
}

std::size_t FakeScripts::handed_out() {
  std::lock_guard lock(mu_);
  return handed_out_;
}

void FakeSink::notification(const std::string&, const m2m::Notification& n) {
  std::lock_guard lock(mu_);
  received_.push_back(n);
}

std::vector<m2m::Notification> FakeSink::received() {
  std::lock_guard lock(mu_);
  return received_;
}

}  // namespace rsp::test_support
