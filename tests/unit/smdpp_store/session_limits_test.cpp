// InitiateAuthentication needs no credentials, so a flood of it must not lock
// genuine eUICCs out: sessions waiting for AuthenticateClient are short-lived,
// bounded per peer address, and the oldest of them give way; sessions past
// AuthenticateClient are never pushed out. Run on the in-memory store (one
// instance) and the SQL store (instances sharing a database).
#include <gtest/gtest.h>

#include "fixture.hpp"
#include "rsp/smdpp/session_store.hpp"
#include "rsp/smdpp/sql_catalog.hpp"
#include "world.hpp"

namespace rsp::smdpp::testing {
namespace {

enum class StoreKind { Memory, Sql };

struct LimitsWorld : StoreWorld {
  ManualClock server_clock{std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now())};
  std::shared_ptr<const IdentitySet> ids;
  std::shared_ptr<SqlProfileCatalog> catalog;
  std::shared_ptr<SessionStore> sessions;
  std::unique_ptr<Server> server;

  LimitsWorld(StoreKind kind, std::size_t max_sessions, double share) {
    auto loaded = IdentitySet::load_directory(test_pki_dir());
    if (!loaded) std::abort();
    ids = std::make_shared<const IdentitySet>(std::move(*loaded));
    catalog = std::make_shared<SqlProfileCatalog>(inv, rng, SqlCatalogOptions{false, 16});
    if (kind == StoreKind::Sql)
      sessions = std::make_shared<SqlSessionStore>(db, ids);
    else
      sessions = std::make_shared<MemorySessionStore>();
    ServerConfig cfg;
    cfg.address = kAddress;
    cfg.max_sessions = max_sessions;
    cfg.peer_session_share = share;
    server = std::make_unique<Server>(cfg, ids, catalog, server_clock, rng, sessions);
  }
  /// `n` InitiateAuthentication calls from `peer` that never go further.
  void flood(TestEuicc& attacker, int n, const std::string& peer) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(server->initiate_authentication(attacker.initiate(kAddress), peer)) << i;
  }
  /// A whole download by `e` from `peer`; empty on success, else the failure.
  std::string download(TestEuicc& e, const std::string& mid, const std::string& peer) {
    auto init = server->initiate_authentication(e.initiate(kAddress), peer);
    if (!init) return "initiateAuthentication: " + init.error().message;
    auto auth = server->authenticate_client(*e.authenticate_server(*init, mid));
    if (!auth) return "authenticateClient: " + auth.error().message;
    auto bpp = server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt));
    if (!bpp) return "getBoundProfilePackage: " + bpp.error().message;
    if (auto upp = e.load_bpp(bpp->boundProfilePackage); !upp) return "load: " + upp.error();
    auto n = server->handle_notification(e.install_result(true));
    if (!n) return "handleNotification: " + n.error().message;
    return {};
  }
};

class SessionLimits : public ::testing::TestWithParam<StoreKind> {};

TEST_P(SessionLimits, AFloodFromOnePeerLeavesRoomForOthers) {
  LimitsWorld w(GetParam(), 40, 0.25);  // 10 waiting sessions per peer
  TestEuicc attacker(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  TestEuicc genuine(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.released_order(1, genuine.eid());
  w.flood(attacker, 400, "198.51.100.7");
  EXPECT_EQ(w.sessions->count(), 10u);  // the flooding peer holds its share, no more
  EXPECT_EQ(w.download(genuine, mid, "203.0.113.20"), "");
  EXPECT_EQ(w.state(test_iccid(1)), ProfileState::Installed);
}

TEST_P(SessionLimits, AFloodFromTheSamePeerStillLetsAGenuineDownloadThrough) {
  // A genuine device behind the flooding address (one NAT): its session is
  // the newest, and the oldest waiting ones give way.
  LimitsWorld w(GetParam(), 40, 0.25);
  TestEuicc attacker(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  TestEuicc genuine(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.released_order(1, genuine.eid());
  w.flood(attacker, 400, "198.51.100.7");
  EXPECT_EQ(w.download(genuine, mid, "198.51.100.7"), "");
}

TEST_P(SessionLimits, ManyFloodingPeersPushOutOnlyWaitingSessions) {
  LimitsWorld w(GetParam(), 20, 0.5);
  TestEuicc attacker(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  TestEuicc genuine(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.released_order(1, genuine.eid());
  // The genuine eUICC authenticates, then 100 peers flood the table.
  auto init = w.server->initiate_authentication(genuine.initiate(kAddress), "203.0.113.20");
  ASSERT_TRUE(init);
  auto auth = w.server->authenticate_client(*genuine.authenticate_server(*init, mid));
  ASSERT_TRUE(auth) << auth.error().message;
  for (int p = 0; p < 100; ++p) w.flood(attacker, 3, "198.51.100." + std::to_string(p));
  EXPECT_EQ(w.sessions->count(), 20u);
  // Its session survived: the download completes.
  auto bpp = w.server->get_bound_profile_package(*genuine.prepare_download(*auth, std::nullopt));
  ASSERT_TRUE(bpp) << bpp.error().message;
  ASSERT_TRUE(genuine.load_bpp(bpp->boundProfilePackage));
  ASSERT_TRUE(w.server->handle_notification(genuine.install_result(true)));
  EXPECT_EQ(w.state(test_iccid(1)), ProfileState::Installed);
}

TEST_P(SessionLimits, WaitingSessionsEndAfterThePendingTimeout) {
  LimitsWorld w(GetParam(), 1000, 0.1);
  TestEuicc attacker(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  w.flood(attacker, 50, "198.51.100.7");
  EXPECT_EQ(w.sessions->count(), 50u);
  w.server_clock.advance(ServerConfig{}.pending_session_timeout + std::chrono::seconds(1));
  EXPECT_EQ(w.sessions->purge(w.server_clock.now()), 50u);
}

TEST_P(SessionLimits, ATableOfAuthenticatedSessionsRefusesNewOnes) {
  LimitsWorld w(GetParam(), 2, 1.0);
  TestEuicc a(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  TestEuicc b(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  TestEuicc c(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid_a = w.released_order(1, a.eid());
  const std::string mid_b = w.released_order(2, b.eid());
  for (auto [e, mid] : {std::pair{&a, mid_a}, std::pair{&b, mid_b}}) {
    auto init = w.server->initiate_authentication(e->initiate(kAddress), "203.0.113.20");
    ASSERT_TRUE(init);
    ASSERT_TRUE(w.server->authenticate_client(*e->authenticate_server(*init, mid)));
  }
  auto refused = w.server->initiate_authentication(c.initiate(kAddress), "198.51.100.7");
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), codes::kExecutionError)) << refused.error().message;
  EXPECT_EQ(w.sessions->count(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Stores, SessionLimits, ::testing::Values(StoreKind::Memory, StoreKind::Sql),
                         [](const auto& test_info) { return test_info.param == StoreKind::Memory ? "Memory" : "Sql"; });

}  // namespace
}  // namespace rsp::smdpp::testing
