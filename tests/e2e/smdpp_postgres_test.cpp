// Two `rsp smdpp serve` instances on one PostgreSQL database serve one
// download whose ES9+ calls alternate between them; a call replayed on the
// other instance is refused. PostgreSQL comes from the Debian package, in a
// temporary folder (skipped with a message when it cannot start).

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <tuple>

#include "rsp/euicc/store.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/lpa/es10_channel.hpp"
#include "rsp/lpa/https_transport.hpp"
#include "rsp/messages/iccid.hpp"
#include "alternating_es9.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"
#include "simulated_card.hpp"
#include "test_support/pg_server.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;

const std::string kOperator = "pg-operator";
const std::string kAddress = "localhost";  // the DPtls name `rsp pki init` issues

class SmdppPostgres : public ::testing::Test {
 protected:
  /// One PostgreSQL server, one PKI, imported profiles and two SM-DP+
  /// instances for the whole suite; each test orders its own download.
  struct World {
    test_support::PgServer pg;
    TempDir dir;
    std::string url;
    std::unique_ptr<ServeProcess> a, b;
    std::string endpoint_a, endpoint_b;  ///< "127.0.0.1:PORT"
    std::string failure;                 ///< why the set-up failed
  };

  static void SetUpTestSuite() {
    world_ = new World();
    auto& w = *world_;
    if (!w.pg.ok() || !w.pg.create_database("smdpp")) return;
    w.url = w.pg.url("smdpp");
    const auto check = [&w](const RunResult& r, const char* what) {
      if (r.exit_code != 0 && w.failure.empty()) w.failure = std::string(what) + ": " + r.output;
      return r.exit_code == 0;
    };
    const std::string pki = (w.dir.path() / "pki").string();
    const std::string profiles = (w.dir.path() / "profiles").string();
    if (!check(rsp({"pki", "init", "--out", pki, "--curves", "nist"}), "pki init")) return;
    if (!check(rsp({"profile", "sample", "--out", profiles, "--count", "3", "--type", "pg"}), "profile sample")) return;
    // A shared database has no place beside it for the key-encryption key:
    // one key file, named by the import and by every instance.
    const std::string kek = (w.dir.path() / "smdpp.kek").string();
    if (!check(rsp({"smdpp", "keys", "init", "--out", kek}), "keys init")) return;
    if (!check(rsp({"smdpp", "profiles", "import", profiles, "--operator", kOperator, "--db", w.url, "--kek-file", kek}),
               "import"))
      return;
    const fs::path config = w.dir.path() / "smdpp.json";
    std::ofstream(config) << "{\"listen\": \"127.0.0.1:0\", \"address\": \"" << kAddress << "\", \"pki\": \"" << pki
                          << "\", \"database\": \"" << w.url << "\", \"kek_file\": \"" << kek << "\"}";
    w.a = std::make_unique<ServeProcess>(std::vector<std::string>{"--config", config.string()});
    w.b = std::make_unique<ServeProcess>(std::vector<std::string>{"--config", config.string()});
    const std::string url_a = w.a->url();
    const std::string url_b = w.b->url();
    if (url_a.empty() || url_b.empty()) {
      w.failure = "serve did not start:\n" + w.a->output() + "\n" + w.b->output();
      return;
    }
    w.endpoint_a = url_a.substr(url_a.find("://") + 3);
    w.endpoint_b = url_b.substr(url_b.find("://") + 3);
  }

  static void TearDownTestSuite() {
    delete world_;  // servers stop before PostgreSQL does
    world_ = nullptr;
  }

  void SetUp() override {
    if (!world_->pg.ok()) GTEST_SKIP() << "PostgreSQL not available: " << world_->pg.why();
    ASSERT_TRUE(world_->failure.empty()) << world_->failure;
    ASSERT_FALSE(world_->endpoint_a.empty());
  }

  /// A fresh eUICC and an order for its EID; returns the activation code.
  std::string order_for_new_card(const fs::path& card) {
    auto r = rsp({"euicc", "create", "--dir", card.string(), "--pki", (world_->dir.path() / "pki").string()});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::ifstream in(card / "identity" / "eid.txt");
    std::string eid;
    std::getline(in, eid);
    r = rsp({"smdpp", "order", "--db", world_->url, "--operator", kOperator, "--type", "pg", "--eid", eid, "--address",
             kAddress});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const auto at = r.output.find("LPA:1$");
    if (at == std::string::npos) return {};
    return r.output.substr(at, r.output.find('\n', at) - at);
  }

  static lpa::HttpsEs9Options options_for(const euicc::EuiccStore& store, const std::string& endpoint) {
    lpa::HttpsEs9Options o;
    auto id = store.identity();
    if (id)
      for (const auto& c : id->curves) o.trust_anchors.push_back(c.ci_cert);
    o.resolve[kAddress] = endpoint;
    return o;
  }

  static World* world_;
};

SmdppPostgres::World* SmdppPostgres::world_ = nullptr;

TEST_F(SmdppPostgres, OneDownloadAlternatesBetweenTwoInstances) {
  TempDir dir;
  const fs::path card_dir = dir.path() / "euicc";
  const std::string ac = order_for_new_card(card_dir);
  ASSERT_FALSE(ac.empty());

  auto store = euicc::EuiccStore::open(card_dir);
  ASSERT_TRUE(store) << store.error().message;
  lpa::HttpsEs9Transport to_a(options_for(*store, world_->endpoint_a));
  lpa::HttpsEs9Transport to_b(options_for(*store, world_->endpoint_b));
  AlternatingEs9 es9(to_a, to_b);
  SimulatedCard sim(*store);
  auto& es10 = sim.es10;
  ASSERT_TRUE(es10.select_isd_r());

  auto r = lpa::download_profile(ac, std::nullopt, es10, es9);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->notification_delivered);
  // initiateAuthentication (A), authenticateClient (B), getBoundProfilePackage (A), handleNotification (B).
  ASSERT_EQ(es9.served_by.size(), 4u);
  EXPECT_EQ(es9.served_by[0], "A:/gsma/rsp2/es9plus/initiateAuthentication");
  EXPECT_EQ(es9.served_by[1], "B:/gsma/rsp2/es9plus/authenticateClient");
  EXPECT_EQ(es9.served_by[2], "A:/gsma/rsp2/es9plus/getBoundProfilePackage");
  EXPECT_EQ(es9.served_by[3], "B:/gsma/rsp2/es9plus/handleNotification");

  const std::string iccid = messages::iccid_to_digits(r->iccid);
  auto listed = rsp({"smdpp", "profiles", "list", "--db", world_->url});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  const auto line_at = listed.output.find(iccid);
  ASSERT_NE(line_at, std::string::npos) << listed.output;
  const std::string line = listed.output.substr(line_at, listed.output.find('\n', line_at) - line_at);
  EXPECT_NE(line.find("installed"), std::string::npos) << listed.output;

  auto info = rsp({"euicc", "info", "--dir", card_dir.string()});
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find(iccid), std::string::npos) << info.output;
}

TEST_F(SmdppPostgres, ACallReplayedOnTheOtherInstanceIsRefused) {
  TempDir dir;
  const fs::path card_dir = dir.path() / "euicc";
  const std::string ac = order_for_new_card(card_dir);
  ASSERT_FALSE(ac.empty());

  auto store = euicc::EuiccStore::open(card_dir);
  ASSERT_TRUE(store) << store.error().message;
  lpa::HttpsEs9Transport to_a(options_for(*store, world_->endpoint_a));
  lpa::HttpsEs9Transport to_b(options_for(*store, world_->endpoint_b));
  AlternatingEs9 es9(to_a, to_b);
  es9.replay_path = "/authenticateClient";
  SimulatedCard sim(*store);
  auto& es10 = sim.es10;
  ASSERT_TRUE(es10.select_isd_r());

  // authenticateClient answered by B is sent again to A: the session was
  // taken once already, so A must not authenticate it a second time. A
  // replayed call ends the session, as on a single instance.
  (void)lpa::download_profile(ac, std::nullopt, es10, es9);
  ASSERT_TRUE(es9.replayed.has_value());
  ASSERT_TRUE(*es9.replayed) << (*es9.replayed).error().message;
  const auto& reply = **es9.replayed;
  EXPECT_NE(reply.body.find("\"Failed\""), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("8.10.1"), std::string::npos) << reply.body;
  EXPECT_EQ(reply.body.find("profileMetaData"), std::string::npos) << reply.body;
}

/// Stops the database right before one ES9+ function reaches the server, and
/// keeps every reply for the test to read.
class OutageEs9 final : public lpa::Es9Transport {
 public:
  OutageEs9(lpa::Es9Transport& next, test_support::PgServer& pg, std::string before) : next_(next), pg_(pg), before_(std::move(before)) {}

  expected<lpa::HttpReply, lpa::TransportError> post(std::string_view address, std::string_view path,
                                                     std::string_view body) override {
    if (!before_.empty() && path.ends_with(before_)) {
      paused = pg_.pause();
      before_.clear();
    }
    auto reply = next_.post(address, path, body);
    replies.emplace_back(std::string(path), reply ? reply->status : -1, reply ? reply->body : std::string());
    return reply;
  }

  bool paused = false;
  std::vector<std::tuple<std::string, int, std::string>> replies;  ///< path, HTTP status, body

 private:
  lpa::Es9Transport& next_;
  test_support::PgServer& pg_;
  std::string before_;
};

/// The database stops in the middle of a download: the LPA gets server errors
/// (never a refusal of its matchingId), the server stays up, nothing is
/// half-written (the profile is still released to this order), and once the
/// database is back the same server completes the download.
TEST_F(SmdppPostgres, ADatabaseOutageIsAServerErrorAndServiceResumes) {
  TempDir dir;
  const fs::path card_dir = dir.path() / "euicc";
  const std::string ac = order_for_new_card(card_dir);
  ASSERT_FALSE(ac.empty());
  auto store = euicc::EuiccStore::open(card_dir);
  ASSERT_TRUE(store) << store.error().message;
  lpa::HttpsEs9Transport to_a(options_for(*store, world_->endpoint_a));
  SimulatedCard sim(*store);
  auto& es10 = sim.es10;
  ASSERT_TRUE(es10.select_isd_r());

  OutageEs9 es9(to_a, world_->pg, "/getBoundProfilePackage");
  auto failed = lpa::download_profile(ac, std::nullopt, es10, es9);
  const bool resumed = world_->pg.resume();  // before any assertion can end the test with the database down
  ASSERT_TRUE(es9.paused);
  ASSERT_TRUE(resumed);
  ASSERT_FALSE(failed);
  bool saw_bpp_call = false;
  for (const auto& [path, status, body] : es9.replies) {
    if (!path.ends_with("/getBoundProfilePackage")) continue;
    saw_bpp_call = true;
    EXPECT_EQ(status, 500) << body;
    EXPECT_EQ(body.find("8.2.6"), std::string::npos) << body;
    EXPECT_EQ(body.find("storage"), std::string::npos) << body;  // the detail stays in the server's log
  }
  EXPECT_TRUE(saw_bpp_call);
  EXPECT_TRUE(world_->a->alive());

  // Nothing half-written: the profile is still released to this order.
  auto listed = rsp({"smdpp", "profiles", "list", "--db", world_->url});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("released"), std::string::npos) << listed.output;

  // The same server serves again: the download completes.
  OutageEs9 plain(to_a, world_->pg, "");
  auto again = lpa::download_profile(ac, std::nullopt, es10, plain);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_TRUE(again->notification_delivered);
  const std::string iccid = messages::iccid_to_digits(again->iccid);
  listed = rsp({"smdpp", "profiles", "list", "--db", world_->url});
  const auto line_at = listed.output.find(iccid);
  ASSERT_NE(line_at, std::string::npos) << listed.output;
  const std::string line = listed.output.substr(line_at, listed.output.find('\n', line_at) - line_at);
  EXPECT_NE(line.find("installed"), std::string::npos) << listed.output;
}

}  // namespace
}  // namespace rsp::e2e
