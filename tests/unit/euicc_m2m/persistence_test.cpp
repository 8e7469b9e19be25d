// The M2M card's state across restarts and torn writes (two slots, as the
// consumer eUICC keeps its state), its file modes, and the registration facts
// `rsp euicc create --m2m` prints.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "m2m_fixture.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/apdu/status_words.hpp"
#include "rsp/common/file.hpp"
#include "rsp/common/file_stats.hpp"

namespace rsp::euicc_m2m::test {
namespace {

namespace fs = std::filesystem;
using m2m::IsdpState;

TEST_F(M2mTest, StateSurvivesAReopen) {
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), apdu::sw::kOk);
  ASSERT_EQ(sw(m2m::SetEmergencyProfileAttribute{second_}), apdu::sw::kOk);
  ASSERT_EQ(sw(m2m::CreateIsdp{isdp_aid(4), std::nullopt}), apdu::sw::kOk);
  const auto keys = card_->isd_r().state().scp81.key;
  reopen();
  EXPECT_EQ(isdp(second_).state, IsdpState::kEnabled);
  EXPECT_TRUE(isdp(second_).emergency);
  EXPECT_EQ(isdp(isdp_aid(4)).state, IsdpState::kSelectable);
  EXPECT_EQ(card_->isd_r().pending_notifications().size(), 1u);
  EXPECT_EQ(card_->isd_r().state().scp81.key, keys);
}

TEST_F(M2mTest, ATornWriteLeavesThePreviousState) {
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), apdu::sw::kOk);
  // The next change is cut off half way through its slot write.
  ASSERT_EQ(sw(m2m::EnableProfile{boot_}), apdu::sw::kOk);
  const fs::path slot = newest_slot(dir_ / "m2m");
  ASSERT_FALSE(slot.empty());
  fs::resize_file(slot, fs::file_size(slot) / 2);
  reopen();
  EXPECT_EQ(isdp(second_).state, IsdpState::kEnabled);
  EXPECT_EQ(isdp(boot_).state, IsdpState::kDisabled);
  EXPECT_EQ(card_->isd_r().pending_notifications().size(), 1u);
  // and the card goes on from there
  ASSERT_EQ(sw(m2m::EnableProfile{boot_}), apdu::sw::kOk);
  reopen();
  EXPECT_EQ(isdp(boot_).state, IsdpState::kEnabled);
}

TEST_F(M2mTest, AKillDuringSavesLeavesAWholeState) {
  card_.reset();
  std::size_t switches = 0;
  for (int round = 0; round < 4; ++round) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child switches profiles as fast as the saves go, until killed;
      // it says so once its first switch is saved.
      ::close(ready[0]);
      auto card = M2mEuicc::open(dir_);
      if (!card) ::_exit(2);
      const Bytes to_second = m2m::build_apdu(m2m::EnableProfile{second_}).value();
      const Bytes to_boot = m2m::build_apdu(m2m::EnableProfile{boot_}).value();
      for (unsigned i = 0;; ++i) {
        (*card)->isd_r().execute(i % 2 ? to_boot : to_second);
        if (i == 0 && (::write(ready[1], "s", 1) != 1 || ::close(ready[1]) != 0)) ::_exit(3);
      }
    }
    ::close(ready[1]);
    // Killed only once it switches (a loaded machine may take long to get
    // there), then at a different point of its saves each round.
    char byte = 0;
    const auto got = ::read(ready[0], &byte, 1);
    ::close(ready[0]);
    ASSERT_EQ(got, 1) << "the child ended before its first switch";
    ::usleep(static_cast<useconds_t>(3000 + 7000 * round));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped on its own: " << status;
    reopen();
    ASSERT_TRUE(card_);
    // One whole state: exactly one profile enabled, one notification per
    // switch, numbered without a gap up to the next number.
    auto s = card_->isd_r().state();
    EXPECT_EQ(std::count_if(s.isdps.begin(), s.isdps.end(),
                            [](const IsdpRecord& p) { return p.state == IsdpState::kEnabled; }),
              1);
    for (std::size_t i = 0; i < s.notifications.size(); ++i) {
      EXPECT_EQ(s.notifications[i].seq_number, i + 1);
    }
    EXPECT_EQ(s.next_seq_number, s.notifications.size() + 1);
    if (!s.notifications.empty()) {
      EXPECT_EQ(s.notifications.back().isdp_aid, s.enabled()->aid);
    }
    switches = s.notifications.size();
    card_.reset();
  }
  EXPECT_GT(switches, 0u) << "the child never got to switch: the kills tested nothing";
}

TEST_F(M2mTest, BothSlotsBrokenIsAnErrorNotAnEmptyCard) {
  for (const char* name : {"state.0", "state.1"}) {
    if (fs::exists(dir_ / "m2m" / name)) fs::resize_file(dir_ / "m2m" / name, 10);
  }
  card_.reset();
  EXPECT_FALSE(M2mEuicc::open(dir_));
  EXPECT_FALSE(M2mEuicc::open(tmp_.path() / "nothing"));
}

TEST_F(M2mTest, StateFilesAreOwnerOnly) {
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), apdu::sw::kOk);  // both slots exist now
  for (const char* name : {"state.0", "state.1"}) {
    struct stat st{};
    ASSERT_EQ(::stat((dir_ / "m2m" / name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
  }
}

// A new card has both slot files, the second empty: no save creates one (a
// creation would flush the folder as well), so each save is one flush.
TEST_F(M2mTest, ARunWhoseSaveFailsGoesBackToTheStateOnDisk) {
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), apdu::sw::kOk);  // on disk before the run
  const Bytes aid = isdp_aid(6);
  const auto flushes = file_flushes();
  bool created = false, loaded = false;
  const bool saved = card_->isd_r().in_one_save([&] {
    created = sw(m2m::CreateIsdp{aid, std::nullopt}) == apdu::sw::kOk;
    // An MNO id that is not UTF-8: the state cannot be written, the run's save fails.
    loaded = static_cast<bool>(card_->isd_r().load_profile(aid, Bytes(10, 0x98), 0, "\xff"));
  });
  EXPECT_TRUE(created);
  EXPECT_TRUE(loaded);  // kept in memory until the run's save
  EXPECT_FALSE(saved);
  EXPECT_FALSE(exists(aid));
  EXPECT_EQ(isdp(second_).state, IsdpState::kEnabled);
  EXPECT_EQ(file_flushes(), flushes);
  // The card goes on from the state on disk, with a change saved at once.
  ASSERT_EQ(sw(m2m::CreateIsdp{isdp_aid(7), std::nullopt}), apdu::sw::kOk);
  reopen();
  EXPECT_FALSE(exists(aid));
  EXPECT_TRUE(exists(isdp_aid(7)));
  EXPECT_EQ(isdp(second_).state, IsdpState::kEnabled);
}

TEST_F(M2mTest, ANewCardHasBothSlotsAndEachSaveIsOneFlush) {
  struct stat st{};
  ASSERT_EQ(::stat((dir_ / "m2m" / "state.1").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const auto flushes = file_flushes();
  ASSERT_EQ(sw(m2m::EnableProfile{second_}), apdu::sw::kOk);
  EXPECT_EQ(file_flushes() - flushes, 1u);
  ASSERT_EQ(sw(m2m::EnableProfile{boot_}), apdu::sw::kOk);
  EXPECT_EQ(file_flushes() - flushes, 2u);
  reopen();
  EXPECT_EQ(isdp(boot_).state, IsdpState::kEnabled);
  EXPECT_EQ(card_->isd_r().pending_notifications().size(), 2u);
}

// A store keeps both slots open once they exist (one pread and one pwrite a
// save); another writer on the folder meanwhile is still seen: the next save
// numbers its record above that writer's, whichever slot it wrote.
TEST_F(M2mTest, ASaveAfterAnotherWritersSavesStaysTheNewest) {
  auto mine = M2mStore::open(dir_);
  ASSERT_TRUE(mine);
  auto state = mine->load();
  ASSERT_TRUE(state);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(mine->save(*state));  // both slots held open now
  for (int other_saves = 1; other_saves <= 2; ++other_saves) {
    auto other = M2mStore::open(dir_);  // another process's store: its own newest record
    ASSERT_TRUE(other);
    auto theirs = other->load();
    ASSERT_TRUE(theirs);
    theirs->smsr_id = "their-" + std::to_string(other_saves);
    for (int i = 0; i < other_saves; ++i) ASSERT_TRUE(other->save(*theirs));
    state->smsr_id = "mine-" + std::to_string(other_saves);
    ASSERT_TRUE(mine->save(*state));
    auto fresh = M2mStore::open(dir_);
    ASSERT_TRUE(fresh);
    auto read = fresh->load();
    ASSERT_TRUE(read);
    EXPECT_EQ(read->smsr_id, "mine-" + std::to_string(other_saves));
    // and the held slots go on being the folder's
    state->smsr_id = "mine-again-" + std::to_string(other_saves);
    ASSERT_TRUE(mine->save(*state));
    read = M2mStore::open(dir_)->load();
    ASSERT_TRUE(read);
    EXPECT_EQ(read->smsr_id, "mine-again-" + std::to_string(other_saves));
  }
}

// The state text is written field by field (no JSON tree): every field comes
// back as it went, strings with quotes, backslashes, control characters and
// UTF-8 included, and the text is JSON any reader takes.
TEST_F(M2mTest, EveryStateFieldSurvivesASaveAndALoad) {
  auto store = M2mStore::open(dir_);
  ASSERT_TRUE(store);
  auto state = store->load();
  ASSERT_TRUE(state);
  state->platform_type = "quote \" backslash \\ tab \t nul-free \x01 end";
  state->platform_version = "caf\xC3\xA9 \xE2\x82\xAC";  // UTF-8
  state->memory_total = 4000000000u;
  state->smsr_id = "";
  state->scp80.push_back(Scp80KeySet{7, Bytes(16, 0xA5), Bytes(16, 0x5A), 0xFFFFFFFFFFull});
  state->scp81_version = 3;
  state->scp81_additional = Scp81Key{9, crypto::Scp81Psk{"new \"psk\"", Bytes(16, 0x11)}};
  ASSERT_FALSE(state->isdps.empty());
  auto& p = state->isdps.front();
  p.connectivity = {0xA0, 0x01, 0x02};
  p.mno_id = "mno/\u00e9\n";
  p.scp03_version = 0x30;
  p.scp03_enc = Bytes(16, 1);
  p.scp03_mac = Bytes(16, 2);
  p.scp03_dek = Bytes(16, 3);
  p.scp03_counter = 12345;
  p.profile_size = 8192;
  p.coverage = false;
  state->notifications.push_back({41, m2m::NotificationType::kProfileChangeAfterFallback, p.aid});
  state->next_seq_number = 42;
  ASSERT_TRUE(store->save(*state));

  auto read = M2mStore::open(dir_)->load();
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->platform_type, state->platform_type);
  EXPECT_EQ(read->platform_version, state->platform_version);
  EXPECT_EQ(read->memory_total, state->memory_total);
  EXPECT_EQ(read->smsr_id, state->smsr_id);
  ASSERT_EQ(read->scp80.size(), state->scp80.size());
  for (std::size_t i = 0; i < read->scp80.size(); ++i) {
    EXPECT_EQ(read->scp80[i].version, state->scp80[i].version);
    EXPECT_EQ(read->scp80[i].kic, state->scp80[i].kic);
    EXPECT_EQ(read->scp80[i].kid, state->scp80[i].kid);
    EXPECT_EQ(read->scp80[i].counter, state->scp80[i].counter);
  }
  EXPECT_EQ(read->scp81.identity, state->scp81.identity);
  EXPECT_EQ(read->scp81.key, state->scp81.key);
  EXPECT_EQ(read->scp81_version, 3);
  ASSERT_TRUE(read->scp81_additional);
  EXPECT_EQ(read->scp81_additional->version, 9);
  EXPECT_EQ(read->scp81_additional->psk.identity, state->scp81_additional->psk.identity);
  EXPECT_EQ(read->scp81_additional->psk.key, state->scp81_additional->psk.key);
  EXPECT_EQ(read->sin, state->sin);
  EXPECT_EQ(read->sdin, state->sdin);
  ASSERT_EQ(read->isdps.size(), state->isdps.size());
  for (std::size_t i = 0; i < read->isdps.size(); ++i) {
    const auto &a = read->isdps[i], &b = state->isdps[i];
    EXPECT_EQ(a.aid, b.aid);
    EXPECT_EQ(a.state, b.state);
    EXPECT_EQ(a.iccid, b.iccid);
    EXPECT_EQ(a.fallback, b.fallback);
    EXPECT_EQ(a.emergency, b.emergency);
    EXPECT_EQ(a.pol1, b.pol1);
    EXPECT_EQ(a.connectivity, b.connectivity);
    EXPECT_EQ(a.memory_quota, b.memory_quota);
    EXPECT_EQ(a.mno_id, b.mno_id);
    EXPECT_EQ(a.coverage, b.coverage);
    EXPECT_EQ(a.scp03_version, b.scp03_version);
    EXPECT_EQ(a.scp03_enc, b.scp03_enc);
    EXPECT_EQ(a.scp03_mac, b.scp03_mac);
    EXPECT_EQ(a.scp03_dek, b.scp03_dek);
    EXPECT_EQ(a.scp03_counter, b.scp03_counter);
    EXPECT_EQ(a.profile_size, b.profile_size);
  }
  ASSERT_EQ(read->notifications.size(), state->notifications.size());
  EXPECT_EQ(read->notifications.back().seq_number, 41u);
  EXPECT_EQ(read->notifications.back().type, m2m::NotificationType::kProfileChangeAfterFallback);
  EXPECT_EQ(read->notifications.back().isdp_aid, p.aid);
  EXPECT_EQ(read->next_seq_number, 42u);

  // Not UTF-8: an error, nothing written.
  state->smsr_id = "\xFF\xFE";
  EXPECT_FALSE(store->save(*state));
  read = M2mStore::open(dir_)->load();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->smsr_id, "");
}

TEST_F(M2mTest, RegistrationIsARegisterEisBodyTheSmsrReads) {
  auto store = M2mStore::open(dir_);
  ASSERT_TRUE(store);
  RegistrationFacts facts{"EUM-TEST", "2026-12-01", {{"89000123456789012341", "447700900001"}}};
  auto text = registration_json(*store, facts);
  ASSERT_TRUE(text) << text.error().message;
  auto body = nlohmann::json::parse(*text);
  ASSERT_TRUE(body.contains("eis"));
  // What the SM-SR's ES1 parses, strictly (unknown members refused).
  auto eis = m2m::eis_from_json(body["eis"]);
  ASSERT_TRUE(eis) << eis.error().path << ": " << eis.error().message;
  const auto s = card_->isd_r().state();
  EXPECT_EQ(eis->eid, to_hex(card_->isd_r().eid()));
  EXPECT_EQ(eis->eum_id, "EUM-TEST");
  EXPECT_EQ(eis->production_date, "2026-12-01");
  EXPECT_EQ(eis->smsr_id, "smsr.test");
  EXPECT_EQ(to_hex(eis->isd_r.aid), "A0000005591010FFFFFFFF8900000100");
  ASSERT_TRUE(eis->isd_r.scp81_psk);
  EXPECT_EQ(eis->isd_r.scp81_psk->key, s.scp81.key);
  EXPECT_EQ(eis->isd_r.scp81_psk->identity, Bytes(s.scp81.identity.begin(), s.scp81.identity.end()));
  ASSERT_EQ(eis->isd_r.scp80_key_sets.size(), 1u);
  EXPECT_EQ(eis->isd_r.scp80_key_sets[0].kic, s.scp80[0].kic);
  EXPECT_EQ(eis->isd_r.scp80_key_sets[0].kid, s.scp80[0].kid);
  EXPECT_EQ(s.scp80[0].kic.size(), 16u);
  EXPECT_NE(s.scp80[0].kic, s.scp80[0].kid);
  EXPECT_FALSE(eis->ecasd.certificate.empty());
  ASSERT_EQ(eis->profiles.size(), 2u);
  EXPECT_EQ(eis->profiles[0].isdp_aid, boot_);
  EXPECT_EQ(eis->profiles[0].iccid, "89000123456789012341");
  EXPECT_EQ(eis->profiles[0].mno_id, "mno-boot");
  EXPECT_EQ(eis->profiles[0].state, m2m::ProfileState::Enabled);
  EXPECT_TRUE(eis->profiles[0].fallback_attribute);
  EXPECT_EQ(eis->profiles[0].subscription_address.msisdn, "447700900001");
  EXPECT_EQ(eis->profiles[1].state, m2m::ProfileState::Disabled);
  EXPECT_FALSE(eis->profiles[1].fallback_attribute);
  EXPECT_TRUE(eis->profiles[1].subscription_address.msisdn.empty());
  // Without a date, today's.
  facts.production_date.clear();
  auto today = registration_eis(*store, facts);
  ASSERT_TRUE(today);
  EXPECT_EQ(today->production_date.size(), 10u);
}

TEST_F(M2mTest, CreateRefusesBadProfileSetsAndAnExistingCard) {
  auto sources = euicc::find_identity_sources(shared_pki_dir()).value();
  M2mCreateOptions o;
  o.dir = tmp_.path() / "other";
  o.sources = sources;
  o.profiles = {{boot_, from_hex("98001032547698103214").value(), "", 0, true, false}};  // none enabled
  EXPECT_FALSE(create_m2m_euicc(o));
  o.profiles[0].enabled = true;
  o.profiles[0].iccid = {0x98};
  EXPECT_FALSE(create_m2m_euicc(o));
  o.dir = dir_;
  o.profiles[0].iccid = from_hex("98001032547698103214").value();
  EXPECT_FALSE(create_m2m_euicc(o));  // already a card
}

}  // namespace
}  // namespace rsp::euicc_m2m::test
