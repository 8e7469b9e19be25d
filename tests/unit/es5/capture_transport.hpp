#pragma once
// An SmsTransport that keeps what is submitted, for tests that hand the
// messages over themselves (twice, altered, or not at all).

#include <mutex>
#include <vector>

#include "rsp/smpp/sms_transport.hpp"

namespace rsp::es5::test {

class CaptureTransport final : public smpp::SmsTransport {
 public:
  smpp::SmsResult<std::string> submit(const smpp::ShortMessage& msg) override {
    std::lock_guard lock(mu_);
    sent_.push_back(msg);
    return std::to_string(sent_.size());
  }
  void set_inbound(smpp::Inbound) override {}
  void stop() override {}
  std::vector<smpp::ShortMessage> sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  std::mutex mu_;
  std::vector<smpp::ShortMessage> sent_;
};

}  // namespace rsp::es5::test
