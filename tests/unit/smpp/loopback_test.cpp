#include "rsp/smpp/loopback.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include "sms_inbox.hpp"

using namespace rsp;
using namespace rsp::smpp;
using namespace std::chrono_literals;
using namespace rsp::smpp::sms_test;

TEST(SmppLoopback, DeliversInOrderWithAReceiptBack) {
  LoopbackSmsc smsc;
  auto server = smsc.attach(kServer);
  auto device = smsc.attach(kDevice);
  Inbox sin, din;
  server->set_inbound(sin.handlers());
  device->set_inbound(din.handlers());
  std::vector<std::string> ids;
  for (std::uint8_t i = 0; i < 20; ++i) {
    auto id = server->submit(mt(i, i == 19 ? 1 : 0));
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  ASSERT_TRUE(din.wait(20));
  ASSERT_TRUE(sin.wait(0, 1));
  for (std::uint8_t i = 0; i < 20; ++i) EXPECT_EQ(din.messages[i], mt(i, i == 19 ? 1 : 0));
  ASSERT_EQ(sin.receipts.size(), 1u);
  EXPECT_EQ(sin.receipts[0].message_id, ids[19]);
  EXPECT_EQ(sin.receipts[0].state, DeliveryState::Delivered);
  EXPECT_EQ(sin.receipts[0].recipient, kDevice);
}

TEST(SmppLoopback, HoldsMessagesUntilTheirOwnerAttaches) {
  LoopbackSmsc smsc;
  auto server = smsc.attach(kServer);
  ASSERT_TRUE(server->submit(mt(1)));
  ASSERT_TRUE(server->submit(mt(2)));
  ASSERT_TRUE(smsc.wait_idle(5s));
  EXPECT_EQ(smsc.pending(), 2u);
  Inbox din;
  auto device = smsc.attach(kDevice, din.handlers());
  ASSERT_TRUE(server->submit(mt(3)));
  ASSERT_TRUE(din.wait(3));
  EXPECT_EQ(din.messages[0].user_data.back(), 1);
  EXPECT_EQ(din.messages[2].user_data.back(), 3);
}

TEST(SmppLoopback, AHandlerMayAnswerAtOnce) {
  // The device answers each MT with an MO (a proof of receipt) from inside its handler.
  LoopbackSmsc smsc;
  auto server = smsc.attach(kServer);
  auto device = smsc.attach(kDevice);
  Inbox sin;
  server->set_inbound(sin.handlers());
  SmsTransport* dev = device.get();
  device->set_inbound({[dev](const ShortMessage& m) {
                         ShortMessage por = m;
                         std::swap(por.source, por.destination);
                         ASSERT_TRUE(dev->submit(por));
                       },
                       {}});
  ASSERT_TRUE(server->submit(mt(7)));
  ASSERT_TRUE(sin.wait(1));
  EXPECT_EQ(sin.messages[0].destination, kServer);
}

TEST(SmppLoopback, FaultsDropDuplicateAndDelay) {
  LoopbackSmsc smsc;
  auto server = smsc.attach(kServer);
  auto device = smsc.attach(kDevice);
  Inbox din, sin;
  device->set_inbound(din.handlers());
  server->set_inbound(sin.handlers());
  smsc.set_faults({1, 0, 0ms});
  ASSERT_TRUE(server->submit(mt(1, 1)));  // dropped: no delivery, no receipt
  smsc.set_faults({0, 1, 0ms});
  ASSERT_TRUE(server->submit(mt(2, 1)));  // duplicated: two deliveries, one receipt
  ASSERT_TRUE(din.wait(2, 0));
  ASSERT_TRUE(sin.wait(0, 1));
  ASSERT_TRUE(smsc.wait_idle(5s));
  EXPECT_EQ(din.messages.size(), 2u);
  EXPECT_EQ(din.messages[0].user_data.back(), 2);
  EXPECT_EQ(din.messages[1].user_data.back(), 2);
  EXPECT_EQ(sin.receipts.size(), 1u);
  smsc.set_faults({0, 0, 300ms});
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(server->submit(mt(3)));
  ASSERT_TRUE(din.wait(3));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);
}

TEST(SmppLoopback, ASubmissionCanBeRefused) {
  LoopbackSmsc smsc;
  auto server = smsc.attach(kServer);
  auto device = smsc.attach(kDevice);
  Inbox din;
  device->set_inbound(din.handlers());
  smsc.set_faults({.refuse_next = 1});
  auto refused = server->submit(mt(1));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, SmsError::Kind::Unavailable);
  ASSERT_TRUE(server->submit(mt(2)));  // the next one goes
  ASSERT_TRUE(din.wait(1));
  EXPECT_EQ(din.messages[0].user_data.back(), 2);
}

TEST(SmppLoopback, RefusesBadMessagesAndWorkAfterStop) {
  LoopbackSmsc smsc;
  auto server = smsc.attach(kServer);
  auto m = mt(1);
  m.user_data.assign(141, 0);
  EXPECT_EQ(server->submit(m).error().kind, SmsError::Kind::InvalidArgument);
  m = mt(1);
  m.user_data = {0x09, 0x70};  // UDH longer than the user data
  EXPECT_EQ(server->submit(m).error().kind, SmsError::Kind::InvalidArgument);
  m = mt(1);
  m.destination.digits = "49a";
  EXPECT_EQ(server->submit(m).error().kind, SmsError::Kind::InvalidArgument);
  m = mt(1);
  m.source = {"OTA Admin", 5, 0};  // alphanumeric: letters allowed
  EXPECT_TRUE(server->submit(m));
  m.source = {"OTA+Admin", 5, 0};
  EXPECT_EQ(server->submit(m).error().kind, SmsError::Kind::InvalidArgument);
  m = mt(1);
  m.destination.digits.clear();
  EXPECT_EQ(server->submit(m).error().kind, SmsError::Kind::InvalidArgument);
  m = mt(1);
  m.source.npi = 2;
  EXPECT_EQ(server->submit(m).error().kind, SmsError::Kind::InvalidArgument);
  server->stop();
  EXPECT_EQ(server->submit(mt(1)).error().kind, SmsError::Kind::Stopped);
}
