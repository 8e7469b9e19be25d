// The HTTPS half of ES5 over real PSK-TLS: wake-up SMS → the device's session
// → the profile enabled on the card, the R-APDUs in completed(), the
// notification delivered and confirmed; and what goes wrong: unknown PSK
// identity, malformed response scripts, a device that never connects or
// stops mid-session, a second session for the same eUICC.

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <thread>

#include "es5_fixture.hpp"
#include "rsp/net/client.hpp"
#include "rsp/ota/admin_http.hpp"

namespace rsp::es5::test {
namespace {

using namespace std::chrono_literals;

template <class F>
bool eventually(F f, std::chrono::milliseconds timeout = 10s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return f();
}

net::Headers admin_headers(std::optional<ota::ScriptStatus> status = std::nullopt) {
  net::Headers h{{"X-Admin-Protocol", std::string(ota::kAdminProtocol)}, {"X-Admin-From", "//se-id/eid/test"}};
  if (status) h.emplace_back("X-Admin-Script-Status", std::string(ota::to_string(*status)));
  return h;
}

class AdminSession : public Es5Test {
 protected:
  Script enable_second() { return Script{"op1", {m2m::build_apdu(m2m::EnableProfile{second_}).value()}, {}}; }
  /// The first POST of a session, without body.
  net::NetResult<net::HttpResponse> open(net::HttpsClient& c) {
    return c.request("POST", server_->path(), {}, {}, admin_headers());
  }
};

TEST_F(AdminSession, WakeUpEnablesTheProfileAndTheNotificationIsConfirmed) {
  start_device();
  scripts_.queue(eid(), enable_second());
  ASSERT_TRUE(sender_->send_trigger(target(), trigger()));
  // The trigger's session, then the device's own session for the notification.
  ASSERT_TRUE(eventually([&] { return device_->sessions_completed() >= 2; }));
  ASSERT_TRUE(device_->wait_idle(5s));
  EXPECT_EQ(device_->sessions_failed(), 0u);

  auto done = scripts_.done();
  ASSERT_EQ(done.count("op1"), 1u);
  ASSERT_TRUE(done.at("op1")) << done.at("op1").error().to_string();
  ASSERT_EQ(done.at("op1")->size(), 1u);
  EXPECT_EQ(done.at("op1")->at(0).sw, 0x9000);
  EXPECT_EQ(scripts_.pending(eid()), 0u);
  EXPECT_EQ(isdp(second_).state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(isdp(boot_).state, m2m::IsdpState::kDisabled);

  auto notes = sink_.received();
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].isdp_aid, second_);
  EXPECT_EQ(notes[0].eid, card_->isd_r().eid());
  EXPECT_TRUE(card_->isd_r().pending_notifications().empty());
  EXPECT_EQ(server_->active_sessions(), 0u);
}

TEST_F(AdminSession, UnknownPskIdentityFailsTheHandshakeAndTheLogHasNoKey) {
  const Bytes key = card_->isd_r().state().scp81.key;
  auto c = client("not-a-card", key);
  ASSERT_TRUE(c);
  auto r = open(*c);
  EXPECT_FALSE(r);
  ASSERT_TRUE(eventually([&] {
    for (const auto& l : log_lines())
      if (l.find("handshake") != std::string::npos) return true;
    return false;
  }));
  for (const auto& l : log_lines()) {
    EXPECT_EQ(l.find(to_hex(key)), std::string::npos) << l;
    std::string upper = to_hex(key);
    for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    EXPECT_EQ(l.find(upper), std::string::npos) << l;
  }
  EXPECT_EQ(scripts_.handed_out(), 0u);
}

TEST_F(AdminSession, MalformedResponseScriptEndsTheSessionWithATypedError) {
  scripts_.queue(eid(), enable_second());
  auto c = client();
  ASSERT_TRUE(c);
  auto first = open(*c);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_EQ(first->status, 200);
  EXPECT_EQ(first->header("Content-Type").value_or(""), std::string(ota::kContentTypeScript));
  auto next = first->header("X-Admin-Next-URI");
  ASSERT_TRUE(next);
  auto second = c->request("POST", *next, std::string("\xAB\x05\x23\x01", 4),
                           std::string(ota::kContentTypeScriptResponse), admin_headers(ota::ScriptStatus::Ok));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->status, 204);
  EXPECT_FALSE(second->header("X-Admin-Next-URI"));
  auto done = scripts_.done();
  ASSERT_EQ(done.count("op1"), 1u);
  ASSERT_FALSE(done.at("op1"));
  EXPECT_EQ(done.at("op1").error().code, Es5ErrorCode::Malformed);
  EXPECT_EQ(server_->active_sessions(), 0u);
  EXPECT_EQ(isdp(second_).state, m2m::IsdpState::kDisabled);
}

TEST_F(AdminSession, AScriptStatusOtherThanOkIsReported) {
  scripts_.queue(eid(), enable_second());
  auto c = client();
  ASSERT_TRUE(c);
  auto first = open(*c);
  ASSERT_TRUE(first && first->status == 200);
  auto second = c->request("POST", server_->next_path(), {}, {}, admin_headers(ota::ScriptStatus::SecurityError));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->status, 204);
  auto done = scripts_.done();
  ASSERT_EQ(done.count("op1"), 1u);
  ASSERT_FALSE(done.at("op1"));
  EXPECT_EQ(done.at("op1").error().code, Es5ErrorCode::ScriptStatus);
}

TEST_F(AdminSession, ADeviceThatNeverConnectsLeavesTheScriptPending) {
  scripts_.queue(eid(), enable_second());
  ASSERT_TRUE(sender_->send_trigger(target(), trigger()));  // nobody attached at the MSISDN
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(scripts_.pending(eid()), 1u);
  EXPECT_TRUE(scripts_.done().empty());
  EXPECT_GE(smsc_->pending(), 1u);  // held by the SMSC
}

TEST_F(AdminSession, ASecondSessionIsRefusedAndAStoppedCardsScriptStaysPending) {
  scripts_.queue(eid(), enable_second());
  auto a = client();
  auto b = client();
  ASSERT_TRUE(a && b);
  auto first = open(*a);
  ASSERT_TRUE(first && first->status == 200);
  auto refused = open(*b);
  ASSERT_TRUE(refused) << refused.error().message;
  EXPECT_EQ(refused->status, 409);
  EXPECT_EQ(server_->active_sessions(), 1u);
  // The first card stops answering: past the idle timeout a new session gets the same script.
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(server_->active_sessions(), 0u);
  auto again = open(*b);
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_EQ(again->status, 200);
  EXPECT_EQ(again->body, first->body);
  EXPECT_EQ(scripts_.pending(eid()), 1u);
  EXPECT_TRUE(scripts_.done().empty());
}

TEST_F(AdminSession, AContinuationWithoutSessionIsRefused) {
  auto c = client();
  ASSERT_TRUE(c);
  auto r = c->request("POST", server_->next_path(), {}, {}, admin_headers(ota::ScriptStatus::Ok));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 409);
}

TEST_F(AdminSession, NothingQueuedAnswersNoContent) {
  auto c = client();
  ASSERT_TRUE(c);
  auto r = open(*c);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(server_->active_sessions(), 0u);
}

}  // namespace
}  // namespace rsp::es5::test
