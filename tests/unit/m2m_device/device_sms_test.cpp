// Short messages from the transport: queued by its handler, handled on the
// device's own thread (the transport's delivery thread, one for a whole
// fleet on the loopback SMSC, is not held by the card), with a bound on how
// many wait.

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "m2m_fixture.hpp"
#include "rsp/m2m_device/device.hpp"

namespace rsp::m2m_device {
namespace {

using namespace std::chrono_literals;

/// A transport whose deliveries the test makes itself, on its own thread.
class HandTransport final : public smpp::SmsTransport {
 public:
  smpp::SmsResult<std::string> submit(const smpp::ShortMessage&) override { return std::string("1"); }
  void set_inbound(smpp::Inbound inbound) override { inbound_ = std::move(inbound); }
  void stop() override {}
  void deliver(const smpp::ShortMessage& m) { inbound_.on_message(m); }

 private:
  smpp::Inbound inbound_;
};

/// A short message no SMS-PP download ENVELOPE can carry (its user data is
/// longer than a TPDU's): the device logs it and answers nothing.
smpp::ShortMessage unfit() {
  smpp::ShortMessage m;
  m.source = smpp::Address{"4912345", 1, 1};
  m.destination = smpp::Address{"4915550001", 1, 1};
  m.protocol_id = smpp::kPidSimDataDownload;
  m.data_coding = smpp::kDcs8BitClass2;
  m.udhi = true;
  m.user_data = Bytes(400, 0x5A);
  return m;
}

class DeviceSms : public euicc_m2m::test::M2mTest {
 protected:
  /// Each log line with the thread that wrote it; blocks while `hold_` is set.
  M2mDeviceOptions options() {
    M2mDeviceOptions o;
    o.log = [this](const std::string& line) {
      std::unique_lock lock(mu_);
      lines_.emplace_back(line, std::this_thread::get_id());
      cv_.notify_all();
      cv_.wait(lock, [this] { return !hold_; });
    };
    return o;
  }
  std::size_t lines() {
    std::lock_guard lock(mu_);
    return lines_.size();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  std::vector<std::pair<std::string, std::thread::id>> lines_;
};

TEST_F(DeviceSms, AMessageIsHandledOnTheDevicesThreadNotTheTransports) {
  HandTransport transport;
  M2mDevice device(card_->isd_r(), options());
  device.attach(transport);
  transport.deliver(unfit());
  ASSERT_TRUE(device.wait_idle(5s));  // counts the queued message too
  ASSERT_EQ(device.outcomes().size(), 1u);
  EXPECT_EQ(device.outcomes().front().envelope_response.sw, 0x6A80);
  std::lock_guard lock(mu_);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_.front().first.find("fits no ENVELOPE"), std::string::npos);
  EXPECT_NE(lines_.front().second, std::this_thread::get_id());
  EXPECT_EQ(device.sms_dropped(), 0u);
}

TEST_F(DeviceSms, MessagesPastTheQueuesBoundAreDroppedAndCounted) {
  HandTransport transport;
  M2mDevice device(card_->isd_r(), options());
  device.attach(transport);
  {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  transport.deliver(unfit());
  {
    // The device's thread holds the first message (in the log): the rest wait.
    std::unique_lock lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, 5s, [this] { return !lines_.empty(); }));
  }
  for (std::size_t i = 0; i < M2mDevice::kSmsQueued + 3; ++i) transport.deliver(unfit());
  EXPECT_EQ(device.sms_dropped(), 3u);
  EXPECT_FALSE(device.wait_idle(0ms));
  {
    std::lock_guard lock(mu_);
    hold_ = false;
  }
  cv_.notify_all();
  ASSERT_TRUE(device.wait_idle(10s));
  EXPECT_EQ(lines(), 1 + M2mDevice::kSmsQueued);
  EXPECT_EQ(device.sms_dropped(), 3u);
}

}  // namespace
}  // namespace rsp::m2m_device
