// A notification confirmation's removal is not written on its own: it rides
// on the card's next save. A crash before that save (the folder as a kill
// leaves it) brings the confirmed notification back, and nothing else; every
// other change is on disk before its answer, a confirmation that comes with
// one in a script included.

#include <filesystem>

#include "m2m_fixture.hpp"
#include "rsp/apdu/status_words.hpp"
#include "rsp/common/file_stats.hpp"
#include "rsp/euicc_m2m/ram_script.hpp"

namespace rsp::euicc_m2m::test {
namespace {

namespace fs = std::filesystem;
using m2m::IsdpState;

class ConfirmationSaveTest : public M2mTest {
 protected:
  /// The card as a kill at this moment leaves it: its folder copied (the
  /// slots are written in place and flushed, so the copy is what is on disk)
  /// and opened as the restarted card would open it.
  std::unique_ptr<M2mEuicc> after_a_kill() {
    const fs::path copy = tmp_.path() / ("killed-" + std::to_string(++kills_));
    fs::copy(dir_, copy, fs::copy_options::recursive);
    auto card = M2mEuicc::open(copy);
    EXPECT_TRUE(card) << card.error().message;
    return card ? std::move(*card) : nullptr;
  }
  /// A script of C-APDUs run as an administration session runs it.
  ota::ResponseScript run(const std::vector<m2m::IsdrCommand>& commands) {
    std::vector<Bytes> c_apdus;
    for (const auto& c : commands) c_apdus.push_back(m2m::build_apdu(c).value());
    return run_script(card_->isd_r(), ota::command_script(c_apdus));
  }
  int kills_ = 0;
};

TEST_F(ConfirmationSaveTest, AConfirmationAloneIsAnsweredWithoutAWriteAndRidesOnTheNextSave) {
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), apdu::sw::kOk);
  ASSERT_EQ(card_->isd_r().pending_notifications().size(), 1u);
  const std::uint32_t seq = card_->isd_r().pending_notifications()[0].seq_number;

  const auto flushes = file_flushes();
  const auto answer = run({m2m::ConfirmNotification{seq}});
  ASSERT_EQ(answer.r_apdus.size(), 1u);
  EXPECT_EQ(answer.r_apdus[0].sw, apdu::sw::kOk);
  EXPECT_EQ(file_flushes(), flushes);  // no write of its own
  EXPECT_TRUE(card_->isd_r().pending_notifications().empty());
  EXPECT_TRUE(card_->isd_r().has_unsaved_confirmations());

  // Killed now: the card comes back with the confirmed notification, to send
  // again (the SM-SR takes it as stale), and with everything else it answered.
  {
    auto killed = after_a_kill();
    ASSERT_TRUE(killed);
    const auto back = killed->isd_r().pending_notifications();
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].seq_number, seq);
    auto s = killed->isd_r().state();
    EXPECT_EQ(s.find(second_)->state, IsdpState::kEnabled);
    EXPECT_EQ(s.next_seq_number, seq + 1);
  }

  // The next save (a secured SMS's counter, written before the card acts on
  // it) carries the removal.
  ASSERT_TRUE(card_->isd_r().store_scp80_counter(card_->isd_r().scp80_keys().at(0).version, 77));
  EXPECT_EQ(file_flushes() - flushes, 1u);
  EXPECT_FALSE(card_->isd_r().has_unsaved_confirmations());
  auto killed = after_a_kill();
  ASSERT_TRUE(killed);
  EXPECT_TRUE(killed->isd_r().pending_notifications().empty());
  EXPECT_EQ(killed->isd_r().scp80_keys().at(0).counter, 77u);
}

TEST_F(ConfirmationSaveTest, AConfirmationWithAnotherChangeIsSavedWithItBeforeTheAnswer) {
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), apdu::sw::kOk);
  const std::uint32_t seq = card_->isd_r().pending_notifications().at(0).seq_number;
  const auto flushes = file_flushes();
  const auto answer = run({m2m::EnableProfile{boot_}, m2m::ConfirmNotification{seq}});
  ASSERT_EQ(answer.r_apdus.size(), 2u);
  EXPECT_EQ(answer.r_apdus[1].sw, apdu::sw::kOk);
  EXPECT_EQ(file_flushes() - flushes, 1u);
  EXPECT_FALSE(card_->isd_r().has_unsaved_confirmations());
  auto killed = after_a_kill();
  ASSERT_TRUE(killed);
  auto s = killed->isd_r().state();
  EXPECT_EQ(s.find(boot_)->state, IsdpState::kEnabled);
  ASSERT_EQ(s.notifications.size(), 1u);  // the enable's own, not the confirmed one
  EXPECT_NE(s.notifications[0].seq_number, seq);
}

TEST_F(ConfirmationSaveTest, SavePendingWritesTheConfirmationsAndAFailedRunKeepsThemPending) {
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), apdu::sw::kOk);
  ASSERT_EQ(sw(m2m::EnableProfile{boot_}), apdu::sw::kOk);
  const auto notes = card_->isd_r().pending_notifications();
  ASSERT_EQ(notes.size(), 2u);
  // Confirmed outside a script too: no write.
  const auto flushes = file_flushes();
  ASSERT_EQ(sw(m2m::ConfirmNotification{notes[0].seq_number}), apdu::sw::kOk);
  EXPECT_EQ(file_flushes(), flushes);
  // A run whose save fails goes back to the state before it: the earlier
  // confirmation still waits, the run's own is undone.
  const bool saved = card_->isd_r().in_one_save([&] {
    EXPECT_EQ(sw(m2m::ConfirmNotification{notes[1].seq_number}), apdu::sw::kOk);
    EXPECT_EQ(sw(m2m::CreateIsdp{isdp_aid(6), std::nullopt}), apdu::sw::kOk);
    // An MNO id that is not UTF-8: the run's save fails.
    EXPECT_TRUE(card_->isd_r().load_profile(isdp_aid(6), Bytes(10, 0x98), 0, "\xff"));
  });
  EXPECT_FALSE(saved);
  ASSERT_EQ(card_->isd_r().pending_notifications().size(), 1u);
  EXPECT_EQ(card_->isd_r().pending_notifications()[0].seq_number, notes[1].seq_number);
  EXPECT_FALSE(exists(isdp_aid(6)));
  EXPECT_TRUE(card_->isd_r().has_unsaved_confirmations());
  EXPECT_EQ(file_flushes(), flushes);

  // A device that stops on its own writes them.
  EXPECT_TRUE(card_->isd_r().save_pending());
  EXPECT_EQ(file_flushes() - flushes, 1u);
  EXPECT_FALSE(card_->isd_r().has_unsaved_confirmations());
  EXPECT_TRUE(card_->isd_r().save_pending());  // nothing left: no write
  EXPECT_EQ(file_flushes() - flushes, 1u);
  reopen();
  const auto left = card_->isd_r().pending_notifications();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].seq_number, notes[1].seq_number);
}

}  // namespace
}  // namespace rsp::euicc_m2m::test
