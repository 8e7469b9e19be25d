// The SMS half of ES5: the SM-SR's wake-up (SCP80 packet to the ISD-R's TAR)
// as the simulated device's card receives it: verified and acted on once,
// refused with the TS 102 225 §5.1.2 status when the checksum, counter or
// TAR is wrong, commands run with their PoR sent back by SMS.

#include <gtest/gtest.h>

#include "capture_transport.hpp"
#include "es5_fixture.hpp"
#include "rsp/ota/command_sms.hpp"
#include "rsp/ota/concat.hpp"
#include "rsp/ota/por.hpp"
#include "rsp/ota/ram.hpp"

namespace rsp::es5::test {
namespace {

namespace scp80 = crypto::scp80;

class SmsWakeUp : public Es5Test {
 protected:
  void SetUp() override {
    Es5Test::SetUp();
    if (HasFatalFailure()) return;
    sms_sender_ = std::make_unique<WakeUpSender>(
        sms_out_, [this](const std::string&, std::uint8_t) -> expected<std::uint64_t, std::string> { return ++counter_; },
        WakeUpOptions{smsr_address_, false});
    start_device();
    device_->attach(mo_);
  }
  std::uint64_t stored_counter() {
    auto store = euicc_m2m::M2mStore::open(dir_);
    EXPECT_TRUE(store);
    auto state = store->load();
    EXPECT_TRUE(state);
    return state->scp80.at(0).counter;
  }
  /// Delivers every message sent so far from index `from`; the last outcome.
  euicc_m2m::SmsPpOutcome deliver(std::size_t from = 0) {
    euicc_m2m::SmsPpOutcome last;
    auto sent = sms_out_.sent();
    for (std::size_t i = from; i < sent.size(); ++i) last = device_->on_short_message(sent[i]);
    return last;
  }

  CaptureTransport sms_out_;
  CaptureTransport mo_;
  std::unique_ptr<WakeUpSender> sms_sender_;
};

TEST_F(SmsWakeUp, TriggerIsVerifiedAndItsCounterStoredBeforeTheSessionOpens) {
  ASSERT_TRUE(sms_sender_->send_trigger(target(), trigger()));
  auto sent = sms_out_.sent();
  ASSERT_GE(sent.size(), 1u);  // with the host, URI, agent id and PSK identity it may take two
  for (const auto& m : sent) {
    EXPECT_EQ(m.destination, msisdn_);
    EXPECT_EQ(m.protocol_id, smpp::kPidSimDataDownload);
    EXPECT_EQ(m.data_coding, smpp::kDcs8BitClass2);
    EXPECT_TRUE(m.udhi);
    EXPECT_LE(m.user_data.size(), smpp::kMaxUserData);
  }
  auto outcome = deliver();
  ASSERT_TRUE(outcome.status);
  EXPECT_EQ(*outcome.status, scp80::Status::PorOk);
  ASSERT_TRUE(outcome.trigger);
  EXPECT_EQ(*outcome.trigger, trigger());
  EXPECT_EQ(stored_counter(), 1u);
}

TEST_F(SmsWakeUp, WrongChecksumDoesNothingAndThePorSaysSo) {
  auto t = target();
  t.keys.kid[0] ^= 0x01;
  t.spi.por = scp80::PorMode::Always;
  t.spi.por_via_sms_submit = true;
  ASSERT_TRUE(sms_sender_->send_trigger(t, trigger()));
  auto outcome = deliver();
  ASSERT_TRUE(outcome.status);
  EXPECT_EQ(*outcome.status, scp80::Status::IntegrityFailed);
  EXPECT_FALSE(outcome.trigger);
  EXPECT_EQ(stored_counter(), 0u);
  auto mo = mo_.sent();
  ASSERT_EQ(mo.size(), 1u);
  EXPECT_EQ(mo[0].destination, smsr_address_);
  scp80::CommandHeader h;
  h.spi = t.spi;
  h.spi.por_integrity = scp80::Integrity::None;  // a refused packet's PoR is unprotected
  h.spi.por_ciphered = false;
  h.tar = m2m::kIsdRTar;
  auto por = ota::open_por_user_data(mo[0].user_data, h, target().keys);
  ASSERT_TRUE(por) << por.error().to_string();
  EXPECT_EQ(por->params.status, scp80::Status::IntegrityFailed);
}

TEST_F(SmsWakeUp, TheDeviceKeepsTheOutcomesOfTheLastMessagesOnly) {
  auto t = target();
  t.keys.kid[0] ^= 0x01;  // refused, nothing stored: many of them cost no card write
  ASSERT_TRUE(sms_sender_->send_trigger(t, trigger()));
  const auto sent = sms_out_.sent();
  const std::size_t n = m2m_device::M2mDevice::kOutcomesKept + 6;
  for (std::size_t i = 0; i < n; ++i)
    for (const auto& m : sent) device_->on_short_message(m);
  const auto outcomes = device_->outcomes();
  ASSERT_EQ(outcomes.size(), m2m_device::M2mDevice::kOutcomesKept);
  ASSERT_TRUE(outcomes.back().status);
  EXPECT_EQ(*outcomes.back().status, scp80::Status::IntegrityFailed);
  EXPECT_EQ(stored_counter(), 0u);
}

TEST_F(SmsWakeUp, CommandsWithAWrongChecksumAreNotRun) {
  auto t = target();
  t.keys.kid[5] ^= 0x80;
  ASSERT_TRUE(sms_sender_->send_script(t, {m2m::build_apdu(m2m::EnableProfile{second_}).value()}));
  auto outcome = deliver();
  ASSERT_TRUE(outcome.status);
  EXPECT_EQ(*outcome.status, scp80::Status::IntegrityFailed);
  EXPECT_EQ(isdp(second_).state, m2m::IsdpState::kDisabled);
  EXPECT_EQ(isdp(boot_).state, m2m::IsdpState::kEnabled);
  EXPECT_TRUE(mo_.sent().empty());  // the SPI asked for no PoR
}

TEST_F(SmsWakeUp, AReplayedScriptIsNotRunTwice) {
  ASSERT_TRUE(sms_sender_->send_script(target(), {m2m::build_apdu(m2m::EnableProfile{second_}).value()}));
  const auto enable = sms_out_.sent();
  ASSERT_TRUE(deliver().status);
  ASSERT_EQ(isdp(second_).state, m2m::IsdpState::kEnabled);
  // The SM-SR enables the bootstrap profile again, then the old enable SMS is replayed.
  ASSERT_TRUE(sms_sender_->send_script(target(), {m2m::build_apdu(m2m::EnableProfile{boot_}).value()}));
  ASSERT_TRUE(deliver(enable.size()).status);
  ASSERT_EQ(isdp(boot_).state, m2m::IsdpState::kEnabled);
  euicc_m2m::SmsPpOutcome replay;
  for (const auto& m : enable) replay = device_->on_short_message(m);
  ASSERT_TRUE(replay.status);
  EXPECT_EQ(*replay.status, scp80::Status::CounterLow);
  EXPECT_EQ(isdp(boot_).state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(stored_counter(), 2u);
}

TEST_F(SmsWakeUp, ReplayedCounterIsRefused) {
  ASSERT_TRUE(sms_sender_->send_trigger(target(), trigger()));
  auto first = deliver();
  ASSERT_TRUE(first.trigger);
  auto again = deliver();
  ASSERT_TRUE(again.status);
  EXPECT_EQ(*again.status, scp80::Status::CounterLow);
  EXPECT_FALSE(again.trigger);
  EXPECT_EQ(stored_counter(), 1u);
}

TEST_F(SmsWakeUp, UnknownTarIsRefused) {
  auto t = target();
  t.tar = {0x12, 0x34, 0x56};
  ASSERT_TRUE(sms_sender_->send_trigger(t, trigger()));
  auto outcome = deliver();
  ASSERT_TRUE(outcome.status);
  EXPECT_EQ(*outcome.status, scp80::Status::TarUnknown);
  EXPECT_FALSE(outcome.trigger);
}

TEST_F(SmsWakeUp, CommandsBySmsRunAndThePorCarriesTheirResponses) {
  auto t = target();
  t.spi.por = scp80::PorMode::Always;
  t.spi.por_via_sms_submit = true;
  ASSERT_TRUE(sms_sender_->send_script(t, {m2m::build_apdu(m2m::EnableProfile{second_}).value()}));
  auto outcome = deliver();
  ASSERT_TRUE(outcome.status);
  EXPECT_EQ(*outcome.status, scp80::Status::PorOk);
  EXPECT_EQ(isdp(second_).state, m2m::IsdpState::kEnabled);
  auto mo = mo_.sent();
  ASSERT_EQ(mo.size(), 1u);
  scp80::CommandHeader h;
  h.spi = t.spi;
  h.tar = m2m::kIsdRTar;
  h.counter = 1;
  auto por = ota::open_por_user_data(mo[0].user_data, h, t.keys);
  ASSERT_TRUE(por) << por.error().to_string();
  EXPECT_EQ(por->params.status, scp80::Status::PorOk);
  auto response = ota::decode_response_script(por->data);
  ASSERT_TRUE(response) << response.error().to_string();
  ASSERT_EQ(response->r_apdus.size(), 1u);
  EXPECT_EQ(response->r_apdus[0].sw, 0x9000);
}

TEST_F(SmsWakeUp, ALongScriptTravelsInConcatenatedMessages) {
  std::vector<Bytes> apdus(12, m2m::build_apdu(m2m::AuditIsdps{}).value());
  ASSERT_TRUE(sms_sender_->send_script(target(), apdus));
  auto sent = sms_out_.sent();
  ASSERT_GT(sent.size(), 1u);
  for (std::size_t i = 0; i + 1 < sent.size(); ++i) EXPECT_TRUE(device_->on_short_message(sent[i]).incomplete);
  auto last = device_->on_short_message(sent.back());
  ASSERT_TRUE(last.status);
  EXPECT_EQ(*last.status, scp80::Status::PorOk);
  EXPECT_EQ(stored_counter(), 1u);
}

/// kill -9 of the SM-SR while it sends a wake-up of two SMS: the card keeps
/// the part that reached it (the first SMS, or the second when the first was
/// lost). The restarted SM-SR's wake-up, with the next counter, must not be
/// joined with that part: its SMS carry another concatenation reference
/// (3GPP TS 23.040 §9.2.3.24.1) and the card opens it. A sender restarting
/// its references at 0 got the card's integrity refusal instead, and the
/// operation waited for a session that never came.
TEST_F(SmsWakeUp, AWakeUpAfterARestartIsNotJoinedWithPartOfTheOneCutOff) {
  const auto counters = [this](const std::string&, std::uint8_t) -> expected<std::uint64_t, std::string> {
    return ++counter_;
  };
  for (const std::size_t kept : {std::size_t{0}, std::size_t{1}}) {
    CaptureTransport cut_off, resumed;
    WakeUpSender first(cut_off, counters, WakeUpOptions{smsr_address_, false});
    ASSERT_TRUE(first.send_trigger(target(), trigger()));
    ASSERT_EQ(cut_off.sent().size(), 2u);
    EXPECT_TRUE(device_->on_short_message(cut_off.sent()[kept]).incomplete);
    WakeUpSender restarted(resumed, counters, WakeUpOptions{smsr_address_, false});
    ASSERT_TRUE(restarted.send_trigger(target(), trigger()));
    euicc_m2m::SmsPpOutcome last;
    for (const auto& m : resumed.sent()) last = device_->on_short_message(m);
    ASSERT_TRUE(last.status) << "kept part " << kept;
    EXPECT_EQ(*last.status, scp80::Status::PorOk) << "kept part " << kept;
    EXPECT_TRUE(last.trigger) << "kept part " << kept;
    EXPECT_EQ(stored_counter(), counter_);
  }
}

/// The card's reassembly on a hand-moved clock (120 s timeout, the default).
class SmsReassembly : public SmsWakeUp {
 protected:
  SmsReassembly() {
    reassembly_.now = [this] { return now_; };
  }
  /// A wake-up of two SMS from `source` under `counter` (its low octet the
  /// concatenation reference).
  std::vector<smpp::ShortMessage> wake_up(const smpp::Address& source, std::uint64_t counter) {
    CaptureTransport out;
    WakeUpSender sender(
        out, [counter](const std::string&, std::uint8_t) -> expected<std::uint64_t, std::string> { return counter; },
        WakeUpOptions{source, false});
    EXPECT_TRUE(sender.send_trigger(target(), trigger()));
    EXPECT_EQ(out.sent().size(), 2u);
    return out.sent();
  }
  std::chrono::seconds now_{5000};
};

TEST_F(SmsReassembly, TheCardDropsAStalePartThenAcceptsAFreshMessageWithItsReference) {
  const auto lost = wake_up(smsr_address_, 1);
  EXPECT_TRUE(device_->on_short_message(lost[0]).incomplete);  // the second SMS was lost
  now_ += std::chrono::seconds(120);
  const auto fresh = wake_up(smsr_address_, 257);  // the same reference, 0x01
  EXPECT_TRUE(device_->on_short_message(fresh[0]).incomplete);
  auto last = device_->on_short_message(fresh[1]);
  ASSERT_TRUE(last.status);
  EXPECT_EQ(*last.status, scp80::Status::PorOk);
  EXPECT_TRUE(last.trigger);
  EXPECT_EQ(stored_counter(), 257u);
}

TEST_F(SmsReassembly, PartsOfTwoOriginatorsWithOneReferenceAreKeptApart) {
  const smpp::Address other{"4900", 1, 1};
  const auto theirs = wake_up(other, 257);
  const auto ours = wake_up(smsr_address_, 1);  // the same reference, 0x01
  EXPECT_TRUE(device_->on_short_message(theirs[0]).incomplete);
  EXPECT_TRUE(device_->on_short_message(ours[0]).incomplete);
  auto last = device_->on_short_message(ours[1]);
  ASSERT_TRUE(last.status);
  EXPECT_EQ(*last.status, scp80::Status::PorOk);
  EXPECT_TRUE(last.trigger);
  last = device_->on_short_message(theirs[1]);
  ASSERT_TRUE(last.status);
  EXPECT_EQ(*last.status, scp80::Status::PorOk);
  EXPECT_EQ(stored_counter(), 257u);
}

TEST_F(SmsWakeUp, NoCounterNoMessage) {
  WakeUpSender failing(sms_out_,
                       [](const std::string&, std::uint8_t) -> expected<std::uint64_t, std::string> {
                         return unexpected(std::string("database down"));
                       });
  auto r = failing.send_trigger(target(), trigger());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Es5ErrorCode::Counter);
  EXPECT_TRUE(sms_out_.sent().empty());
  EXPECT_EQ(r.error().message.find(to_hex(target().keys.kic)), std::string::npos);
}


/// A 3DES key set (TS 102 225 §5.1.2 / §5.1.3): KIc and KID say triple DES
/// outer-CBC with two or three keys by the key length, and the packet opens
/// with those keys; AES-coded identifiers would not.
TEST_F(SmsWakeUp, ATripleDesKeySetIsCodedAndSecuredAsTripleDes) {
  for (const std::size_t key_length : {std::size_t{16}, std::size_t{24}}) {
    CaptureTransport out;
    WakeUpSender sender(out, [](const std::string&, std::uint8_t) -> expected<std::uint64_t, std::string> { return 9; },
                        WakeUpOptions{smsr_address_, false});
    auto t = target();
    t.key_version = 3;
    t.triple_des = true;
    t.keys = scp80::Keys(Bytes(key_length, 0x5A), Bytes(key_length, 0xA5));
    ASSERT_TRUE(sender.send_trigger(t, trigger()));
    ota::Reassembler reassembler;
    std::optional<ota::Reassembled> packet;
    for (const auto& m : out.sent()) {
      auto added = reassembler.add(m.user_data);
      ASSERT_TRUE(added) << added.error().to_string();
      if (*added) packet = std::move(**added);
    }
    ASSERT_TRUE(packet);
    const auto mode = key_length == 24 ? scp80::DesMode::TripleDes3Key : scp80::DesMode::TripleDes2Key;
    std::uint8_t seen_kic = 0, seen_kid = 0;
    auto opened = ota::open_command(
        *packet,
        [&](const scp80::Tar&, const scp80::Spi&, std::uint8_t kic,
            std::uint8_t kid) -> expected<scp80::Keys, scp80::Status> {
          seen_kic = kic;
          seen_kid = kid;
          return t.keys;
        },
        0);
    ASSERT_TRUE(opened) << opened.error().to_string();
    EXPECT_EQ(seen_kic, scp80::des_key_identifier(mode, 3)) << key_length;
    EXPECT_EQ(seen_kid, scp80::des_key_identifier(mode, 3)) << key_length;
    EXPECT_EQ(opened->header.counter, 9u);
    // The simulated card holds AES keys only: it refuses the packet, nothing runs.
    euicc_m2m::SmsPpOutcome last;
    for (const auto& m : out.sent()) last = device_->on_short_message(m);
    ASSERT_TRUE(last.status);
    EXPECT_NE(*last.status, scp80::Status::PorOk);
    EXPECT_FALSE(last.trigger);
  }
}

}  // namespace
}  // namespace rsp::es5::test
