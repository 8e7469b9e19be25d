#pragma once
// What the SMS transport tests share: two addresses, an MT message shaped like
// an SMS wake-up (PID 7F, DCS F6, UDHI with the command-packet IEI 70), and an
// inbox that collects what an endpoint receives.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "rsp/smpp/sms_transport.hpp"

namespace rsp::smpp::sms_test {

inline const Address kServer{"491700000001"};
inline const Address kDevice{"491700000002"};

inline ShortMessage mt(std::uint8_t tag, std::uint8_t registered_delivery = 0) {
  ShortMessage m;
  m.source = kServer;
  m.destination = kDevice;
  m.protocol_id = kPidSimDataDownload;
  m.data_coding = kDcs8BitClass2;
  m.udhi = true;
  m.registered_delivery = registered_delivery;
  m.user_data = {0x02, 0x70, 0x00, 0x0A, 0x0B, tag};
  return m;
}

struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ShortMessage> messages;
  std::vector<DeliveryReceipt> receipts;
  Inbound handlers() {
    return {[this](const ShortMessage& m) {
              std::lock_guard lock(mu);
              messages.push_back(m);
              cv.notify_all();
            },
            [this](const DeliveryReceipt& r) {
              std::lock_guard lock(mu);
              receipts.push_back(r);
              cv.notify_all();
            }};
  }
  /// Waits for a message whose last user-data octet is `tag` (see mt()).
  bool wait_for_tag(std::uint8_t tag, std::chrono::milliseconds t = std::chrono::seconds(10)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, t, [&] {
      for (const auto& m : messages)
        if (!m.user_data.empty() && m.user_data.back() == tag) return true;
      return false;
    });
  }
  bool wait(std::size_t messages_n, std::size_t receipts_n = 0,
            std::chrono::milliseconds t = std::chrono::seconds(10)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, t, [&] { return messages.size() >= messages_n && receipts.size() >= receipts_n; });
  }
};

}  // namespace rsp::smpp::sms_test
