// An MNO's DownloadProfile failing at each step (Es2RollbackTest), and a
// device whose session drops while the profile loads (SessionDropTest):
// rolled back, the MNO told the failure's code (es3_link_fixture.hpp).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>

#include "es3_link_fixture.hpp"
#include "rsp/store/database.hpp"

namespace rsp::smsr::testing {
namespace {

using namespace std::chrono_literals;

/// Failures of an MNO's DownloadProfile at each step, through the SM-DP's
/// ES2 service, the real SM-SR, ES5 and the simulated device: each ends
/// with its ISD-P deleted on the card and in the EIS (or the profile
/// quarantined when it could not be), the profile back in the inventory,
/// the MNO told with the failure's code, and nothing left in flight.
class Es2RollbackTest : public Es2DownloadTest {
 protected:
  /// Opens the SM-DP's ES2 service again on the same database (a restart),
  /// `edit` changing its configuration.
  void reopen(const std::function<void(smdp::Es2ServiceConfig&)>& edit = {}) {
    es2_.reset();
    smdp::Es2ServiceConfig config("smsr-1", {*dp_, trust_, 6, {}});
    if (edit) edit(config);
    auto svc = smdp::Es2Service::open(std::move(config), smdp_db_, inventory_, *port_, outbox_);
    ASSERT_TRUE(svc) << svc.error();
    es2_ = std::move(*svc);
  }

  /// DownloadProfile(enable) of the test's profile, accepted and run to its end.
  void download() {
    auto accepted = es2_->handle(m2m::es2::DownloadProfile{eid(), kIccid, "", "smsr-1", true, std::nullopt}, "mno-three");
    ASSERT_TRUE(accepted.answer.accepted()) << accepted.answer.message;
    auto ran = es2_->run_next();
    ASSERT_TRUE(ran && *ran) << (ran ? "" : ran.error());
  }

  /// The one callback queued for the MNO: its DownloadProfile result.
  m2m::es2::Result told() {
    auto due = outbox_->due();
    EXPECT_TRUE(due);
    if (!due || due->size() != 1) {
      ADD_FAILURE() << "expected one callback, got " << (due ? due->size() : 0);
      return {};
    }
    EXPECT_EQ(due->front().recipient, "mno-three");
    auto callback = m2m::es2::decode_callback(due->front().body);
    EXPECT_TRUE(callback);
    if (!callback) return {};
    const auto& r = std::get<m2m::es2::Result>(*callback);
    EXPECT_EQ(r.function, m2m::es2::Function::DownloadProfile);
    EXPECT_EQ(r.iccid, kIccid);
    return r;
  }

  void expect_told(m2m::Code c) {
    const auto r = told();
    EXPECT_EQ(r.status, "Failed");
    EXPECT_EQ(r.subject_code, c.subject);
    EXPECT_EQ(r.reason_code, c.reason);
  }

  /// Nothing of the download left: no ISD-P of the profile on the card or
  /// in the EIS, the profile `state` in the inventory, no operation open at
  /// the SM-SR or pending at the SM-DP, no download unfinished.
  void expect_rolled_back(smdp::ProfileState state = smdp::ProfileState::Available) {
    EXPECT_EQ(card_->isd_r().state().isdps.size(), 2u) << "an ISD-P was left on the card";
    EXPECT_FALSE((**registry_->eis(eid(), false)).profile(kIccid));
    EXPECT_EQ(inventory_->get("mno-three", kIccid)->state, state);
    expect_nothing_in_flight();
  }
  void expect_nothing_in_flight() {
    EXPECT_TRUE(registry_->open_operations(eid())->empty());
    auto table = smdp::DownloadTable::open(smdp_db_);
    ASSERT_TRUE(table);
    EXPECT_TRUE((*table)->unfinished()->empty());
    auto more = es2_->run_next();
    ASSERT_TRUE(more);
    EXPECT_FALSE(*more);
  }

  std::size_t count(es3::Function f) const { return static_cast<std::size_t>(std::count(calls_.begin(), calls_.end(), f)); }
};

TEST_F(Es2RollbackTest, SmsrUnreachableAtCreateIsdp) {
  cut_ = [](const es3::Request& r, Cut c) { return c == Cut::Before && std::holds_alternative<es3::CreateIsdp>(r); };
  download();
  // The rollback asks the SM-SR to delete what CreateISDP might have made:
  // it knows no such ICCID, so nothing was.
  EXPECT_EQ(count(es3::Function::DeleteIsdp), 1u);
  expect_rolled_back();
  expect_told(codes::kExecutionError);
}

// The SM-SR made the ISD-P but its answer never came back: the rollback
// finds it by ICCID and deletes it, so the profile handed out again is on
// no eUICC.
TEST_F(Es2RollbackTest, CreateIsdpAnswerLostDeletesTheIsdpMadeAllTheSame) {
  cut_ = [](const es3::Request& r, Cut c) { return c == Cut::After && std::holds_alternative<es3::CreateIsdp>(r); };
  download();
  EXPECT_EQ(calls_.back(), es3::Function::DeleteIsdp);
  expect_rolled_back();
  expect_told(codes::kExecutionError);
}

TEST_F(Es2RollbackTest, SmsrUnreachableOnceWhileTheProfileLoads) {
  int sends = 0;
  cut_ = [&](const es3::Request& r, Cut c) {
    return c == Cut::Before && std::holds_alternative<es3::SendData>(r) && ++sends == 3;
  };
  download();
  EXPECT_EQ(calls_.back(), es3::Function::DeleteIsdp);
  expect_rolled_back();
  expect_told(codes::kExecutionError);
}

// The SM-SR goes away mid-download and stays away: the ISD-P cannot be
// deleted, so the profile is quarantined, never offered again.
TEST_F(Es2RollbackTest, SmsrGoneForGoodQuarantinesTheProfile) {
  int sends = 0;
  bool gone = false;
  cut_ = [&](const es3::Request& r, Cut c) {
    if (c == Cut::Before && std::holds_alternative<es3::SendData>(r) && ++sends == 2) gone = true;
    return gone;
  };
  download();
  EXPECT_EQ(count(es3::Function::DeleteIsdp), 0u);  // it never reached the SM-SR
  EXPECT_EQ(card_->isd_r().state().isdps.size(), 3u);  // left behind, and known to be
  EXPECT_EQ(inventory_->get("mno-three", kIccid)->state, smdp::ProfileState::Quarantined);
  expect_told(codes::kExecutionError);
  auto again = es2_->handle(m2m::es2::DownloadProfile{eid(), kIccid, "", "smsr-1", true, std::nullopt}, "mno-three");
  EXPECT_EQ(again.answer.subject_code, codes::kIccidInUse.subject);
  gone = false;
  EXPECT_TRUE(registry_->open_operations(eid())->empty());
}

// The card has less free memory than the ISD-P asked: INSTALL is refused
// (6A84), CreateISDP fails with the eUICC's code, nothing to delete.
TEST_F(Es2RollbackTest, EuiccOutOfMemoryAtCreateIsdp) {
  reopen([](smdp::Es2ServiceConfig& c) { c.memory_margin = 1024 * 1024; });
  download();
  EXPECT_EQ(count(es3::Function::SendData), 0u);
  expect_rolled_back();
  expect_told(codes::kEuiccRefused);
}

TEST_F(Es2RollbackTest, UntrustedEcasdCertificateIsRefusedWithItsCode) {
  reopen([](smdp::Es2ServiceConfig& c) { c.download.trust.eums.clear(); });
  download();
  expect_rolled_back();
  expect_told(codes::kEcasdCertificateInvalid);
}

TEST_F(Es2RollbackTest, EcasdCertificateOfAnotherCiIsRefused) {
  reopen([](smdp::Es2ServiceConfig& c) { c.download.trust.cis.clear(); });
  download();
  expect_rolled_back();
  expect_told(codes::kEcasdCertificateInvalid);
}

TEST_F(Es2RollbackTest, ForgedReceiptIsRefusedAndRolledBack) {
  tamper_receipt_ = true;
  download();
  expect_rolled_back();
  expect_told(codes::kKeysetReceiptInvalid);
}

TEST_F(Es2RollbackTest, TamperedScp03tSegmentIsRefusedByTheCardAndRolledBack) {
  tamper_segment_ = true;
  download();
  expect_rolled_back();
  expect_told(codes::kEuiccRefused);
}

/// The MNO's profile type has connectivity parameters; their secured
/// command is changed on its way: the ISD-P refuses it (its C-MAC), the
/// parameters never reach the card, the download is rolled back and the
/// MNO told the SM-SR's code, the eUICC refused (8.1/3.8).
TEST_F(Es2RollbackTest, TamperedConnectivityParametersAreRefusedAndRolledBack) {
  reopen([](smdp::Es2ServiceConfig& c) { c.connectivity_parameters["m2m-data"] = from_hex("A0038001FF").value(); });
  tamper_connectivity_ = true;
  download();
  expect_rolled_back();
  expect_told(codes::kEuiccRefused);
  for (const auto& isdp : card_->isd_r().state().isdps) EXPECT_NE(isdp.connectivity, from_hex("A0038001FF").value());
}

/// The same without the change: the profile arrives with its parameters.
TEST_F(Es2RollbackTest, ProfileTypeConnectivityParametersReachTheCard) {
  reopen([](smdp::Es2ServiceConfig& c) { c.connectivity_parameters["m2m-data"] = from_hex("A0038001FF").value(); });
  download();
  EXPECT_EQ(told().status, "Executed-Success");
  const auto eis = **registry_->eis(eid(), false);
  ASSERT_TRUE(eis.profile(kIccid));
  auto p = on_card(eis.profile(kIccid)->isdp_aid);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->connectivity, from_hex("A0038001FF").value());
}

/// A device whose connection is cut while the profile loads: after its
/// ISD-P ran the `n`th command it stalls past the session's idle timeout
/// (or, held, until the test lets it go), so the SM-SR drops the session
/// and the device's answer is lost.
class SessionDropTest : public Es2RollbackTest {
 protected:
  SessionDropTest() { session_idle_timeout_ = std::chrono::milliseconds(300); }
  void cut_after(int n, bool held = false) {
    after_isdp_command_ = [this, n, held](ByteView) {
      if (++commands_ != n) return;
      stalled_ = true;
      if (!held) {
        std::this_thread::sleep_for(600ms);  // the server's idle timeout is 300 ms
        return;
      }
      (void)eventually([&] { return release_.load(); }, 20s);
    };
  }
  /// Runs `then` on a thread of its own once `ready` holds.
  void when(std::function<bool()> ready, std::function<void()> then) {
    watcher_ = std::thread([is_ready = std::move(ready), act = std::move(then)] {
      if (eventually(is_ready, 20s)) act();
    });
  }
  void TearDown() override {
    release_ = true;
    if (watcher_.joinable()) watcher_.join();
    Es2RollbackTest::TearDown();
  }
  std::atomic<int> commands_{0};
  std::atomic<bool> stalled_{false};
  std::atomic<bool> release_{false};
  std::thread watcher_;
};

// The device comes back (a new wake-up): the SM-SR sends the unanswered
// script again (at least once, ES5), the card refuses the replayed SCP03t
// segment, and the download is rolled back with the eUICC's code.
TEST_F(SessionDropTest, DeviceBackAfterADroppedSessionEndsInRollback) {
  cut_after(10);
  when([this] { return device_->sessions_failed() > 0; }, [this] { link_->wake_up(eid()); });
  download();
  EXPECT_GE(device_->sessions_failed(), 1u);
  EXPECT_EQ(calls_.back(), es3::Function::DeleteIsdp);
  expect_rolled_back();
  expect_told(codes::kEuiccRefused);
}

// The device does not come back while the SendData is valid (held past
// the session's timeout until then): it expires at the SM-SR (1.6/5.3),
// the SM-DP has the ISD-P deleted (its wake-up brings the device back), and
// the MNO is told the expiry.
TEST_F(SessionDropTest, SendDataExpiredAfterADroppedSessionEndsInRollback) {
  cut_after(10, true);
  when([this] { return stalled_.load(); },
       [this] {
         std::this_thread::sleep_for(400ms);  // past the session's idle timeout
         Es5LinkTest::clock_->advance(601s);
         EXPECT_EQ(*service_->expire(), 1u);
         release_ = true;
       });
  download();
  EXPECT_EQ(calls_.back(), es3::Function::DeleteIsdp);
  expect_rolled_back();
  expect_told(codes::kExpired);
}

}  // namespace
}  // namespace rsp::smsr::testing
