#pragma once
// The SM-SR side of ES5 as tests stand it in (es5/script_source.hpp): command
// scripts queued per EID, taken off once answered, and the notifications the
// card sent. Shared by the ES5 unit tests and the device's end-to-end test.

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "rsp/es5/script_source.hpp"

namespace rsp::test_support {

/// Scripts queued per EID; completed() removes the one answered.
class FakeScripts final : public es5::ScriptSource {
 public:
  void queue(const std::string& eid, es5::Script s);
  std::optional<es5::Script> next_script(const std::string& eid) override;
  void completed(const std::string& eid, const std::string& token,
                 const es5::Es5Result<std::vector<apdu::Response>>& outcome) override;
  std::size_t pending(const std::string& eid);
  /// The answers so far, by token.
  std::map<std::string, es5::Es5Result<std::vector<apdu::Response>>> done();
  std::size_t handed_out();

 private:
  std::mutex mu_;
  std::map<std::string, std::deque<es5::Script>> queues_;
  std::map<std::string, es5::Es5Result<std::vector<apdu::Response>>> done_;
  std::size_t handed_out_ = 0;
};

class FakeSink final : public es5::NotificationSink {
 public:
  void notification(const std::string& eid, const m2m::Notification& n) override;
  std::vector<m2m::Notification> received();

 private:
  std::mutex mu_;
  std::vector<m2m::Notification> received_;
};

}  // namespace rsp::test_support
