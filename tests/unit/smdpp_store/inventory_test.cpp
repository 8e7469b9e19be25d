// SM-DP+ inventory: schema migrations, import, states and their history.
#include <gtest/gtest.h>

#include "rsp/asn1/upp.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/smdpp/es2_codes.hpp"
#include "rsp/store/migrate.hpp"
#include "world.hpp"

namespace rsp::smdpp::testing {
namespace {

using S = ProfileState;

TEST(Inventory, MigrationsAreIdempotent) {
  StoreWorld w;
  const std::string iccid = w.add(1);
  EXPECT_EQ(*store::schema_version(*w.db, kSchemaComponent), inventory_migrations().back().version);
  w.reopen();  // migrates again: nothing changes, data kept
  w.reopen();
  EXPECT_EQ(*store::schema_version(*w.db, kSchemaComponent), inventory_migrations().back().version);
  EXPECT_EQ((*w.db->query("SELECT count(*) FROM schema_versions WHERE component = 'smdpp'"))[0].int64(0),
            static_cast<std::int64_t>(inventory_migrations().size()));
  EXPECT_EQ(w.state(iccid), S::Available);
}

TEST(Inventory, PackagesWrittenBeforeVersion4MoveToTheirOwnTable) {
  test_support::TempDir dir;
  ManualClock clock{TimePoint{std::chrono::seconds(1'800'000'000)}};
  auto opened = store::open_sqlite(dir.path() / "old.db");
  ASSERT_TRUE(opened);
  std::shared_ptr<store::Database> db(std::move(*opened));
  ASSERT_TRUE(store::migrate(*db, kSchemaComponent, inventory_migrations().first(3)));
  // A profile as versions 1-3 stored it: the package inside the profile row.
  ASSERT_TRUE(db->execute("INSERT INTO operators (name, created_at) VALUES ('op1', 1)"));
  ASSERT_TRUE(db->execute("INSERT INTO profiles (iccid, operator_id, profile_type, state, upp, created_at, updated_at)"
                          " VALUES ($1, 1, 'gold', 'available', $2, 1, 1)",
                          {store::value(test_iccid(5)), store::value(test_upp(5))}));
  auto inv = Inventory::open(db, clock);
  ASSERT_TRUE(inv);
  EXPECT_EQ(*store::schema_version(*db, kSchemaComponent), inventory_migrations().back().version);
  EXPECT_EQ(*(*inv)->profile_package(test_iccid(5)), test_upp(5));
  auto row = db->query_one("SELECT length(upp) FROM profiles WHERE iccid = $1", {store::value(test_iccid(5))});
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->int64(0), 0);  // no longer rewritten with every state change
  EXPECT_EQ((*(*inv)->profile(test_iccid(5)))->state, S::Available);
}

TEST(Inventory, Version5IndexesTheAvailableProfilesApartFromTheirState) {
  test_support::TempDir dir;
  ManualClock clock{TimePoint{std::chrono::seconds(1'800'000'000)}};
  crypto::DeterministicRandom rng{Bytes{5, 5}};
  auto opened = store::open_sqlite(dir.path() / "old.db");
  ASSERT_TRUE(opened);
  std::shared_ptr<store::Database> db(std::move(*opened));
  ASSERT_TRUE(store::migrate(*db, kSchemaComponent, inventory_migrations().first(4)));
  // Profiles as version 4 indexed them: by operator, type and state.
  ASSERT_TRUE(db->execute("INSERT INTO operators (name, created_at) VALUES ('op1', 1)"));
  const std::pair<int, const char*> stored[] = {{3, "installed"}, {4, "available"}, {2, "available"}, {1, "released"}};
  for (const auto& [n, state] : stored) {
    ASSERT_TRUE(db->execute("INSERT INTO profiles (iccid, operator_id, profile_type, state, upp, created_at, updated_at)"
                            " VALUES ($1, 1, 'gold', $2, $3, 1, 1)",
                            {store::value(test_iccid(n)), store::value(state), store::value(Bytes{})}));
    ASSERT_TRUE(db->execute("INSERT INTO profile_packages (iccid, upp) VALUES ($1, $2)",
                            {store::value(test_iccid(n)), store::value(test_upp(n))}));
  }
  auto inv = Inventory::open(db, clock);
  ASSERT_TRUE(inv);
  EXPECT_EQ(*store::schema_version(*db, kSchemaComponent), inventory_migrations().back().version);
  auto indexes = db->query("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'profiles'"
                           " AND name NOT LIKE 'sqlite_%' ORDER BY name");
  ASSERT_TRUE(indexes);
  ASSERT_EQ(indexes->size(), 2u);
  EXPECT_EQ((*indexes)[0].text(0), "profiles_available");
  EXPECT_EQ((*indexes)[1].text(0), "profiles_by_type");

  // DownloadOrder by type still takes the lowest available ICCID, then the next,
  // then finds the type known but exhausted.
  Es2Service es2(*inv, Es2Config{"smdp.test.example", 3}, rng);
  auto first = es2.download_order("op1", {std::nullopt, std::nullopt, std::string("gold")});
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, test_iccid(2));
  auto second = es2.download_order("op1", {std::nullopt, std::nullopt, std::string("gold")});
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, test_iccid(4));
  auto none = es2.download_order("op1", {std::nullopt, std::nullopt, std::string("gold")});
  ASSERT_FALSE(none);
  EXPECT_TRUE(is(none.error(), es2codes::kProfileTypeUnavailable));
}

TEST(Inventory, EidShape) {
  EXPECT_TRUE(is_valid_eid(kEid));
  EXPECT_FALSE(is_valid_eid("8904903212345123451234567890123"));
}

TEST(Inventory, ImportListAndDuplicates) {
  StoreWorld w;
  EXPECT_EQ(w.add(2, "op1", "gold"), test_iccid(2));
  w.add(1, "op1", "silver");
  w.add(3, "op2", "gold");
  auto all = w.inv->list_profiles();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].iccid, test_iccid(1));  // ordered by ICCID
  EXPECT_EQ((*all)[0].profile_type, "silver");
  EXPECT_EQ((*all)[0].service_provider_name, "op1");
  auto op2 = w.inv->list_profiles(std::string("op2"));
  ASSERT_TRUE(op2);
  ASSERT_EQ(op2->size(), 1u);
  EXPECT_EQ((*op2)[0].operator_name, "op2");
  EXPECT_EQ(*w.inv->profile_package(test_iccid(3)), test_upp(3));

  ImportProfile dup{"op2", "gold", test_upp(2), {}, "{}"};
  auto r = w.inv->import_profile(dup);
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), es2codes::kIccidInUse));
  EXPECT_EQ((*w.inv->profile(test_iccid(2)))->operator_name, "op1");  // untouched
}

TEST(Inventory, MalformedPackagesAreRefusedWithAReason) {
  StoreWorld w;
  for (const Bytes& bad : {Bytes{}, Bytes{0x30, 0x03, 0x01}, Bytes{0xA0, 0x00}, to_bytes("not a profile")}) {
    ImportProfile p{"op1", "", bad, {}, "{}"};
    auto r = w.inv->import_profile(p);
    ASSERT_FALSE(r);
    EXPECT_TRUE(is(r.error(), codes::kInvalidRequest));
    EXPECT_FALSE(r.error().message.empty());
  }
  // A package cut before its End element.
  Bytes cut = test_upp(1);
  auto one = asn1::decode_profile_package(cut);
  ASSERT_TRUE(one);
  one->pop_back();
  ImportProfile p{"op1", "", asn1::encode_profile_package(*one), {}, "{}"};
  auto r = w.inv->import_profile(p);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("End"), std::string::npos);
  EXPECT_TRUE(w.inv->list_profiles()->empty());
}

TEST(Inventory, TypeDefaultsToTheHeaderThenDefault) {
  StoreWorld w;
  // The header's profileType when --type is not given.
  auto pes = asn1::decode_profile_package(test_upp(1));
  ASSERT_TRUE(pes);
  auto& header = const_cast<asn1::saip::ProfileHeader&>(*pes->front().header());
  header.profileType = "from-header";
  ImportProfile p{"op1", "", asn1::encode_profile_package(*pes), {}, "{}"};
  ASSERT_TRUE(w.inv->import_profile(p));
  EXPECT_EQ((*w.inv->profile(test_iccid(1)))->profile_type, "from-header");
  // Neither: "default".
  header.profileType.reset();
  header.iccid = *messages::iccid_from_digits(test_iccid(2));
  p.upp = asn1::encode_profile_package(*pes);
  ASSERT_TRUE(w.inv->import_profile(p));
  EXPECT_EQ((*w.inv->profile(test_iccid(2)))->profile_type, "default");
}

TEST(Inventory, TransitionTable) {
  EXPECT_TRUE(transition_allowed(S::Available, S::Allocated));
  EXPECT_TRUE(transition_allowed(S::Available, S::Linked));
  EXPECT_FALSE(transition_allowed(S::Available, S::Released));
  EXPECT_TRUE(transition_allowed(S::Linked, S::Released));
  EXPECT_TRUE(transition_allowed(S::Confirmed, S::Released));
  EXPECT_TRUE(transition_allowed(S::Released, S::Downloaded));
  EXPECT_TRUE(transition_allowed(S::Downloaded, S::Installed));
  EXPECT_TRUE(transition_allowed(S::Downloaded, S::Error));
  EXPECT_TRUE(transition_allowed(S::Error, S::Available));
  EXPECT_FALSE(transition_allowed(S::Installed, S::Available));
  EXPECT_FALSE(transition_allowed(S::Unavailable, S::Available));
  EXPECT_FALSE(transition_allowed(S::Downloaded, S::Released));
  for (int i = 0; i <= static_cast<int>(S::Unavailable); ++i) {
    const auto s = static_cast<S>(i);
    EXPECT_EQ(profile_state_from_string(to_string(s)), s);
    EXPECT_FALSE(transition_allowed(s, s));
  }
  EXPECT_FALSE(profile_state_from_string("bogus"));
}

TEST(Inventory, TransitionsAreRecordedAndIllegalOnesRefused) {
  StoreWorld w;
  const std::string iccid = w.add(1);
  ASSERT_TRUE(w.inv->transition(iccid, S::Allocated, "test allocate"));
  w.clock.advance(std::chrono::seconds(5));
  auto bad = w.inv->transition(iccid, S::Installed, "skip ahead");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(is(bad.error(), es2codes::kIccidInvalidTransition));
  EXPECT_EQ(w.state(iccid), S::Allocated);
  ASSERT_TRUE(w.inv->transition(iccid, S::Released, "test release"));
  auto h = w.inv->history(iccid);
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ((*h)[0].from, std::nullopt);
  EXPECT_EQ((*h)[0].to, S::Available);
  EXPECT_EQ((*h)[0].cause, "imported");
  EXPECT_EQ((*h)[1].from, S::Available);
  EXPECT_EQ((*h)[1].to, S::Allocated);
  EXPECT_EQ((*h)[1].at, 1'800'000'000);
  EXPECT_EQ((*h)[2].to, S::Released);
  EXPECT_EQ((*h)[2].cause, "test release");
  EXPECT_EQ((*h)[2].at, 1'800'000'005);
  auto unknown = w.inv->transition(test_iccid(9), S::Allocated, "x");
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(is(unknown.error(), es2codes::kIccidUnknown));
}

TEST(Inventory, InterruptedTransactionLeavesNothing) {
  StoreWorld w;
  const std::string iccid = w.add(1);
  {
    auto tx = w.db->begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(w.inv->transition(iccid, S::Allocated, "interrupted"));
    ASSERT_TRUE(w.inv->enqueue_progress(iccid, "{}"));
    EXPECT_EQ(w.state(iccid), S::Allocated);  // visible inside the transaction
    // destroyed without commit, as when the process stops half way
  }
  EXPECT_EQ(w.state(iccid), S::Available);
  EXPECT_EQ(w.inv->history(iccid)->size(), 1u);
  EXPECT_TRUE(w.inv->due_outbox()->empty());
  w.reopen();
  EXPECT_EQ(w.state(iccid), S::Available);
  EXPECT_EQ(w.inv->history(iccid)->size(), 1u);
}

// Instances sharing a database take an entry one at a time: a claimed entry
// is not due for anyone until its lease ends (its sender may have died).
TEST(Inventory, ClaimedOutboxEntriesAreLeased) {
  StoreWorld w;
  const std::string iccid = w.add(1);
  ASSERT_TRUE(w.inv->enqueue_progress(iccid, "{}"));
  ASSERT_TRUE(w.inv->enqueue_progress(iccid, "{}"));
  auto outbox = w.inv->callback_outbox();
  auto first = outbox->claim_next("op1", std::chrono::seconds(120), "a");
  ASSERT_TRUE(first);
  ASSERT_TRUE(*first);
  auto second = outbox->claim_next("op1", std::chrono::seconds(120), "b");
  ASSERT_TRUE(second);
  ASSERT_TRUE(*second);
  EXPECT_NE((*second)->id, (*first)->id);
  EXPECT_FALSE(*outbox->claim_next("op1", std::chrono::seconds(120), "c"));
  ASSERT_TRUE(outbox->delivered(**first));
  w.clock.advance(std::chrono::seconds(120));
  auto again = outbox->claim_next("op1", std::chrono::seconds(120), "d");
  ASSERT_TRUE(again);
  ASSERT_TRUE(*again);  // only the undelivered one, after its lease
  EXPECT_EQ((*again)->id, (*second)->id);
  EXPECT_FALSE(*outbox->claim_next("op1", std::chrono::seconds(120), "e"));
}

// The callbacks wait in the service kit's outbox; the destination is the
// operator's callback URL as configured when an entry is sent.
TEST(Inventory, OutboxRetriesWithBackOffAndGivesUp) {
  StoreWorld w;
  const std::string iccid = w.add(1);
  ASSERT_TRUE(w.inv->enqueue_progress(iccid, R"({"iccid":"x"})"));
  ASSERT_TRUE(w.inv->set_callback_url("op1", "https://op1.example/es2plus"));
  OutboxPolicy policy;
  policy.max_attempts = 3;
  auto outbox = w.inv->callback_outbox();
  int calls = 0;
  auto attempt = [&](bool ok) {
    auto due = outbox->due_recipients(10);
    EXPECT_TRUE(due);
    if (!due || due->empty()) return;
    EXPECT_EQ(*due, std::vector<std::string>{"op1"});
    auto item = outbox->claim_next("op1", policy.first_delay, "claim-" + std::to_string(calls));
    ASSERT_TRUE(item && *item);
    ++calls;
    EXPECT_EQ((*item)->destination, "https://op1.example/es2plus");
    EXPECT_EQ((*item)->recipient, "op1");
    EXPECT_TRUE(ok ? *outbox->delivered(**item) : *outbox->failed(**item, "delivery failed", policy));
  };
  attempt(false);
  EXPECT_EQ(calls, 1);
  attempt(false);  // not due yet
  EXPECT_EQ(calls, 1);
  w.clock.advance(std::chrono::seconds(30));
  attempt(false);
  EXPECT_EQ(calls, 2);
  w.clock.advance(std::chrono::seconds(59));
  EXPECT_TRUE(w.inv->due_outbox()->empty());  // second delay is 60 s
  w.clock.advance(std::chrono::seconds(1));
  attempt(false);
  EXPECT_EQ(calls, 3);
  w.clock.advance(std::chrono::hours(2));
  EXPECT_TRUE(w.inv->due_outbox()->empty());  // given up after 3 attempts
  auto row = w.db->query_one("SELECT status, attempts FROM service_outbox");
  EXPECT_EQ((*row)->text(0), "failed");
  EXPECT_EQ((*row)->int64(1), 3);

  ASSERT_TRUE(w.inv->enqueue_progress(iccid, "{}"));
  auto due = w.inv->due_outbox();
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].callback_url, std::optional<std::string>("https://op1.example/es2plus"));
  attempt(true);
  EXPECT_EQ(calls, 4);
  EXPECT_TRUE(w.inv->due_outbox()->empty());
}

// /healthz commits a row: a database that cannot take a write is reported.
// A trigger that raises stands in for a full disk or a database that went
// read-only (root, who runs the tests, writes through file modes).
TEST(Inventory, CheckWritableCommitsAndReportsAFailure) {
  StoreWorld w;
  ASSERT_TRUE(w.inv->check_writable());
  ASSERT_TRUE(w.inv->check_writable());  // the same row again
  ASSERT_TRUE(w.db->execute_script(
      "CREATE TRIGGER probe_fails_insert BEFORE INSERT ON health_probe BEGIN SELECT RAISE(ABORT, 'disk full'); END;"
      "CREATE TRIGGER probe_fails_update BEFORE UPDATE ON health_probe BEGIN SELECT RAISE(ABORT, 'disk full'); END;"));
  auto r = w.inv->check_writable();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("disk full"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace rsp::smdpp::testing
