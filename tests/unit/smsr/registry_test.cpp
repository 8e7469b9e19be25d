// The SM-SR registry: an EIS reads back whole, its ISD-R keys only sealed in
// the database; duplicates refused; the audit trail in order; operations
// with their queued scripts, finished or expired, the scripts going with them.
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "fixture.hpp"
#include "rsp/smsr/scp80_key_choice.hpp"
#include "rsp/store/sqlite.hpp"

namespace rsp::smsr::testing {
namespace {

using store::value;

TEST_P(RegistryTest, AnEisReadsBackWhole) {
  const m2m::Eis e = sample();
  ASSERT_TRUE(registry_->register_eis(e, 1000));
  auto back = registry_->eis(e.eid);
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_TRUE(*back);
  EXPECT_EQ(**back, e);
  EXPECT_EQ(registry_->eis_count(), 1);
  auto none = registry_->eis("89049032123451234512345678901000");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  // And after reopening the database.
  reopen();
  EXPECT_EQ(**registry_->eis(e.eid), e);
}

TEST_P(RegistryTest, KeysAreOnlySealedInTheDatabase) {
  const m2m::Eis e = sample();
  ASSERT_TRUE(registry_->register_eis(e, 1000));
  auto rows = db_->query("SELECT eid, eum_id, document, isdr_keys FROM smsr_eis");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  std::string everything;
  for (std::size_t i = 0; i < 3; ++i) everything += (*rows)[0].text(i);
  everything += to_hex((*rows)[0].blob(3));
  auto isdps = db_->query("SELECT document FROM smsr_isdp");
  for (const auto& r : *isdps) everything += r.text(0);
  for (const char* key : {"11111111111111111111111111111111", "22222222222222222222222222222222",
                          "33333333333333333333333333333333"})
    EXPECT_EQ(everything.find(key), std::string::npos) << key;
  EXPECT_TRUE(service::is_sealed_package((*rows)[0].blob(3)));
}

TEST_P(RegistryTest, AnotherKekOpensNothingAndSaysSo) {
  const m2m::Eis e = sample();
  ASSERT_TRUE(registry_->register_eis(e, 1000));
  reopen(test_kek(0x99));
  auto r = registry_->eis(e.eid);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().storage);
  EXPECT_NE(r.error().message.find(e.eid), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find(to_hex(Bytes(32, 0x99))), std::string::npos);
}

TEST_P(RegistryTest, KeysMovedToAnotherEuiccDoNotOpen) {
  const m2m::Eis a = sample(), b = sample("89049032123451234512345678901000");
  ASSERT_TRUE(registry_->register_eis(a, 1000));
  m2m::Eis b2 = b;
  for (auto& p : b2.profiles) p.iccid[17] = '9';  // other ICCIDs
  ASSERT_TRUE(registry_->register_eis(b2, 1000));
  ASSERT_TRUE(db_->execute("UPDATE smsr_eis SET isdr_keys = (SELECT isdr_keys FROM smsr_eis WHERE eid = $1) "
                           "WHERE eid = $2",
                           {value(a.eid), value(b.eid)}));
  EXPECT_FALSE(registry_->eis(b.eid));
  EXPECT_TRUE(registry_->eis(a.eid));
}

TEST_P(RegistryTest, DuplicatesAreRefused) {
  const m2m::Eis e = sample();
  ASSERT_TRUE(registry_->register_eis(e, 1000));
  auto again = registry_->register_eis(e, 1001);
  ASSERT_FALSE(again);
  EXPECT_TRUE(is(again.error(), m2m::codes::kEidInUse));
  // Another EID with an ICCID of the first one.
  auto other = registry_->register_eis(sample("89049032123451234512345678901000"), 1002);
  ASSERT_FALSE(other);
  EXPECT_TRUE(is(other.error(), m2m::codes::kIccidInUse));
  EXPECT_EQ(registry_->eis_count(), 1);  // nothing of the refused one stayed
}

TEST_P(RegistryTest, APskIdentityOfAnotherEuiccIsRefused) {
  const m2m::Eis a = sample();
  ASSERT_TRUE(registry_->register_eis(a, 1000));
  m2m::Eis b = sample("89049032123451234512345678901000");
  for (auto& p : b.profiles) p.iccid[17] = '9';  // its own ICCIDs
  ASSERT_NE(b.isd_r.scp81_psk->identity, a.isd_r.scp81_psk->identity);
  b.isd_r.scp81_psk->identity = a.isd_r.scp81_psk->identity;
  auto refused = registry_->register_eis(b, 1001);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), m2m::codes::kPskIdentityInUse)) << refused.error().message;
  // Neither the identity's value nor the key is in the error.
  EXPECT_EQ(refused.error().message.find(to_hex(a.isd_r.scp81_psk->identity)), std::string::npos);
  EXPECT_EQ(registry_->eis_count(), 1);
  // The lookup still names the first eUICC alone.
  auto eid = registry_->eid_of_psk_identity(a.isd_r.scp81_psk->identity);
  ASSERT_TRUE(eid) << eid.error().message;
  EXPECT_EQ(**eid, a.eid);
  // With an identity of its own it registers.
  b.isd_r.scp81_psk->identity.back() ^= 0x01;
  EXPECT_TRUE(registry_->register_eis(b, 1002));
}

TEST_P(RegistryTest, ProfilesChangeAndGo) {
  const m2m::Eis e = sample();
  ASSERT_TRUE(registry_->register_eis(e, 1000));
  m2m::ProfileInfo p = e.profiles[1];
  p.state = m2m::ProfileState::Created;
  p.pol2 = {{m2m::PolicyAction::Delete, m2m::PolicyQualification::NotAllowed}};
  ASSERT_TRUE(registry_->put_profile(e.eid, p));
  EXPECT_EQ(*(*registry_->eis(e.eid))->profile(p.iccid), p);
  ASSERT_TRUE(registry_->delete_profile(e.eid, p.iccid));
  EXPECT_EQ((*registry_->eis(e.eid))->profile(p.iccid), nullptr);
  EXPECT_TRUE(is(registry_->delete_profile(e.eid, p.iccid).error(), m2m::codes::kIccidUnknown));
  EXPECT_TRUE(is(registry_->put_profile(e.eid, p).error(), m2m::codes::kIccidUnknown));
  EXPECT_TRUE(*registry_->mno_has_profile_on(e.eid, "mno2"));
  EXPECT_FALSE(*registry_->mno_has_profile_on(e.eid, "mno3"));
}

TEST_P(RegistryTest, AuditTrailInOrder) {
  ASSERT_TRUE(registry_->audit({10, "mno1", "ES4.GetEIS", "E1", "", "Executed-Success"}));
  ASSERT_TRUE(registry_->audit({11, "mno2", "ES4.EnableProfile", "E1", "A000", "Failed 8.2.2/3.8"}));
  ASSERT_TRUE(registry_->audit({12, "mno2", "ES4.GetEIS", "E2", "", "Executed-Success"}));
  auto t = registry_->audit_trail("E1");
  ASSERT_TRUE(t);
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].caller, "mno1");
  EXPECT_EQ((*t)[1].isdp_aid, "A000");
  EXPECT_EQ((*t)[1].result, "Failed 8.2.2/3.8");
  EXPECT_EQ((*t)[1].at, 11);
}

TEST_P(RegistryTest, AuditTrailReadFromTheDatabaseAlone) {
  ASSERT_TRUE(registry_->audit({10, "mno1", "ES4.SMSRChange", "E1", "", "ES7.HandoverEUICC to smsr-2"}));
  ASSERT_TRUE(registry_->audit({11, "smsr-1", "ES7.HandoverEUICC", "E2", "", "taken from smsr-1"}));
  registry_->audit_later({12, "mno1", "ES4.GetEIS", "E1", "", "Executed-Success"});
  // Another reader of the same database (as `rsp smsr audit` beside `rsp smsr
  // serve`): the buffered line shows once written (by the writer thread
  // within a second, or here at once).
  ASSERT_TRUE(registry_->flush_audit());
  auto t = read_audit_trail(*db_, "E1");
  ASSERT_TRUE(t) << t.error().message;
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].function, "ES4.SMSRChange");
  EXPECT_EQ((*t)[0].result, "ES7.HandoverEUICC to smsr-2");
  EXPECT_EQ((*t)[1].at, 12);
  // An EID without lines: an empty trail, not an error.
  t = read_audit_trail(*db_, "E9");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->empty());
}

TEST(ReadAuditTrail, ADatabaseWithoutTheRegistrysTablesIsAnError) {
  test_support::TempDir dir;
  auto db = store::open_database((dir.path() / "empty.db").string());
  ASSERT_TRUE(db);
  EXPECT_FALSE(read_audit_trail(**db, "E1"));
}

Operation op_for(const std::string& eid, std::int64_t expires_at) {
  Operation op;
  op.function = "ES4.EnableProfile";
  op.eid = eid;
  op.iccid = "8944000000000000029";
  op.caller = "mno1";
  op.created_at = 100;
  op.expires_at = expires_at;
  op.arguments = "{}";
  return op;
}

TEST_P(RegistryTest, AnOperationReservesItsWakeUpCounterOnce) {
  // Reserved in the operation's transaction, above the EIS's own counter.
  const CounterReservation reserve{2, 41, std::nullopt};
  ASSERT_TRUE(registry_->create_operation(op_for("E1", 200), std::vector<Bytes>{{0x01}}, nullptr, &reserve));
  EXPECT_EQ(registry_->take_reserved_counter("E1", 2), std::optional<std::uint64_t>(42));
  EXPECT_FALSE(registry_->take_reserved_counter("E1", 2));  // taken once
  EXPECT_FALSE(registry_->take_reserved_counter("E1", 3));  // another key set
  EXPECT_FALSE(registry_->take_reserved_counter("E2", 2));  // another eUICC
  // Stored: the next counter, however given, is above it.
  EXPECT_EQ(*registry_->next_scp80_counter("E1", 2, 0), 43u);
  // A reservation passed by a counter given out after it is not taken: a
  // wake-up never sends a counter below one sent already.
  ASSERT_TRUE(registry_->create_operation(op_for("E1", 200), std::vector<Bytes>{{0x02}}, nullptr, &reserve));
  EXPECT_EQ(*registry_->next_scp80_counter("E1", 2, 0), 45u);
  EXPECT_FALSE(registry_->take_reserved_counter("E1", 2));
  // Without a reservation nothing is kept.
  ASSERT_TRUE(registry_->create_operation(op_for("E1", 200), std::vector<Bytes>{{0x03}}));
  EXPECT_FALSE(registry_->take_reserved_counter("E1", 2));
  // A higher last counter of the EIS is passed; a stored one never goes back.
  EXPECT_EQ(*registry_->next_scp80_counter("E1", 2, 100), 101u);
  EXPECT_EQ(*registry_->next_scp80_counter("E1", 2, 7), 102u);
  EXPECT_EQ(*registry_->next_scp80_counter("E3", 1, 9), 10u);
  // Exhausted: refused, nothing stored.
  EXPECT_FALSE(registry_->next_scp80_counter("E1", 2, std::uint64_t{INT64_MAX} - 1));
  EXPECT_EQ(*registry_->next_scp80_counter("E1", 2, std::uint64_t{INT64_MAX} - 2), std::uint64_t{INT64_MAX} - 1);
  EXPECT_FALSE(registry_->next_scp80_counter("E1", 2, 0));
  EXPECT_FALSE(registry_->next_scp80_counter("E1", 2, 0));
}

TEST_P(RegistryTest, OperationsQueueTheirScriptsInOrder) {
  const std::vector<Bytes> scripts{{0x80, 0xE2}, {0x80, 0xF2, 0x00}};
  auto id = registry_->create_operation(op_for("E1", 200), scripts);
  ASSERT_TRUE(id) << id.error().message;
  auto id2 = registry_->create_operation(op_for("E1", 300), std::vector<Bytes>{{0x01}});
  ASSERT_TRUE(id2);
  ASSERT_TRUE(registry_->create_operation(op_for("E2", 300), std::vector<Bytes>{{0x02}}));
  auto q = registry_->queued_scripts("E1");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 3u);
  EXPECT_EQ((*q)[0].script, scripts[0]);
  EXPECT_EQ((*q)[1].script, scripts[1]);
  EXPECT_EQ((*q)[2].operation_id, *id2);
  auto op = registry_->operation(*id);
  ASSERT_TRUE(op && *op);
  EXPECT_EQ((*op)->state, OperationState::Accepted);
  EXPECT_EQ((*op)->expires_at, 200);
  EXPECT_TRUE(*registry_->start_operation(*id));
  EXPECT_FALSE(*registry_->start_operation(*id));
  EXPECT_EQ((**registry_->operation(*id)).state, OperationState::InProgress);
  // Finished: its scripts go, the next operation's stay.
  EXPECT_TRUE(*registry_->finish_operation(*id, OperationState::Completed, "Executed-Success", {"", ""}, 150));
  EXPECT_FALSE(*registry_->finish_operation(*id, OperationState::Failed, "Failed", {"8.1", "5.1"}, 151));
  EXPECT_FALSE(registry_->finish_operation(*id2, OperationState::InProgress, "", {"", ""}, 151));
  q = registry_->queued_scripts("E1");
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].operation_id, *id2);
  auto open = registry_->open_operations("E1");
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].id, *id2);
  EXPECT_EQ((**registry_->operation(*id)).finished_at, 150);
}

TEST_P(RegistryTest, OperationsPastTheirValidityExpire) {
  auto a = *registry_->create_operation(op_for("E1", 200), std::vector<Bytes>{{0x01}});
  auto b = *registry_->create_operation(op_for("E1", 300), std::vector<Bytes>{{0x02}});
  auto none = registry_->expire_operations(199);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto one = registry_->expire_operations(200);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].id, a);
  auto op = **registry_->operation(a);
  EXPECT_EQ(op.state, OperationState::Expired);
  EXPECT_EQ(op.status, "Expired");
  EXPECT_EQ(registry_->queued_scripts("E1")->size(), 1u);
  // A finished operation never expires.
  ASSERT_TRUE(*registry_->finish_operation(b, OperationState::Completed, "Executed-Success", {"", ""}, 250));
  EXPECT_TRUE(registry_->expire_operations(10000)->empty());
  EXPECT_EQ((**registry_->operation(b)).state, OperationState::Completed);
  EXPECT_TRUE(registry_->queued_scripts("E1")->empty());
}

TEST_P(RegistryTest, AnAcceptedCallsAuditLineCommitsWithItsOperation) {
  const AuditEntry line{100, "mno1", "ES4.EnableProfile", "E1", "A0000005591010FFFFFFFF8900001100", "ignored"};
  auto id = registry_->create_operation(op_for("E1", 200), std::vector<Bytes>{{0x80, 0xE2}}, &line);
  ASSERT_TRUE(id) << id.error().message;
  auto trail = registry_->audit_trail("E1");
  ASSERT_TRUE(trail);
  ASSERT_EQ(trail->size(), 1u);
  EXPECT_EQ((*trail)[0].result, "accepted as operation " + std::to_string(*id));
  EXPECT_EQ((*trail)[0].isdp_aid, line.isdp_aid);
  EXPECT_EQ((*trail)[0].function, line.function);
  // Without a line, none.
  ASSERT_TRUE(registry_->create_operation(op_for("E1", 200), std::vector<Bytes>{{0x01}}));
  EXPECT_EQ(registry_->audit_trail("E1")->size(), 1u);
  // A failed operation insert leaves no audit line either.
  ASSERT_TRUE(db_->execute_script("DROP TABLE smsr_command"));
  EXPECT_FALSE(registry_->create_operation(op_for("E2", 200), std::vector<Bytes>{{0x01}}, &line));
  EXPECT_TRUE(registry_->audit_trail("E1")->size() == 1u);
  EXPECT_TRUE(registry_->open_operations("E2")->empty());
}

TEST_P(RegistryTest, WithTheEisCacheEveryChangeOfTheRegistryReadsBack) {
  with_reader_ = GetParam() == "sqlite";
  eis_cache_ = 1;  // two eUICCs: each read of the other drops the one cached
  reopen();
  const m2m::Eis a = sample();
  m2m::Eis b = sample("89049032123451234512345678901000");
  for (auto& p : b.profiles) p.iccid[17] = '9';
  ASSERT_TRUE(registry_->register_eis(a, 1000));
  ASSERT_TRUE(registry_->register_eis(b, 1000));
  const auto read = [&](const std::string& eid, bool keys = false) {
    auto r = registry_->eis(eid, keys);
    EXPECT_TRUE(r && *r) << (r ? "unknown" : r.error().message);
    return r && *r ? **r : m2m::Eis{};
  };
  // A cached EIS without its keys, then asked with them: the keys as stored.
  EXPECT_EQ(read(a.eid), read(a.eid));
  EXPECT_TRUE(read(a.eid, true) == a);
  EXPECT_TRUE(read(b.eid, true) == b);
  EXPECT_TRUE(read(a.eid, true) == a);
  // put_profile on its own.
  m2m::ProfileInfo changed = a.profiles.front();
  changed.mno_id = "mno-changed";
  ASSERT_TRUE(registry_->put_profile(a.eid, changed));
  EXPECT_EQ(read(a.eid).profile(changed.iccid)->mno_id, "mno-changed");
  // apply(): a profile changed, another deleted, the memory.
  (void)read(a.eid);
  Change c;
  changed.mno_id = "mno-again";
  c.put.push_back(changed);
  c.deleted.push_back(a.profiles.back().iccid);
  c.remaining_memory = 4242;
  ASSERT_TRUE(registry_->apply(a.eid, c, 2000));
  const m2m::Eis now = read(a.eid);
  EXPECT_EQ(now.profile(changed.iccid)->mno_id, "mno-again");
  EXPECT_FALSE(now.profile(a.profiles.back().iccid));
  EXPECT_EQ(now.remaining_memory, 4242);
  EXPECT_EQ(read(b.eid), read(b.eid));
  EXPECT_EQ(read(a.eid), now);
  // Handed over (ES7): gone, not answered from the cache.
  Change gone;
  gone.handed_over = true;
  ASSERT_TRUE(registry_->apply(a.eid, gone, 3000));
  auto after = registry_->eis(a.eid);
  ASSERT_TRUE(after);
  EXPECT_FALSE(*after);
}

TEST_P(RegistryTest, AChangeUpdatesTheCachedEisInPlaceAsTheDatabaseReadsIt) {
  with_reader_ = GetParam() == "sqlite";
  eis_cache_ = 4;
  reopen();
  const m2m::Eis a = sample();
  ASSERT_TRUE(registry_->register_eis(a, 1000));
  const auto read = [&](bool keys = false) {
    auto r = registry_->eis(a.eid, keys);
    EXPECT_TRUE(r && *r) << (r ? "unknown" : r.error().message);
    return r && *r ? **r : m2m::Eis{};
  };
  // The wake-up's key set: as chosen from the keys, none of them kept.
  auto key_set = registry_->wake_up_key_set(a.eid);
  ASSERT_TRUE(key_set) << key_set.error().message;
  const m2m::Scp80KeySet* chosen = choose_scp80_key_set(a.isd_r);
  ASSERT_TRUE(chosen);
  ASSERT_TRUE(*key_set);
  EXPECT_EQ((*key_set)->version, chosen->version);
  EXPECT_EQ((*key_set)->counter, chosen->counter);
  EXPECT_TRUE(read().isd_r.scp80_key_sets.empty());
  auto unknown = registry_->wake_up_key_set("89049032123451234512345678901000");
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);
  // apply(): a profile put, one added ahead of the others (ISD-P AID order),
  // one deleted, the memory; the cached EIS then equals a fresh read.
  Change c;
  m2m::ProfileInfo changed = a.profiles.front();
  changed.state = changed.state == m2m::ProfileState::Enabled ? m2m::ProfileState::Disabled
                                                               : m2m::ProfileState::Enabled;
  changed.fallback_attribute = !changed.fallback_attribute;
  c.put.push_back(changed);
  m2m::ProfileInfo added = a.profiles.front();
  added.iccid = "89012345678901234598";
  added.isdp_aid.back() = 0x00;
  added.isdp_aid[added.isdp_aid.size() - 2] = 0x00;
  c.added.push_back(added);
  if (a.profiles.size() > 1) c.deleted.push_back(a.profiles.back().iccid);
  c.remaining_memory = 4242;
  ASSERT_TRUE(registry_->apply(a.eid, c, 2000));
  const m2m::Eis cached = read();
  EXPECT_EQ(cached.profile(changed.iccid)->state, changed.state);
  ASSERT_TRUE(cached.profile(added.iccid));
  EXPECT_EQ(cached.remaining_memory, 4242);
  // Its key set stays with it.
  auto again = registry_->wake_up_key_set(a.eid);
  ASSERT_TRUE(again && *again);
  EXPECT_EQ((*again)->version, chosen->version);
  eis_cache_ = 0;
  reopen();
  EXPECT_EQ(read(), cached);
}

TEST_P(RegistryTest, TheWakeUpKeysAreTheChosenSetOfTheStoredKeysAndGoWithTheCachedEis) {
  for (const std::size_t cache : {std::size_t{0}, std::size_t{4}}) {
    SCOPED_TRACE(cache);
    with_reader_ = GetParam() == "sqlite";
    eis_cache_ = cache;
    reopen();
    m2m::Eis a = sample(cache == 0 ? "89049032123451234512345678901235" : "89049032123451234512345678901000");
    if (cache != 0)
      for (auto& p : a.profiles) p.iccid[17] = '9';
    ASSERT_TRUE(registry_->register_eis(a, 1000));
    const m2m::Scp80KeySet* chosen = choose_scp80_key_set(a.isd_r);
    ASSERT_TRUE(chosen);
    ASSERT_TRUE(a.isd_r.scp81_psk);
    const auto check = [&](const m2m::Eis& want) {
      auto keys = registry_->wake_up_keys(want.eid);
      ASSERT_TRUE(keys) << keys.error().message;
      ASSERT_TRUE(*keys);
      EXPECT_TRUE((*keys)->key_set == *choose_scp80_key_set(want.isd_r));
      EXPECT_TRUE((*keys)->has_psk);
      EXPECT_EQ((*keys)->psk_identity, want.isd_r.scp81_psk->identity);
    };
    check(a);
    check(a);  // the second from the cache when there is one
    // The accept path's key set agrees, and the cached EIS still holds no key.
    auto key_set = registry_->wake_up_key_set(a.eid);
    ASSERT_TRUE(key_set && *key_set);
    EXPECT_EQ((*key_set)->version, chosen->version);
    auto keyless = registry_->eis(a.eid, false);
    ASSERT_TRUE(keyless && *keyless);
    EXPECT_TRUE((*keyless)->isd_r.scp80_key_sets.empty());
    EXPECT_FALSE((*keyless)->isd_r.scp81_psk);
    // Unknown: none.
    auto unknown = registry_->wake_up_keys("89049032123451234512345678901243");
    ASSERT_TRUE(unknown);
    EXPECT_FALSE(*unknown);
    // Handed over (ES7): gone with the cached EIS; registered again with
    // other keys: those.
    Change gone;
    gone.handed_over = true;
    ASSERT_TRUE(registry_->apply(a.eid, gone, 2000));
    auto after = registry_->wake_up_keys(a.eid);
    ASSERT_TRUE(after);
    EXPECT_FALSE(*after);
    m2m::Eis again = a;
    for (auto& k : again.isd_r.scp80_key_sets) k.kic.front() ^= 0xFF;
    again.isd_r.scp81_psk->identity.back() ^= 0x01;
    ASSERT_TRUE(registry_->register_eis(again, 3000)) << "registered again";
    check(again);
  }
}

TEST_P(RegistryTest, AReaderOfItsOwnSeesOnlyCommittedChangesAndNeverWaitsForTheWriter) {
  with_reader_ = true;
  reopen();
  const m2m::Eis e = sample();
  ASSERT_TRUE(registry_->register_eis(e, 1000));
  ASSERT_TRUE(registry_->eis(e.eid) && *registry_->eis(e.eid));  // committed: the reader sees it
  m2m::ProfileInfo changed = e.profiles.front();
  changed.mno_id = "mno-changed";
  // A write transaction held open on the registry's connection, as while a
  // commit waits for its disk flush.
  auto tx = db_->begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(registry_->put_profile(e.eid, changed));
  auto read = std::async(std::launch::async, [&] { return registry_->eis(e.eid); });
  const bool ready = read.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  if (!ready) tx->rollback();  // lets the read end before the test does
  ASSERT_TRUE(ready) << "the read waited for the writer's transaction";
  auto before = read.get();
  ASSERT_TRUE(before && *before) << (before ? "" : before.error().message);
  ASSERT_TRUE((*before)->profile(changed.iccid));
  EXPECT_EQ((*before)->profile(changed.iccid)->mno_id, e.profiles.front().mno_id);  // not the uncommitted change
  ASSERT_TRUE(tx->commit());
  auto after = registry_->eis(e.eid);
  ASSERT_TRUE(after && *after && (*after)->profile(changed.iccid));
  EXPECT_EQ((*after)->profile(changed.iccid)->mno_id, "mno-changed");
}

TEST_P(RegistryTest, BufferedAuditLinesAreWrittenByTheRegistrysWriterWithinASecondOrWhenTheBatchIsFull) {
  const auto stored = [&] { return (*db_->query_one("SELECT COUNT(*) FROM smsr_audit"))->int64(0); };
  const auto wait_for = [&](std::int64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (stored() < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return stored();
  };
  // One line, nobody asks for the trail: written once it is a second old.
  registry_->audit_later({10, "mno1", "ES4.GetEIS", "E1", "", "Executed-Success"});
  EXPECT_EQ(wait_for(1), 1);
  // A full batch: written by the writer thread, not by the caller.
  for (int i = 0; i < 256; ++i) registry_->audit_later({11 + i, "mno1", "ES4.GetEIS", "E2", "", "Executed-Success"});
  EXPECT_EQ(wait_for(257), 257);
  // Lines still buffered at the end are written then.
  registry_->audit_later({300, "mno1", "ES4.GetEIS", "E3", "", "Executed-Success"});
  registry_.reset();
  EXPECT_EQ(stored(), 258);
}

// A change's commit is visible before its disk flush ends; the callback it
// queued is handed on once that flush is over (store: a claim waits for it),
// and the MNO may act on it at once. A read of that EIS then must not get the
// cached copy from before the change, which apply() updates only after
// commit() returns: while the flush runs, readers go to the database.
TEST(RegistryEisCache, AReadWhileAChangeIsFlushedSeesTheChange) {
  test_support::TempDir dir;
  const auto path = dir.path() / "flush.db";
  std::mutex mu;
  std::condition_variable cv;
  bool armed = false, holding = false, release = false;
  store::SqliteOptions so;
  so.before_unlocked_sync = [&] {
    std::unique_lock lock(mu);
    if (!armed) return;
    armed = false;
    holding = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  };
  auto writer = store::open_sqlite(path, so);
  ASSERT_TRUE(writer) << writer.error().message;
  auto reader = store::open_sqlite(path);
  ASSERT_TRUE(reader) << reader.error().message;
  crypto::DeterministicRandom rng{Bytes{0x46, 0x4c}};
  RegistryOptions o;
  o.kek = test_kek();
  o.rng = &rng;
  o.eis_cache = 16;
  o.reader = std::move(*reader);
  o.callback_url = [](const std::string& mno) { return "https://" + mno + ".example/callbacks"; };
  auto opened = Registry::open(std::shared_ptr<store::Database>(std::move(*writer)), std::move(o));
  ASSERT_TRUE(opened) << opened.error().message;
  auto& registry = **opened;
  const m2m::Eis a = sample();
  ASSERT_TRUE(registry.register_eis(a, 1000));
  const auto state_of = [&](const std::string& iccid) {
    auto r = registry.eis(a.eid);
    EXPECT_TRUE(r && *r);
    const m2m::ProfileInfo* p = r && *r ? (*r)->profile(iccid) : nullptr;
    return p ? p->state : m2m::ProfileState::Created;  // none: not what the test expects
  };
  m2m::ProfileInfo changed = a.profiles.front();
  const m2m::ProfileState before = state_of(changed.iccid);  // now cached
  changed.state = before == m2m::ProfileState::Enabled ? m2m::ProfileState::Disabled : m2m::ProfileState::Enabled;
  {
    std::lock_guard lock(mu);
    armed = true;
  }
  std::thread applying([&] {
    Change c;
    c.put.push_back(changed);
    EXPECT_TRUE(registry.apply(a.eid, c, 2000));
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return holding; });
  }
  // Committed, its flush held: the change is what a reader gets.
  EXPECT_EQ(state_of(changed.iccid), changed.state);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  applying.join();
  EXPECT_EQ(state_of(changed.iccid), changed.state);
}

TEST(RegistryOpen, NeedsADatabaseAndAKek) {
  EXPECT_FALSE(Registry::open(nullptr, RegistryOptions{test_kek(), nullptr, nullptr, {}}));
  test_support::TempDir dir;
  auto db = store::open_database((dir.path() / "r.db").string());
  ASSERT_TRUE(db);
  EXPECT_FALSE(Registry::open(std::move(*db), RegistryOptions{}));
}

INSTANTIATE_TEST_SUITE_P(Engines, RegistryTest, ::testing::Values("sqlite", "postgresql"), engine_name);

}  // namespace
}  // namespace rsp::smsr::testing
