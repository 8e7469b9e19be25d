// The HTTPS half of ES5 over real PSK-TLS: wake-up SMS → the device's session
// → the profile enabled on the card, the R-APDUs in completed(), the
// notification delivered and confirmed; and what goes wrong: unknown PSK
// identity, malformed response scripts, a device that never connects or
// stops mid-session, a second session for the same eUICC.

#include <gtest/gtest.h>
#include <pthread.h>

#include <cctype>
#include <set>
#include <chrono>
#include <thread>

#include "es5_fixture.hpp"
#include "rsp/net/client.hpp"
#include "rsp/ota/admin_http.hpp"
#include "rsp/common/file_stats.hpp"
#include "rsp/euicc_m2m/ram_script.hpp"
#include "rsp/m2m/isdr_commands.hpp"
#include "rsp/ota/ram.hpp"

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
  /// A wake-up, the trigger's session enabling the second profile, the
  /// card's own session with its notification, confirmed: all checked.
  void enable_by_wake_up() {
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
};

TEST_F(AdminSession, WakeUpEnablesTheProfileAndTheNotificationIsConfirmed) { enable_by_wake_up(); }

/// The card's first POST carrying its pending notifications, as the device sends it.
std::string notification_body(euicc_m2m::M2mIsdR& isd_r) {
  ota::ResponseScript script;
  for (const auto& n : isd_r.pending_notifications())
    script.r_apdus.push_back(apdu::Response{m2m::encode_notification(n), 0x9000});
  script.executed = static_cast<std::uint8_t>(script.r_apdus.size());
  const Bytes b = ota::encode(script).value();
  return std::string(b.begin(), b.end());
}

// A card with a notification and an operation queued for it: one exchange
// carries the operation's commands and then the confirmation, the card saves
// the script's two changes in one write, and the operation's answer holds
// its own R-APDU alone.
TEST_F(AdminSession, TheConfirmationsRideAtTheEndOfTheQueuedScript) {
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), 0x9000);  // a notification waits
  const auto first_note = card_->isd_r().pending_notifications();
  ASSERT_EQ(first_note.size(), 1u);
  scripts_.queue(eid(), Script{"op2", {m2m::build_apdu(m2m::EnableProfile{boot_}).value()}, {}});
  auto c = client();
  ASSERT_TRUE(c);
  auto first = c->request("POST", server_->path(), notification_body(card_->isd_r()),
                          std::string(ota::kContentTypeScriptResponse), admin_headers());
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_EQ(first->status, 200);
  auto script = ota::decode_command_script(Bytes(first->body.begin(), first->body.end()));
  ASSERT_TRUE(script);
  ASSERT_EQ(script->items.size(), 2u);
  EXPECT_EQ(script->items[0].value, m2m::build_apdu(m2m::EnableProfile{boot_}).value());
  EXPECT_EQ(script->items[1].value, m2m::build_apdu(m2m::ConfirmNotification{first_note[0].seq_number}).value());
  ASSERT_EQ(sink_.received().size(), 1u);

  const auto flushes = file_flushes();
  const auto answer = euicc_m2m::run_script(card_->isd_r(), *script);
  EXPECT_EQ(file_flushes() - flushes, 1u);  // the enable and the confirmation in one save
  ASSERT_EQ(answer.r_apdus.size(), 2u);
  const Bytes body = ota::encode(answer).value();
  auto next = first->header("X-Admin-Next-URI");
  ASSERT_TRUE(next);
  auto second = c->request("POST", *next, std::string(body.begin(), body.end()),
                           std::string(ota::kContentTypeScriptResponse), admin_headers(ota::ScriptStatus::Ok));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->status, 204);  // nothing else queued: the session is over

  auto done = scripts_.done();
  ASSERT_EQ(done.count("op2"), 1u);
  ASSERT_TRUE(done.at("op2"));
  ASSERT_EQ(done.at("op2")->size(), 1u);
  EXPECT_EQ(done.at("op2")->at(0).sw, 0x9000);
  EXPECT_EQ(isdp(boot_).state, m2m::IsdpState::kEnabled);
  // The first notification is confirmed; the enable's own waits for a session.
  const auto left = card_->isd_r().pending_notifications();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_NE(left[0].seq_number, first_note[0].seq_number);
  reopen();  // and all of it is on disk
  EXPECT_EQ(isdp(boot_).state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(card_->isd_r().pending_notifications().size(), 1u);
}

// The operation's command refused: the card stops before the confirmation,
// so the notification stays with the card for a later session.
TEST_F(AdminSession, ARefusedCommandLeavesTheNotificationPending) {
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), 0x9000);
  scripts_.queue(eid(), Script{"op3", {m2m::build_apdu(m2m::EnableProfile{second_}).value()}, {}});  // enabled already
  auto c = client();
  ASSERT_TRUE(c);
  auto first = c->request("POST", server_->path(), notification_body(card_->isd_r()),
                          std::string(ota::kContentTypeScriptResponse), admin_headers());
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_EQ(first->status, 200);
  auto script = ota::decode_command_script(Bytes(first->body.begin(), first->body.end()));
  ASSERT_TRUE(script);
  ASSERT_EQ(script->items.size(), 2u);
  const auto answer = euicc_m2m::run_script(card_->isd_r(), *script);
  ASSERT_EQ(answer.r_apdus.size(), 1u);
  EXPECT_NE(answer.r_apdus[0].sw, 0x9000);
  const Bytes body = ota::encode(answer).value();
  auto second = c->request("POST", *first->header("X-Admin-Next-URI"), std::string(body.begin(), body.end()),
                           std::string(ota::kContentTypeScriptResponse), admin_headers(ota::ScriptStatus::Ok));
  ASSERT_TRUE(second) << second.error().message;
  auto done = scripts_.done();
  ASSERT_EQ(done.count("op3"), 1u);
  ASSERT_TRUE(done.at("op3"));
  ASSERT_EQ(done.at("op3")->size(), 1u);
  EXPECT_NE(done.at("op3")->at(0).sw, 0x9000);
  EXPECT_EQ(card_->isd_r().pending_notifications().size(), 1u);
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
  // Counted as a failed handshake, not as a connection the listener refused.
  EXPECT_TRUE(eventually([&] { return server_->handshakes_failed() == 1; }));
  EXPECT_EQ(server_->connections_refused(), 0u);
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

/// AdminSessionOptions::handler_threads = Inline: the session's POSTs are
/// handled on the listener's I/O threads ("es5-admin-io"), none on a pool,
/// and the whole session (script, answer, the card's notification and its
/// confirmation) runs as it does on the pool.
TEST_F(AdminSession, InlineHandlersRunTheWholeSessionOnTheIoThreads) {
  server_->stop();
  std::mutex mu;
  std::set<std::string> threads;
  AdminSessionOptions o;
  o.handler_threads = net::HandlerThreads::Inline;
  o.io_threads = 1;
  o.session_idle_timeout = 300ms;
  o.log = [&](const std::string&) {
    char name[32] = {};
    ::pthread_getname_np(::pthread_self(), name, sizeof name);
    std::lock_guard lock(mu);
    threads.insert(name);
  };
  const auto psk = card_->isd_r().state().scp81;
  server_ = std::make_unique<AdminSessionServer>(
      o,
      [psk, card_eid = eid()](std::string_view identity) -> std::optional<PskBinding> {
        if (identity != psk.identity) return std::nullopt;
        return PskBinding{card_eid, psk.key};
      },
      scripts_, sink_);
  ASSERT_TRUE(server_->start());
  enable_by_wake_up();
  server_->stop();  // no log line after `threads` goes
  std::lock_guard lock(mu);
  EXPECT_EQ(threads, std::set<std::string>{"es5-admin-io"});
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
