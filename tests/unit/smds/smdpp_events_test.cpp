// The SM-DP+'s ES12 calls to an SM-DS on HTTPS (SGP.22 v2.2.2 §3.6, §5.3.2,
// §5.7): ConfirmOrder with an smdsAddress registers the order's event once
// the profile is released; the download's completion, the order's
// cancellation or expiry deletes it; each call leaves from the durable
// outbox and is retried while the SM-DS is down.

#include <gtest/gtest.h>

#include "rsp/messages/iccid.hpp"
#include "rsp/net/client.hpp"
#include "rsp/service/caller_config.hpp"
#include "rsp/smdpp/es2_service.hpp"
#include "rsp/smdpp/smds_events.hpp"
#include "rsp/smds/http_service.hpp"
#include "world.hpp"

namespace rsp::smds {
namespace {

using testing::SmdsWorld;
using smdpp::ProfileState;
namespace fs = std::filesystem;

const char* const kEid = "89049032123451234512345678901235";
const std::string kSmdp = "smdp.test.example";

fs::path pki(const std::string& name) { return smdpp::testing::test_pki_dir() / name; }

net::TlsIdentity identity(const std::string& role) {
  auto id = net::TlsIdentity::load(pki("CERT_" + role + "_NIST.pem"), pki("SK_" + role + "_NIST.pem"));
  if (!id) throw std::runtime_error(id.error().message);
  return std::move(*id);
}

std::vector<Bytes> ci() {
  auto c = net::load_certificates(pki("CERT_CI_ECDSA_NIST.pem"));
  if (!c) throw std::runtime_error(c.error().message);
  return *c;
}

/// An SM-DS on HTTPS that knows the SM-DP+ by its DPtls certificate.
std::unique_ptr<HttpService> serve(SmdsWorld& w, int port = 0) {
  HttpConfig c;
  c.port = port;
  c.tls_identities.push_back(identity("S_SM_DS_TLS"));
  c.client_roots = ci();
  auto dp = net::load_certificates(pki("CERT_S_SM_DP_TLS_NIST.pem"));
  if (!dp) throw std::runtime_error(dp.error().message);
  auto auth = std::make_shared<service::CallerAuthenticator>(
      std::vector<service::CallerCredential>{{kSmdp, {}, {}, dp->front(), std::nullopt, {}}});
  c.authenticate = [auth](const net::Request& r) { return auth->authenticate(r); };
  auto s = HttpService::start(w.server, std::move(c));
  if (!s) throw std::runtime_error(s.error().message);
  return std::move(*s);
}

int port_of(const HttpService& s) { return std::stoi(s.url().substr(s.url().rfind(':') + 1)); }

/// The SM-DP+: its inventory with SM-DS events on, ES2+ and the ES12 worker.
struct Smdp {
  test_support::TempDir dir;
  service::ManualClock clock{std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now())};
  crypto::DeterministicRandom rng{Bytes{3, 1}};
  std::shared_ptr<smdpp::Inventory> inv;
  std::unique_ptr<smdpp::Es2Service> es2;
  std::unique_ptr<smdpp::SmdsEventWorker> worker;
  int next = 0;

  Smdp() {
    auto d = store::open_sqlite(dir.path() / "smdpp.db");
    if (!d) throw std::runtime_error(d.error().message);
    auto kek = std::make_shared<const smdpp::KeyEncryptionKey>(std::move(*smdpp::KeyEncryptionKey::make(Bytes(32, 0x4B))));
    auto i = smdpp::Inventory::open(std::shared_ptr<store::Database>(std::move(*d)), clock, {kek, &rng});
    if (!i) throw std::runtime_error(i.error().message);
    inv = *i;
    if (!inv->enable_smds_events(kSmdp)) throw std::runtime_error("enable_smds_events");
    es2 = std::make_unique<smdpp::Es2Service>(inv, smdpp::Es2Config{kSmdp, 3}, rng);
    smdpp::SmdsEventWorkerConfig c;
    c.client.trust_anchors = ci();
    c.client.identity = identity("S_SM_DP_TLS");
    c.client.connect_to = "127.0.0.1";
    c.client.timeout = std::chrono::milliseconds(3000);
    worker = std::make_unique<smdpp::SmdsEventWorker>(inv, std::move(c));
  }

  /// A profile ordered for kEid and confirmed with `smds` (released when `release`); {iccid, matchingId}.
  std::pair<std::string, std::string> order(const std::string& smds, bool release = true,
                                            std::optional<std::int64_t> expires_at = std::nullopt) {
    smdpp::ImportProfile p;
    p.operator_name = "op1";
    p.profile_type = "gold";
    const std::string n = std::to_string(++next);
    const std::string digits = "8949000000000000" + std::string(3 - n.size(), '0') + n;
    p.upp = smdpp::testing::make_test_upp(*messages::iccid_from_digits(digits), 16);
    auto iccid = inv->import_profile(p);
    if (!iccid) throw std::runtime_error(iccid.error().message);
    if (!es2->download_order("op1", {std::string(kEid), *iccid, std::nullopt})) throw std::runtime_error("order");
    smdpp::ConfirmOrderRequest cr;
    cr.iccid = *iccid;
    cr.smds_address = smds;
    cr.release_flag = release;
    cr.expires_at = expires_at;
    auto c = es2->confirm_order("op1", cr);
    if (!c) throw std::runtime_error(c.error().message);
    return {*iccid, c->matching_id};
  }
  std::size_t queued() { return inv->smds_outbox()->due()->size(); }
};

struct SmdppEvents : ::testing::Test {
  SmdsWorld smds{{}, "localhost"};
  std::unique_ptr<HttpService> http = serve(smds);
  std::string address = "localhost:" + std::to_string(port_of(*http));
  Smdp dp;

  std::vector<Event> events() { return *smds.events->for_eid(kEid); }
};

TEST_F(SmdppEvents, ConfirmOrderWithReleaseRegistersTheEventWithTheMatchingId) {
  auto [iccid, mid] = dp.order(address);
  EXPECT_TRUE(events().empty());  // queued, not yet sent
  EXPECT_EQ(dp.queued(), 1u);
  auto sent = dp.worker->run_once();
  ASSERT_TRUE(sent) << sent.error();
  EXPECT_EQ(*sent, 1u);
  auto e = events();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].event_id, mid);
  EXPECT_EQ(e[0].rsp_server_address, kSmdp);
  EXPECT_EQ(e[0].registrar, kSmdp);
  EXPECT_EQ(dp.queued(), 0u);
}

TEST_F(SmdppEvents, AConfirmedOrderRegistersOnlyWhenReleased) {
  auto [iccid, mid] = dp.order(address, false);
  EXPECT_EQ(dp.queued(), 0u);
  ASSERT_TRUE(dp.es2->release_profile("op1", iccid));
  ASSERT_EQ(*dp.worker->run_once(), 1u);
  ASSERT_EQ(events().size(), 1u);
}

TEST_F(SmdppEvents, AnOrderWithoutSmdsAddressQueuesNothing) {
  smdpp::ImportProfile p;
  auto [iccid, mid] = dp.order(address);
  ASSERT_EQ(*dp.worker->run_once(), 1u);
  // A second order with no smdsAddress.
  p.operator_name = "op1";
  p.upp = smdpp::testing::make_test_upp(*messages::iccid_from_digits("8949000000000000999"), 16);
  auto other = dp.inv->import_profile(p);
  ASSERT_TRUE(other);
  ASSERT_TRUE(dp.es2->download_order("op1", {std::string(kEid), *other, std::nullopt}));
  smdpp::ConfirmOrderRequest cr;
  cr.iccid = *other;
  cr.release_flag = true;
  ASSERT_TRUE(dp.es2->confirm_order("op1", cr));
  EXPECT_EQ(dp.queued(), 0u);
}

TEST_F(SmdppEvents, TheInstalledProfileDeletesItsEvent) {
  auto [iccid, mid] = dp.order(address);
  ASSERT_EQ(*dp.worker->run_once(), 1u);
  ASSERT_TRUE(dp.inv->transition(iccid, ProfileState::Downloaded, "test: BPP issued"));
  EXPECT_EQ(dp.queued(), 0u);  // still downloading: the event stays
  ASSERT_TRUE(dp.inv->transition(iccid, ProfileState::Installed, "test: installed"));
  EXPECT_EQ(dp.queued(), 1u);
  ASSERT_EQ(*dp.worker->run_once(), 1u);
  EXPECT_TRUE(events().empty());
}

TEST_F(SmdppEvents, CancelOrderDeletesTheEvent) {
  auto [iccid, mid] = dp.order(address);
  auto [other, other_mid] = dp.order(address);
  ASSERT_EQ(*dp.worker->run_once(), 2u);
  ASSERT_TRUE(dp.es2->cancel_order("op1", {iccid, std::nullopt, std::nullopt, smdpp::FinalProfileStatus::Available}));
  ASSERT_EQ(*dp.worker->run_once(), 1u);
  auto e = events();
  ASSERT_EQ(e.size(), 1u);  // only the cancelled order's
  EXPECT_EQ(e[0].event_id, other_mid);
}

TEST_F(SmdppEvents, ACancelBeforeTheEventWasSentStillEndsWithNoEvent) {
  auto [iccid, mid] = dp.order(address);
  ASSERT_TRUE(dp.es2->cancel_order("op1", {iccid, std::nullopt, std::nullopt, smdpp::FinalProfileStatus::Available}));
  EXPECT_EQ(dp.queued(), 2u);  // register, then delete, in that order on one lane
  ASSERT_EQ(*dp.worker->run_once(), 2u);
  EXPECT_TRUE(events().empty());
}

TEST_F(SmdppEvents, AnExpiredOrderDeletesItsEvent) {
  const std::int64_t now = dp.inv->now();
  auto [iccid, mid] = dp.order(address, true, now + 60);
  ASSERT_EQ(*dp.worker->run_once(), 1u);
  ASSERT_EQ(events().size(), 1u);
  ASSERT_EQ(*dp.worker->run_once(), 0u);  // not yet expired
  dp.clock.advance(std::chrono::seconds(61));
  ASSERT_EQ(*dp.worker->run_once(), 1u);
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(*dp.inv->expire_smds_events(), 0u);  // once only
}

TEST_F(SmdppEvents, ADeleteTheSmdsDoesNotKnowCountsAsDone) {
  auto [iccid, mid] = dp.order(address);
  ASSERT_EQ(*dp.worker->run_once(), 1u);
  ASSERT_TRUE(smds.events->remove(kSmdp, kEid, mid));  // gone already (e.g. an answer that was lost)
  ASSERT_TRUE(dp.es2->cancel_order("op1", {iccid, std::nullopt, std::nullopt, smdpp::FinalProfileStatus::Available}));
  EXPECT_EQ(*dp.worker->run_once(), 1u);
  EXPECT_EQ(dp.queued(), 0u);
}

TEST_F(SmdppEvents, WhileTheSmdsIsDownTheRegistrationIsRetriedWithBackOff) {
  const int port = port_of(*http);
  http->stop();
  http.reset();
  auto [iccid, mid] = dp.order(address);
  EXPECT_EQ(*dp.worker->run_once(), 0u);
  EXPECT_EQ(dp.worker->outbox_worker().failed_attempts(), 1u);
  EXPECT_EQ(dp.queued(), 0u);  // waiting for its back-off
  http = serve(smds, port);
  EXPECT_EQ(*dp.worker->run_once(), 0u);  // not due yet
  dp.clock.advance(std::chrono::seconds(31));
  EXPECT_EQ(*dp.worker->run_once(), 1u);
  ASSERT_EQ(events().size(), 1u);
}

TEST_F(SmdppEvents, AnSmdsThatDoesNotKnowThisSmdpKeepsTheEntryWithItsError) {
  SmdsWorld stranger{{}, "localhost"};
  HttpConfig c;
  c.tls_identities.push_back(identity("S_SM_DS_TLS"));
  c.client_roots = ci();
  auto auth = std::make_shared<service::CallerAuthenticator>(std::vector<service::CallerCredential>{});
  c.authenticate = [auth](const net::Request& r) { return auth->authenticate(r); };
  auto other = HttpService::start(stranger.server, std::move(c));
  ASSERT_TRUE(other);
  auto [iccid, mid] = dp.order("localhost:" + std::to_string(port_of(**other)));
  EXPECT_EQ(*dp.worker->run_once(), 0u);
  EXPECT_EQ(dp.worker->outbox_worker().failed_attempts(), 1u);
  EXPECT_TRUE(stranger.events->for_eid(kEid)->empty());
}

}  // namespace
}  // namespace rsp::smds
