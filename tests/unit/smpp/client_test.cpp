// The SMPP client against the test SMSC (tests/support/test_smsc.hpp), over
// real TCP on 127.0.0.1.
#include "rsp/smpp/client.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "rsp/smpp/pdu.hpp"
#include "sms_inbox.hpp"
#include "test_support/test_smsc.hpp"

using namespace rsp;
using namespace rsp::smpp;
using namespace std::chrono_literals;
using namespace rsp::smpp::sms_test;
using rsp::test_support::TestSmsc;

namespace {

class SmppClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(smsc.start()); }

  SmppClientConfig config(const std::string& id, const std::string& pw, Address addr) {
    SmppClientConfig c;
    c.port = static_cast<std::uint16_t>(smsc.port());
    c.system_id = id;
    c.password = pw;
    c.system_type = "OTA";
    c.address = std::move(addr);
    c.response_timeout = 2s;
    c.outage_wait = 5s;
    c.reconnect_min = 20ms;
    c.reconnect_max = 200ms;
    c.log = [this](std::string_view line) {
      std::lock_guard lock(log_mu);
      logs.emplace_back(line);
    };
    return c;
  }
  std::unique_ptr<SmppClient> client(const std::string& id, const std::string& pw, Address addr, Inbound in = {}) {
    auto c = SmppClient::connect(config(id, pw, std::move(addr)), std::move(in));
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return c ? std::move(*c) : nullptr;
  }

  std::string log_text() {
    std::lock_guard lock(log_mu);
    std::string all;
    for (const auto& l : logs) all += l + "\n";
    return all;
  }

  TestSmsc smsc{{{"smsr", "srpass"}, {"device", "devpass"}}};
  std::mutex log_mu;
  std::vector<std::string> logs;
};

}  // namespace

TEST_F(SmppClientTest, SubmitReachesTheOtherEsmeAndTheReceiptComesBack) {
  Inbox sin, din;
  auto server = client("smsr", "srpass", kServer, sin.handlers());
  auto device = client("device", "devpass", kDevice, din.handlers());
  ASSERT_TRUE(server && device);
  const auto id = server->submit(mt(1, 1));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_FALSE(id->empty());
  ASSERT_TRUE(din.wait(1));
  // The binary user data, UDHI, PID and DCS arrive as sent.
  auto expected = mt(1, 1);
  expected.registered_delivery = 0;
  EXPECT_EQ(din.messages[0], expected);
  ASSERT_TRUE(sin.wait(0, 1));
  EXPECT_EQ(sin.receipts[0].message_id, *id);
  EXPECT_EQ(sin.receipts[0].state, DeliveryState::Delivered);
  EXPECT_EQ(sin.receipts[0].recipient, kDevice);
  // The device answers with an MO from its handler thread; no deadlock.
  device->set_inbound({[&](const ShortMessage& m) {
                         ShortMessage por = m;
                         std::swap(por.source, por.destination);
                         por.registered_delivery = 0;
                         EXPECT_TRUE(device->submit(por));
                       },
                       {}});
  ASSERT_TRUE(server->submit(mt(2)));
  ASSERT_TRUE(sin.wait(1, 1));
  EXPECT_EQ(sin.messages[0].destination, kServer);
  EXPECT_EQ(sin.messages[0].user_data.back(), 2);
  // Nothing secret in the logs.
  std::lock_guard lock(log_mu);
  for (const auto& l : logs) EXPECT_EQ(l.find("srpass"), std::string::npos) << l;
}

TEST_F(SmppClientTest, ManySubmissionsShareTheWindow) {
  Inbox din;
  auto server = client("smsr", "srpass", kServer);
  auto device = client("device", "devpass", kDevice, din.handlers());
  ASSERT_TRUE(server && device);
  std::vector<std::future<SmsResult<std::string>>> results;
  for (std::uint8_t i = 0; i < 40; ++i)
    results.push_back(std::async(std::launch::async, [&, i] { return server->submit(mt(i)); }));
  std::set<std::string> ids;
  for (auto& f : results) {
    auto r = f.get();
    ASSERT_TRUE(r) << r.error().message;
    ids.insert(*r);
  }
  EXPECT_EQ(ids.size(), 40u);
  ASSERT_TRUE(din.wait(40));
}

TEST_F(SmppClientTest, AWrongPasswordFailsTheBindWithItsStatus) {
  auto c = SmppClient::connect(config("smsr", "nope", kServer));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, SmsError::Kind::BindFailed);
  EXPECT_EQ(c.error().smpp_status, status::kInvalidPassword);
  EXPECT_EQ(c.error().message.find("nope"), std::string::npos);
  auto u = SmppClient::connect(config("stranger", "x", kServer));
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().smpp_status, status::kInvalidSystemId);
  // A password longer than SMPP allows is refused before anything is sent.
  auto l = SmppClient::connect(config("smsr", "123456789", kServer));
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().kind, SmsError::Kind::InvalidArgument);
}

TEST_F(SmppClientTest, NoSmscMeansUnavailable) {
  auto cfg = config("smsr", "srpass", kServer);
  smsc.stop();
  auto c = SmppClient::connect(cfg);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, SmsError::Kind::Unavailable);
}

TEST_F(SmppClientTest, AnSmscRestartIsRiddenOut) {
  Inbox din;
  auto server = client("smsr", "srpass", kServer);
  auto device = client("device", "devpass", kDevice, din.handlers());
  ASSERT_TRUE(server && device);
  ASSERT_TRUE(server->submit(mt(1)));
  ASSERT_TRUE(din.wait(1));
  smsc.stop();
  // A submission made during the outage waits for the rebind and then goes through.
  auto pending = std::async(std::launch::async, [&] { return server->submit(mt(2)); });
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(server->bound());
  ASSERT_TRUE(smsc.start());
  const auto r = pending.get();
  ASSERT_TRUE(r) << r.error().message << "\n" << log_text();
  // Delivery is at least once: the SMSC may deliver the first message again if
  // its acknowledgement was lost in the restart.
  ASSERT_TRUE(din.wait_for_tag(2)) << log_text();
  EXPECT_GE(server->rebinds(), 1u);
  EXPECT_GE(device->rebinds(), 1u);
}

TEST_F(SmppClientTest, MessagesHeldForAnAbsentEsmeArriveWhenItBinds) {
  // The test SMSC sends held deliver_sm right after the bind response, often
  // in the same TCP segment: the client must not leave them in its buffer.
  for (int round = 0; round < 5; ++round) {
    Inbox din;
    auto server = client("smsr", "srpass", kServer);
    ASSERT_TRUE(server);
    ASSERT_TRUE(server->submit(mt(static_cast<std::uint8_t>(round))));
    auto device = client("device", "devpass", kDevice, din.handlers());
    ASSERT_TRUE(device);
    ASSERT_TRUE(din.wait_for_tag(static_cast<std::uint8_t>(round), 3s)) << "round " << round;
  }
}

TEST_F(SmppClientTest, AnOutageLongerThanTheBoundFailsTheSubmission) {
  auto cfg = config("smsr", "srpass", kServer);
  cfg.outage_wait = 300ms;
  auto server = SmppClient::connect(cfg);
  ASSERT_TRUE(server);
  smsc.stop();
  const auto r = (*server)->submit(mt(1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, SmsError::Kind::Unavailable);
}

TEST_F(SmppClientTest, AnUnansweredSubmitTimesOut) {
  auto cfg = config("smsr", "srpass", kServer);
  cfg.response_timeout = 300ms;
  auto server = SmppClient::connect(cfg);
  ASSERT_TRUE(server);
  smsc.set_mute(true);
  const auto r = (*server)->submit(mt(1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, SmsError::Kind::Timeout);
}

TEST_F(SmppClientTest, AMalformedPduDropsTheConnectionAndTheClientRebinds) {
  Inbox din;
  auto server = client("smsr", "srpass", kServer);
  auto device = client("device", "devpass", kDevice, din.handlers());
  ASSERT_TRUE(server && device);
  // A deliver_sm whose sm_length runs past its end; then framing garbage.
  smsc.send_raw(*from_hex("00000021000000050000000000000001" "00" "0101" "00" "0101" "00" "000000" "00" "00" "00000000" "FF"));
  for (int i = 0; i < 100 && (device->rebinds() < 1 || server->rebinds() < 1); ++i) std::this_thread::sleep_for(20ms);
  EXPECT_GE(device->rebinds(), 1u);
  smsc.send_raw(*from_hex("FFFFFFFF000000050000000000000001"));
  for (int i = 0; i < 100 && device->rebinds() < 2; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_GE(device->rebinds(), 2u);
  // And all is well afterwards.
  ASSERT_TRUE(server->submit(mt(9)));
  ASSERT_TRUE(din.wait(1));
}

TEST_F(SmppClientTest, AnUnknownCommandIsNackedAndTheLinkStays) {
  auto device = client("device", "devpass", kDevice);
  ASSERT_TRUE(device);
  smsc.send_raw(*from_hex("00000010000000FF0000000000000005"));
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(device->bound());
  EXPECT_EQ(device->rebinds(), 0u);
}

TEST_F(SmppClientTest, EnquireLinkKeepsAQuietLinkBound) {
  auto cfg = config("device", "devpass", kDevice);
  cfg.enquire_link_interval = 100ms;
  cfg.response_timeout = 500ms;
  auto device = SmppClient::connect(cfg);
  ASSERT_TRUE(device);
  std::this_thread::sleep_for(700ms);
  EXPECT_TRUE((*device)->bound());
  EXPECT_EQ((*device)->rebinds(), 0u);
  // An SMSC that stops answering enquire_link is given up on: the client rebinds.
  smsc.set_mute(true);
  for (int i = 0; i < 100 && (*device)->rebinds() < 1; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_GE((*device)->rebinds(), 1u);
  // So is a dropped connection.
  smsc.set_mute(false);
  const auto before = (*device)->rebinds();
  smsc.drop_connections();
  for (int i = 0; i < 100 && (*device)->rebinds() <= before; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_GT((*device)->rebinds(), before);
}

TEST_F(SmppClientTest, TheWindowBoundsOutstandingRequests) {
  auto cfg = config("smsr", "srpass", kServer);
  cfg.window = 2;
  cfg.response_timeout = 600ms;
  cfg.outage_wait = 300ms;
  auto server = SmppClient::connect(cfg);
  ASSERT_TRUE(server);
  smsc.set_mute(true);
  std::vector<std::future<SmsResult<std::string>>> results;
  for (std::uint8_t i = 0; i < 5; ++i)
    results.push_back(std::async(std::launch::async, [&, i] { return (*server)->submit(mt(i)); }));
  std::map<SmsError::Kind, int> kinds;
  for (auto& f : results) {
    const auto r = f.get();
    ASSERT_FALSE(r);
    ++kinds[r.error().kind];
  }
  // Two were sent and never answered; three never got a window slot.
  EXPECT_EQ(kinds[SmsError::Kind::Timeout], 2);
  EXPECT_EQ(kinds[SmsError::Kind::Unavailable], 3);
  EXPECT_EQ(smsc.received_submits(), 2u);
}

TEST_F(SmppClientTest, AReceiptWithOnlyOptionalParametersIsRead) {
  Inbox sin;
  auto server = client("smsr", "srpass", kServer, sin.handlers());
  ASSERT_TRUE(server);
  // deliver_sm, esm_class 04, short message "x" (no Appendix B text),
  // receipted_message_id "M7", message_state 5 (UNDELIVERABLE).
  smsc.send_raw(*from_hex("00000046000000050000000000000001" "00" "0101" "34393137303030303030303200" "0101"
                          "34393137303030303030303100" "040000" "00" "00" "00000000" "01" "78"
                          "001E00034D3700" "0427000105"));
  ASSERT_TRUE(sin.wait(0, 1));
  EXPECT_EQ(sin.receipts[0].message_id, "M7");
  EXPECT_EQ(sin.receipts[0].state, DeliveryState::Undeliverable);
  EXPECT_EQ(sin.receipts[0].recipient, kDevice);
}

TEST_F(SmppClientTest, AReceiverDoesNotSubmitAndStopEndsSubmissions) {
  auto cfg = config("device", "devpass", kDevice);
  cfg.mode = BindMode::Receiver;
  auto rx = SmppClient::connect(cfg);
  ASSERT_TRUE(rx);
  EXPECT_EQ((*rx)->submit(mt(1)).error().kind, SmsError::Kind::InvalidArgument);
  auto tx = client("smsr", "srpass", kServer);
  ASSERT_TRUE(tx);
  auto bad = mt(1);
  bad.user_data.assign(141, 1);
  EXPECT_EQ(tx->submit(bad).error().kind, SmsError::Kind::InvalidArgument);
  tx->stop();
  EXPECT_EQ(tx->submit(mt(1)).error().kind, SmsError::Kind::Stopped);
  EXPECT_FALSE(tx->bound());
}
