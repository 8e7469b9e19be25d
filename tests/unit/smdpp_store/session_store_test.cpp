// Download sessions in the database: two SM-DP+ cores on one database (each
// with its own connection, catalog and session store, like two processes)
// continue each other's downloads; single use and expiry hold across them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "fixture.hpp"
#include "rsp/smdpp/session_store.hpp"
#include "rsp/smdpp/sql_catalog.hpp"
#include "world.hpp"

namespace rsp::smdpp::testing {
namespace {

using S = ProfileState;

/// One SM-DP+ instance: its own database connection over the shared file.
struct Instance {
  std::shared_ptr<store::Database> db;
  std::shared_ptr<SqlProfileCatalog> catalog;
  std::shared_ptr<SqlSessionStore> sessions;
  std::unique_ptr<Server> server;
};

struct TwoInstances : StoreWorld {
  ManualClock server_clock{std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now())};
  std::shared_ptr<const IdentitySet> ids;
  Instance a, b;

  explicit TwoInstances(bool ppk) {
    auto loaded = IdentitySet::load_directory(test_pki_dir());
    if (!loaded) std::abort();
    ids = std::make_shared<const IdentitySet>(std::move(*loaded));
    a = instance(ppk);
    b = instance(ppk);
  }
  Instance instance(bool ppk) {
    Instance i;
    auto d = store::open_sqlite(dir.path() / "smdpp.db");
    if (!d) std::abort();
    i.db = std::shared_ptr<store::Database>(std::move(*d));
    auto opened = Inventory::open(i.db, clock, {kek, &rng});
    if (!opened) std::abort();
    i.catalog = std::make_shared<SqlProfileCatalog>(*opened, rng, SqlCatalogOptions{ppk, 16});
    i.sessions = std::make_shared<SqlSessionStore>(i.db, ids);
    ServerConfig cfg;
    cfg.address = kAddress;
    i.server = std::make_unique<Server>(cfg, ids, i.catalog, server_clock, rng, i.sessions);
    return i;
  }
};

class SharedSessions : public ::testing::TestWithParam<bool> {};

TEST_P(SharedSessions, CallsAlternateBetweenInstances) {
  TwoInstances w(GetParam());
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.released_order(1, e.eid());
  auto init = w.a.server->initiate_authentication(e.initiate(kAddress));
  ASSERT_TRUE(init);
  EXPECT_EQ(w.b.server->session_count(), 1u);  // visible to the other instance
  auto auth = w.b.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_TRUE(auth) << auth.error().message;
  auto bpp = w.a.server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt));
  ASSERT_TRUE(bpp) << bpp.error().message << " " << w.a.catalog->last_error();
  auto upp = e.load_bpp(bpp->boundProfilePackage);
  ASSERT_TRUE(upp) << upp.error();
  EXPECT_EQ(*upp, test_upp(1));
  auto n = w.b.server->handle_notification(e.install_result(true));
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(w.state(test_iccid(1)), S::Installed);
  EXPECT_EQ(w.a.server->session_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Ppk, SharedSessions, ::testing::Bool());

TEST(SharedSessionStore, ATakenSessionCannotBeReplayedOnTheOtherInstance) {
  TwoInstances w(false);
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.released_order(1, e.eid());
  auto init = w.a.server->initiate_authentication(e.initiate(kAddress));
  ASSERT_TRUE(init);
  const auto request = *e.authenticate_server(*init, mid);
  ASSERT_TRUE(w.a.server->authenticate_client(request));
  auto replay = w.b.server->authenticate_client(request);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().subject_code, codes::kUnknownTransactionId.subject);
}

TEST(SharedSessionStore, ExpiryFollowsTheInjectedClock) {
  TwoInstances w(false);
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.released_order(1, e.eid());
  auto init = w.a.server->initiate_authentication(e.initiate(kAddress));
  ASSERT_TRUE(init);
  w.server_clock.advance(ServerConfig{}.session_timeout + std::chrono::seconds(1));
  auto late = w.b.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().subject_code, codes::kUnknownTransactionId.subject);
  // Expired rows are purged.
  auto again = w.a.server->initiate_authentication(e.initiate(kAddress));
  ASSERT_TRUE(again);
  w.server_clock.advance(ServerConfig{}.session_timeout + std::chrono::seconds(1));
  EXPECT_EQ(w.a.sessions->purge(w.server_clock.now()), 1u);
  EXPECT_EQ(w.b.sessions->count(), 0u);
}

// Whole seconds: a session is usable for its whole timeout (up to the end
// of the last second) and gone one second later. Before AuthenticateClient
// that is the short pending_session_timeout; from it on, session_timeout.
TEST(SharedSessionStore, ASessionLivesItsWholeTimeout) {
  const ServerConfig defaults;
  const auto pending = defaults.pending_session_timeout;
  const auto full = defaults.session_timeout;
  ASSERT_LT(pending, full);
  for (bool ppk : {false, true}) {
    TwoInstances w(ppk);
    TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
    const std::string mid = w.released_order(1, e.eid());
    auto init = w.a.server->initiate_authentication(e.initiate(kAddress));
    ASSERT_TRUE(init);
    w.server_clock.advance(pending);
    EXPECT_EQ(w.a.sessions->purge(w.server_clock.now()), 0u);
    EXPECT_TRUE(w.b.server->authenticate_client(*e.authenticate_server(*init, mid))) << ppk;
    // A session that never authenticates is gone after the pending timeout.
    auto again = w.a.server->initiate_authentication(e.initiate(kAddress));
    ASSERT_TRUE(again);
    w.server_clock.advance(pending + std::chrono::seconds(1));
    EXPECT_EQ(w.a.sessions->purge(w.server_clock.now()), 1u) << ppk;
    // The authenticated one lives session_timeout from AuthenticateClient on.
    w.server_clock.advance(full - pending - std::chrono::seconds(1));
    EXPECT_EQ(w.a.sessions->purge(w.server_clock.now()), 0u) << ppk;
    w.server_clock.advance(std::chrono::seconds(1));
    EXPECT_EQ(w.a.sessions->purge(w.server_clock.now()), 1u) << ppk;
    EXPECT_EQ(w.b.sessions->count(), 0u) << ppk;
  }
}

TEST(SharedSessionStore, RowsHoldNoPrivateKey) {
  TwoInstances w(true);
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.released_order(1, e.eid());
  auto init = w.a.server->initiate_authentication(e.initiate(kAddress));
  ASSERT_TRUE(init);
  auto auth = w.b.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_TRUE(auth);
  auto rows = w.a.db->query("SELECT data FROM smdpp_sessions");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  // Only public values: every field is one of these (no key, no profile data).
  const auto data = nlohmann::json::parse((*rows)[0].text(0));
  const std::set<std::string> allowed = {"v", "state", "transaction_id", "server_challenge", "identity",
                                         "identity_name", "expires", "peer", "requested_matching_id", "eid", "euicc_curve",
                                         "euicc_key", "smdp_signature2", "order"};
  for (const auto& item : data.items()) EXPECT_TRUE(allowed.count(item.key())) << item.key();
  for (const auto& item : data.at("order").items())
    EXPECT_TRUE((std::set<std::string>{"matching_id", "eid", "cc_hash", "cc_attempts_left"}.count(item.key())))
        << item.key();
  // The eUICC key is its public point (65 bytes uncompressed).
  EXPECT_EQ(data.at("euicc_key").get<std::string>().size(), 130u);
}

}  // namespace
}  // namespace rsp::smdpp::testing
