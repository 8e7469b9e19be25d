// Persistence: creation from PKI folders, reopening, and crash safety.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "euicc_fixture.hpp"
#include "rsp/common/file.hpp"
#include "rsp/messages/iccid.hpp"

namespace rsp::euicc::test {
namespace {

namespace fs = std::filesystem;

TEST(EuiccStore, CreateRefusesAnExistingCardAndOpenNeedsOne) {
  TempDir tmp;
  EXPECT_FALSE(EuiccStore::open(tmp.path() / "none").has_value());
  auto store = make_euicc(tmp.path() / "card");
  auto sources = find_identity_sources(shared_pki_dir());
  ASSERT_TRUE(sources.has_value());
  CreateOptions o;
  o.dir = tmp.path() / "card";
  o.sources = *sources;
  EXPECT_FALSE(create_euicc(o).has_value());
  auto perms = fs::status(tmp.path() / "card" / "identity" / "euicc_nist.sk.pem").permissions();
  EXPECT_EQ(perms & fs::perms::all, fs::perms(0600));
  EXPECT_TRUE(store.private_key(crypto::Curve::NistP256).has_value());
}

TEST(EuiccStore, CreateFromTheSgp26Set) {
  const fs::path certs = fs::path(RSP_REFERENCE_DIR) / "certs";
  if (!fs::exists(certs / "eUICC")) GTEST_SKIP() << "SGP.26 certificates not present";
  TempDir tmp;
  auto sources = find_identity_sources(certs);
  ASSERT_TRUE(sources.has_value()) << sources.error().message;
  CreateOptions o;
  o.dir = tmp.path() / "card";
  o.sources = *sources;
  auto store = create_euicc(o);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ(*store->eid(), "89049032123451234512345678901235");
  EXPECT_EQ(store->identity()->curves.size(), 2u);
}

TEST(EuiccStore, IdleIsdRIsSmall) {
  TempDir tmp;
  auto store = make_euicc(tmp.path() / "card");
  EXPECT_LT(sizeof(IsdR) + sizeof(EuiccStore) + store.dir().native().size(), 20u * 1024);
}

TEST(EuiccStore, UnreferencedContentIsCollected) {
  TempDir tmp;
  auto store = make_euicc(tmp.path() / "card");
  // crash after the content file, before the state names it
  ASSERT_TRUE(store.write_content("orphan.upp", Bytes(100, 1)).has_value());
  auto s = store.load();
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->profiles.empty());
  store.collect_garbage(*s);
  EXPECT_FALSE(fs::exists(store.dir() / "profiles" / "orphan.upp"));
}

TEST(EuiccStore, CorruptStateIsAnErrorNotACrash) {
  TempDir tmp;
  auto store = make_euicc(tmp.path() / "card");
  ASSERT_TRUE(write_file_atomic(store.dir() / "state.0", to_bytes("{\"profiles\": [1, 2")).has_value());
  ASSERT_TRUE(write_file_atomic(store.dir() / "state.1", to_bytes("rsp-euicc-state 1 9 3 zz\n{}")).has_value());
  EXPECT_FALSE(store.load().has_value());
}

/// Saves a state with one profile into `s`, then one with two: returns the
/// slot holding the newer record (the larger file).
fs::path save_one_then_two_profiles(const EuiccStore& store, EuiccState& s) {
  s.profiles = {sample_profile(1)};
  EXPECT_TRUE(store.save(s).has_value());
  s.profiles.push_back(sample_profile(2));
  EXPECT_TRUE(store.save(s).has_value());
  const fs::path a = store.dir() / "state.0", b = store.dir() / "state.1";
  return fs::file_size(a) > fs::file_size(b) ? a : b;
}

/// A write cut short (kill or power cut) leaves the slot it was writing torn:
/// the card comes back with the state before it.
TEST(EuiccStore, TornWriteKeepsThePreviousState) {
  TempDir tmp;
  auto store = make_euicc(tmp.path() / "card");
  auto s = store.load();
  ASSERT_TRUE(s.has_value());
  const fs::path newest = save_one_then_two_profiles(store, *s);
  fs::resize_file(newest, fs::file_size(newest) - 10);  // cut the newest record's end off
  auto after = store.load();
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(after->profiles.size(), 1u);
  // the next write goes to the torn slot, never over the whole one
  s->profiles = {sample_profile(3)};
  ASSERT_TRUE(store.save(*s).has_value());
  auto last = store.load();
  ASSERT_TRUE(last.has_value());
  ASSERT_EQ(last->profiles.size(), 1u);
  EXPECT_EQ(last->profiles[0].iccid, sample_profile(3).iccid);
}

/// A write cut before its first byte leaves an empty slot: the card keeps the other one.
TEST(EuiccStore, EmptySlotKeepsThePreviousState) {
  TempDir tmp;
  auto store = make_euicc(tmp.path() / "card");
  auto s = store.load();
  ASSERT_TRUE(s.has_value());
  fs::resize_file(save_one_then_two_profiles(store, *s), 0);
  auto after = store.load();
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(after->profiles.size(), 1u);
}

/// A folder written by an older version keeps its state in state.json: it is
/// read until the first change, which moves the state into the slots.
TEST(EuiccStore, ReadsAndReplacesAnOlderStateFile) {
  TempDir tmp;
  auto store = make_euicc(tmp.path() / "card");
  fs::remove(store.dir() / "state.0");
  fs::remove(store.dir() / "state.1");
  const std::string legacy = "{\"default_dp_address\": \"dp.example\", \"profiles\": [], \"notifications\": []}";
  ASSERT_TRUE(write_file_atomic(store.dir() / "state.json", to_bytes(legacy)).has_value());
  auto s = store.load();
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->default_dp_address, "dp.example");
  s->profiles = {sample_profile(1)};
  ASSERT_TRUE(store.save(*s).has_value());
  EXPECT_FALSE(fs::exists(store.dir() / "state.json"));
  auto after = store.load();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->default_dp_address, "dp.example");
  EXPECT_EQ(after->profiles.size(), 1u);
}

/// Two cards on one folder: each one's cached state gives way to the other's writes.
TEST(EuiccStore, StateCacheSeesAnotherWriter) {
  TempDir tmp;
  auto store = make_euicc(tmp.path() / "card");
  StateCache a, b;
  auto sa = a.load(store);
  ASSERT_TRUE(sa.has_value());
  EXPECT_TRUE(sa->profiles.empty());
  auto sb = b.load(store);
  ASSERT_TRUE(sb.has_value());
  sb->profiles = {sample_profile(1)};
  ASSERT_TRUE(b.save(store, *sb).has_value());
  sa = a.load(store);
  ASSERT_TRUE(sa.has_value());
  EXPECT_EQ(sa->profiles.size(), 1u);
  sa->profiles.push_back(sample_profile(2));
  ASSERT_TRUE(a.save(store, *sa).has_value());
  // a plain write the caches did not see, then b's next read
  auto plain = store.load();
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->profiles.size(), 2u);
  plain->default_dp_address = "dp.example";
  ASSERT_TRUE(store.save(*plain).has_value());
  sb = b.load(store);
  ASSERT_TRUE(sb.has_value());
  EXPECT_EQ(sb->profiles.size(), 2u);
  EXPECT_EQ(sb->default_dp_address, "dp.example");
  EXPECT_EQ(a.load(store)->default_dp_address, "dp.example");
}

/// kill -9 a process that keeps switching profiles: every restart finds a
/// consistent card (one enabled profile at most, notifications in order).
TEST(EuiccStore, KillDuringProfileSwitchesLeavesAConsistentCard) {
  TempDir tmp;
  auto store = make_euicc(tmp.path() / "card");
  auto s = store.load();
  ASSERT_TRUE(s.has_value());
  s->profiles = {sample_profile(1), sample_profile(2)};
  ASSERT_TRUE(store.save(*s).has_value());
  for (int round = 0; round < 3; ++round) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      Card card;
      card.add_application(std::make_shared<IsdR>(store));
      Bytes select = {0x00, 0xA4, 0x04, 0x00, 0x10};
      select.insert(select.end(), std::begin(kIsdRAid), std::end(kIsdRAid));
      card.transmit(select);
      for (int i = 0;; ++i) {
        asn1::sgp22::EnableProfileRequest en;
        en.profileIdentifier.set_isdpAid(sample_profile(1 + i % 2).isdp_aid);
        (void)apdu::send_es10(in_process_transmit(card), asn1::encode(en), 0);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + 70 * round));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    auto after = store.load();
    ASSERT_TRUE(after.has_value()) << after.error().message;
    ASSERT_EQ(after->profiles.size(), 2u);
    int enabled = after->profiles[0].enabled + after->profiles[1].enabled;
    EXPECT_LE(enabled, 1);
    for (std::size_t i = 1; i < after->notifications.size(); ++i) {
      EXPECT_EQ(after->notifications[i].seq_number, after->notifications[i - 1].seq_number + 1);
    }
    if (!after->notifications.empty()) {
      EXPECT_EQ(after->next_seq_number, after->notifications.back().seq_number + 1);
    }
  }
}

}  // namespace
}  // namespace rsp::euicc::test
