// kill -9 of `rsp smdpp serve` in the middle of a download (SGP.22 §3.1.3):
// the LPA (lpa library, in this process, with a real simulated eUICC) talks
// ES9+ over HTTPS to the server process; a transport wrapper kills the server
// at a chosen point and restarts it on the same database. Afterwards the
// profile is installed on the card exactly once, never released to anyone
// else, and the inventory's recorded transitions form one consistent chain.
// The same set-up checks the session_timeout configuration key, and the
// retry of a load cut off mid-way (SGP.22 v2.2.2 §5.6.2, §5.7.5) with the
// server killed at each point of that retry: the package is bound again with
// the one-time keys of the first one, which survive kill -9 in the database.

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <thread>

#include "rsp/euicc/store.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/lpa/es10_channel.hpp"
#include "rsp/lpa/https_transport.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/smdpp/inventory.hpp"
#include "rsp/store/sqlite.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"
#include "simulated_card.hpp"
#include "test_support/download_faults.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using smdpp::ProfileState;

/// Where the server dies.
enum class Crash {
  AfterInitiateAuthentication,  ///< its answer reached the LPA
  AfterAuthenticateClient,
  BppAnswerLost,                ///< BPP issued and stored, the answer never arrives
  AfterBppBeforeNotification,   ///< the card installs the BPP; the result goes to the restarted server
  /// The installation result was acknowledged (204), recorded without a disk
  /// flush of its own (issue 16: one flush per download): kill -9 must not lose it.
  AfterInstallationResult,
};

struct CrashCase {
  Crash crash;
  const char* name;
  /// A first download whose load into the card was cut off mid-way (the LPA
  /// gone, nothing cancelled); the crash then hits the retry.
  bool load_cut_first = false;
};
void PrintTo(const CrashCase& c, std::ostream* os) { *os << c.name; }

lpa::DownloadError setup_error(std::string message) {
  lpa::DownloadError e;
  e.message = std::move(message);
  return e;
}

std::string read_text(const fs::path& f) {
  std::ifstream in(f);
  std::string s;
  std::getline(in, s);
  return s;
}

/// The SM-DP+ process and the ES9+ transport to its current incarnation.
class Smdpp {
 public:
  explicit Smdpp(fs::path config, std::vector<Bytes> trust) : config_(std::move(config)), trust_(std::move(trust)) {}

  bool start() {
    process_ = std::make_unique<ServeProcess>(std::vector<std::string>{"--config", config_.string()});
    const std::string url = process_->wait_for("listening on ");
    if (url.empty()) return false;
    lpa::HttpsEs9Options o;
    o.trust_anchors = trust_;
    o.resolve["localhost"] = url.substr(url.find("://") + 3);
    transport_ = std::make_unique<lpa::HttpsEs9Transport>(std::move(o));
    return true;
  }
  /// kill -9, then a new process on the same database.
  bool crash_and_restart() {
    if (process_->signal_and_wait(SIGKILL) != 128 + SIGKILL) return false;
    ++crashes;
    return start();
  }
  lpa::Es9Transport& transport() { return *transport_; }
  std::string output() const { return process_ ? process_->output() : std::string(); }

  int crashes = 0;

 private:
  fs::path config_;
  std::vector<Bytes> trust_;
  std::unique_ptr<ServeProcess> process_;
  std::unique_ptr<lpa::HttpsEs9Transport> transport_;
};

/// Forwards ES9+ to the server and crashes it once at the chosen point.
class CrashingTransport final : public lpa::Es9Transport {
 public:
  /// The first `pass` times the point is reached, the server lives on.
  CrashingTransport(Smdpp& smdpp, Crash crash, int pass = 0) : smdpp_(smdpp), crash_(crash), pass_(pass) {}

  expected<lpa::HttpReply, lpa::TransportError> post(std::string_view address, std::string_view path,
                                                      std::string_view body) override {
    auto reply = smdpp_.transport().post(address, path, body);
    if (done_) return reply;
    const bool at = (crash_ == Crash::AfterInitiateAuthentication && path.ends_with("/initiateAuthentication")) ||
                    (crash_ == Crash::AfterAuthenticateClient && path.ends_with("/authenticateClient")) ||
                    ((crash_ == Crash::BppAnswerLost || crash_ == Crash::AfterBppBeforeNotification) &&
                     path.ends_with("/getBoundProfilePackage")) ||
                    (crash_ == Crash::AfterInstallationResult && path.ends_with("/handleNotification"));
    if (!at || pass_-- > 0) return reply;
    done_ = true;
    if (!smdpp_.crash_and_restart()) return unexpected(lpa::TransportError{"the SM-DP+ did not restart"});
    if (crash_ == Crash::BppAnswerLost) return unexpected(lpa::TransportError{"connection reset by peer"});
    return reply;
  }

 private:
  Smdpp& smdpp_;
  Crash crash_;
  int pass_;
  bool done_ = false;
};

class SmdppCrash : public ::testing::TestWithParam<CrashCase> {
 protected:
  static void SetUpTestSuite() {
    pki_dir_ = new TempDir();
    auto r = rsp({"pki", "init", "--out", pki().string(), "--curves", "nist"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  static void TearDownTestSuite() {
    delete pki_dir_;
    pki_dir_ = nullptr;
  }
  static fs::path pki() { return pki_dir_->path() / "pki"; }

  void SetUp() override {
    ASSERT_NE(pki_dir_, nullptr);
    auto r = rsp({"profile", "sample", "--out", (dir_.path() / "upp").string(), "--count", "1", "--type", "crash",
                  "--size", "3000"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"smdpp", "profiles", "import", (dir_.path() / "upp").string(), "--operator", "op", "--db", db().string()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = rsp({"euicc", "create", "--dir", card().string(), "--pki", pki().string()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    eid_ = read_text(card() / "identity" / "eid.txt");
    r = rsp({"smdpp", "order", "--db", db().string(), "--operator", "op", "--type", "crash", "--eid", eid_,
             "--address", "localhost"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto field = [&](const std::string& name) {
      const auto at = r.output.find(name);
      if (at == std::string::npos) return std::string();
      const auto start = r.output.find_first_not_of(' ', at + name.size());
      return r.output.substr(start, r.output.find('\n', start) - start);
    };
    iccid_ = field("ICCID:");
    activation_code_ = field("Activation code:");
    ASSERT_FALSE(iccid_.empty()) << r.output;
    ASSERT_EQ(activation_code_.rfind("LPA:1$localhost$", 0), 0u) << r.output;

    config_ = dir_.path() / "smdpp.json";
    std::ofstream(config_) << R"({"listen": "127.0.0.1:0", "address": "localhost", "pki": ")" << pki().string()
                           << R"(", "database": ")" << db().string() << R"("})";
  }

  fs::path db() const { return dir_.path() / "smdpp.db"; }
  fs::path card() const { return dir_.path() / "card"; }

  /// One download attempt by the LPA into the card folder; with `cut_load_at`
  /// the card's link drops at that command of the load for good (the LPA
  /// neither retries nor reaches the card to cancel).
  expected<lpa::DownloadResult, lpa::DownloadError> download(lpa::Es9Transport& es9, int cut_load_at = 0) {
    auto store = euicc::EuiccStore::open(card());
    if (!store) return unexpected(setup_error("card: " + store.error().message));
    SimulatedCard sim(*store);
    if (auto s = sim.es10.select_isd_r(); !s) return unexpected(setup_error("the card did not select its ISD-R"));
    if (!cut_load_at) return lpa::download_profile(activation_code_, std::nullopt, sim.es10, es9);
    test_support::DroppingChannel link(sim.es10, cut_load_at, true);
    lpa::DownloadOptions options;
    options.load_retries = 0;
    return lpa::download_profile(activation_code_, std::nullopt, link, es9, options);
  }

  std::vector<Bytes> trust() const {
    auto store = euicc::EuiccStore::open(card());
    std::vector<Bytes> out;
    if (store)
      if (auto id = store->identity())
        for (const auto& c : id->curves) out.push_back(c.ci_cert);
    return out;
  }

  /// The profile's state and history as the server recorded them.
  struct Stored {
    ProfileState state = ProfileState::Error;
    std::vector<smdpp::TransitionRecord> history;
  };
  Stored stored() {
    Stored out;
    smdpp::SystemClock clock;
    auto dbh = store::open_sqlite(db());
    if (!dbh) {
      ADD_FAILURE() << dbh.error().message;
      return out;
    }
    auto inv = smdpp::Inventory::open(std::shared_ptr<store::Database>(std::move(*dbh)), clock);
    if (!inv) {
      ADD_FAILURE() << inv.error().message;
      return out;
    }
    auto p = (*inv)->profile(iccid_);
    auto h = (*inv)->history(iccid_);
    if (!p || !*p || !h) {
      ADD_FAILURE() << "profile " << iccid_ << " not readable";
      return out;
    }
    out.state = (**p).state;
    out.history = std::move(*h);
    return out;
  }

  /// How many profiles with our ICCID the card holds.
  int on_card() {
    auto store = euicc::EuiccStore::open(card());
    if (!store) return -1;
    auto state = store->load();
    if (!state) return -1;
    int n = 0;
    for (const auto& p : state->profiles) n += messages::iccid_to_digits(p.iccid) == iccid_ ? 1 : 0;
    return n;
  }

  static TempDir* pki_dir_;
  TempDir dir_;
  fs::path config_;
  std::string eid_, iccid_, activation_code_;
};

TempDir* SmdppCrash::pki_dir_ = nullptr;

TEST_P(SmdppCrash, ProfileIsNeverReleasedTwiceNorLost) {
  const Crash crash = GetParam().crash;
  const bool cut = GetParam().load_cut_first;
  Smdpp smdpp(config_, trust());
  ASSERT_TRUE(smdpp.start()) << smdpp.output();
  CrashingTransport crashing(smdpp, crash, cut ? 1 : 0);
  test_support::KeyWatchingEs9 watch(crashing);
  if (cut) {
    auto cut_off = download(watch, 3);
    ASSERT_FALSE(cut_off);
    EXPECT_EQ(cut_off.error().step, lpa::Step::LoadBoundProfilePackage) << cut_off.error().to_string();
    EXPECT_EQ(smdpp.crashes, 0);
    EXPECT_EQ(stored().state, ProfileState::Downloaded);
    EXPECT_EQ(on_card(), 0);
  }

  auto first = download(watch);
  ASSERT_EQ(smdpp.crashes, 1) << smdpp.output();
  const auto after_crash = stored();
  switch (crash) {
    case Crash::AfterInitiateAuthentication:
    case Crash::AfterAuthenticateClient:
      // The session died with the process: "transactionId unknown", nothing
      // was released, the order is still there for a new attempt.
      ASSERT_FALSE(first);
      EXPECT_EQ(first.error().subject_code + "/" + first.error().reason_code, "8.10.1/3.9") << first.error().to_string();
      EXPECT_EQ(after_crash.state, cut ? ProfileState::Downloaded : ProfileState::Released);
      break;
    case Crash::BppAnswerLost:
      // Stored as downloaded by this eUICC before the answer; the card got nothing.
      ASSERT_FALSE(first);
      EXPECT_EQ(first.error().step, lpa::Step::GetBoundProfilePackage) << first.error().to_string();
      EXPECT_EQ(after_crash.state, ProfileState::Downloaded);
      EXPECT_EQ(on_card(), 0);
      break;
    case Crash::AfterBppBeforeNotification:
      // The restarted server accepts the installation result of the session
      // it lost: the eUICC it issued the BPP to is on record.
      ASSERT_TRUE(first) << first.error().to_string() << "\n" << smdpp.output();
      EXPECT_TRUE(first->notification_delivered);
      break;
    case Crash::AfterInstallationResult:
      // Acknowledged before the crash: the card deleted its notification, so
      // the restarted server must find the installation on record.
      ASSERT_TRUE(first) << first.error().to_string() << "\n" << smdpp.output();
      EXPECT_TRUE(first->notification_delivered);
      EXPECT_EQ(after_crash.state, ProfileState::Installed);
      break;
  }
  if (!first) {
    auto retry = download(watch);
    ASSERT_TRUE(retry) << retry.error().to_string() << "\n" << smdpp.output();
    EXPECT_TRUE(retry->notification_delivered);
  }

  EXPECT_EQ(on_card(), 1);
  const auto final_state = stored();
  EXPECT_EQ(final_state.state, ProfileState::Installed);
  // One chain of allowed transitions, released once, downloaded once, installed once.
  int released = 0, downloaded = 0, installed = 0;
  std::optional<ProfileState> previous;
  for (const auto& t : final_state.history) {
    EXPECT_EQ(t.from, previous) << t.cause;
    if (t.from) {
      EXPECT_TRUE(smdpp::transition_allowed(*t.from, t.to)) << t.cause;
    }
    previous = t.to;
    released += t.to == ProfileState::Released;
    downloaded += t.to == ProfileState::Downloaded;
    installed += t.to == ProfileState::Installed;
  }
  EXPECT_EQ(released, 1);
  EXPECT_EQ(downloaded, 1);
  EXPECT_EQ(installed, 1);
  EXPECT_EQ(previous, ProfileState::Installed);
  if (cut) {
    ASSERT_GE(watch.smdp_otpk.size(), 2u);
    if (crash == Crash::AfterBppBeforeNotification) {
      // The retry's package was bound with the one-time keys of the first:
      // the card kept its key pair, the server its own across kill -9.
      EXPECT_EQ(watch.smdp_otpk.back(), watch.smdp_otpk.front());
      EXPECT_EQ(watch.euicc_otpk.back(), watch.euicc_otpk.front());
    } else {
      // The failed retry ended the card's download (ES10b CancelSession), so
      // the last package has fresh keys on both sides, never a mix.
      EXPECT_NE(watch.euicc_otpk.back(), watch.euicc_otpk.front());
      EXPECT_NE(watch.smdp_otpk.back(), watch.smdp_otpk.front());
    }
  }

  // Done: another download with the same activation code gets nothing.
  auto again = download(smdpp.transport());
  ASSERT_FALSE(again);
  EXPECT_EQ(stored().state, ProfileState::Installed);
}

/// Waits after initiateAuthentication answered, long enough for a session
/// timeout of 1 s to pass (the server counts whole seconds).
class SlowLpa final : public lpa::Es9Transport {
 public:
  explicit SlowLpa(lpa::Es9Transport& inner) : inner_(inner) {}
  expected<lpa::HttpReply, lpa::TransportError> post(std::string_view address, std::string_view path,
                                                      std::string_view body) override {
    auto reply = inner_.post(address, path, body);
    if (path.ends_with("/initiateAuthentication")) std::this_thread::sleep_for(std::chrono::milliseconds(2100));
    return reply;
  }

 private:
  lpa::Es9Transport& inner_;
};

TEST_F(SmdppCrash, SessionTimeoutFromTheConfiguration) {
  std::ofstream(config_) << R"({"listen": "127.0.0.1:0", "address": "localhost", "session_timeout": 1, "pki": ")"
                         << pki().string() << R"(", "database": ")" << db().string() << R"("})";
  Smdpp smdpp(config_, trust());
  ASSERT_TRUE(smdpp.start()) << smdpp.output();
  SlowLpa slow(smdpp.transport());
  auto late = download(slow);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().step, lpa::Step::AuthenticateClient) << late.error().to_string();
  EXPECT_EQ(late.error().subject_code + "/" + late.error().reason_code, "8.10.1/3.9") << late.error().to_string();
  EXPECT_EQ(stored().state, ProfileState::Released);
  // In time, the same order downloads.
  auto ok = download(smdpp.transport());
  ASSERT_TRUE(ok) << ok.error().to_string() << "\n" << smdpp.output();
  EXPECT_EQ(stored().state, ProfileState::Installed);
}

INSTANTIATE_TEST_SUITE_P(Points, SmdppCrash,
                         ::testing::Values(CrashCase{Crash::AfterInitiateAuthentication, "AfterInitiateAuthentication"},
                                           CrashCase{Crash::AfterAuthenticateClient, "AfterAuthenticateClient"},
                                           CrashCase{Crash::BppAnswerLost, "BppAnswerLost"},
                                           CrashCase{Crash::AfterBppBeforeNotification, "AfterBppBeforeNotification"},
                                           CrashCase{Crash::AfterInstallationResult, "AfterInstallationResult"},
                                           CrashCase{Crash::AfterAuthenticateClient, "LoadCutRetryAfterAuthenticateClient", true},
                                           CrashCase{Crash::BppAnswerLost, "LoadCutRetryBppAnswerLost", true},
                                           CrashCase{Crash::AfterBppBeforeNotification,
                                                     "LoadCutRetryAfterBppBeforeNotification", true}),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace rsp::e2e
