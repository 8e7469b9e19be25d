#pragma once
// The M2M SM-DP's ES2 service with the SM-SR's ES3 port faked in process:
// the fixture shared by es2_service_test, es2_restart_test, es2_routes_test
// and es3_notifications_test. A database in a temp dir, the inventory with
// three profiles of two MNOs (sealed with a fixed KEK), the MNOs' callback
// outbox on a hand-moved clock, and FakePort answering ES3 from a table.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "rsp/crypto/random.hpp"
#include "rsp/m2m/es_status.hpp"
#include "rsp/smdp/es2_http.hpp"
#include "rsp/smdp/es2_service.hpp"
#include "rsp/store/open.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::smdp::testing {

namespace es2 = m2m::es2;
namespace es3 = m2m::es3;
namespace codes = m2m::codes;

inline const std::string kEid = "89049032123451234512345678901235";
inline const std::string kIccidA = "8900100000000000001";
inline const std::string kIccidA2 = "8900100000000000019";
inline const std::string kIccidB = "8900200000000000002";
inline const std::string kSmsr = "smsr-1";
inline const std::string kSmsr2 = "smsr-2";  ///< where eUICCs may move (Es2ServiceConfig::smsr_port)

/// An ES3 port answering from a table the test sets; every call recorded.
class FakePort : public Es3Port {
 public:
  std::map<es3::Function, es3::Result> answers;
  std::vector<es3::Function> calls;
  expected<es3::Result, std::string> call(const es3::Request& r) override {
    std::lock_guard lock(mu_);
    const auto f = es3::function_of(r);
    calls.push_back(f);
    auto it = answers.find(f);
    if (it == answers.end()) return unexpected(std::string("the SM-SR could not be reached"));
    return it->second;
  }

 private:
  std::mutex mu_;
};

inline es3::Result ok() {
  es3::Result r;
  r.status = "Executed-Success";
  return r;
}
inline es3::Result failed(m2m::Code c) {
  es3::Result r;
  r.status = "Failed";
  r.subject_code = c.subject;
  r.reason_code = c.reason;
  return r;
}

inline es2::Answer decode_answer_or_empty(const std::string& body) {
  auto a = es2::decode_answer(body);
  EXPECT_TRUE(a) << body;
  return a ? *a : es2::Answer{};
}

inline Bytes package(std::uint8_t fill) {
  Bytes b(200, fill);
  b[0] = 0xA0;  // a SAIP package starts with its ProfileHeader
  return b;
}

class Es2ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kek = service::KeyEncryptionKey::make(Bytes(32, 0x5A));
    ASSERT_TRUE(kek);
    kek_ = std::make_shared<const service::KeyEncryptionKey>(std::move(*kek));
    open_all();
    auto& rng = crypto::system_random();
    ASSERT_TRUE(inventory_->add(kIccidA, "m2m-data", "mno-a", package(0x11), rng));
    ASSERT_TRUE(inventory_->add(kIccidA2, "m2m-data", "mno-a", package(0x12), rng));
    ASSERT_TRUE(inventory_->add(kIccidB, "m2m-data", "mno-b", package(0x22), rng));
  }
  void TearDown() override {
    if (svc_) svc_->stop();
  }

  void open_all() {
    svc_.reset();
    auto db = store::open_database((tmp_.path() / "smdp.db").string());
    ASSERT_TRUE(db);
    db_ = std::shared_ptr<store::Database>(std::move(*db));
    auto inv = Inventory::open(db_, kek_);
    ASSERT_TRUE(inv) << inv.error().message;
    inventory_ = std::move(*inv);
    auto outbox = service::SqlOutbox::open(db_, std::string(kMnoCallbackOutbox), clock_);
    ASSERT_TRUE(outbox);
    outbox_ = *outbox;
    Es2ServiceConfig config(
        kSmsr, DownloadConfig{DpIdentity{{}, crypto::EcKey::generate(crypto::Curve::NistP256).value()}, {}, 8, {}});
    config.callback_url = [](const std::string& mno) { return "https://" + mno + ".example/callbacks"; };
    config.smsr_port = [this](const std::string& id) -> Es3Port* { return id == kSmsr2 ? &port2_ : nullptr; };
    auto svc = Es2Service::open(std::move(config), db_, inventory_, port_, outbox_);
    ASSERT_TRUE(svc) << svc.error();
    svc_ = std::move(*svc);
  }

  ProfileState state_of(const std::string& mno, const std::string& iccid) {
    auto p = inventory_->get(mno, iccid);
    EXPECT_TRUE(p);
    return p ? p->state : ProfileState::Available;
  }
  /// The callbacks queued for the MNOs, decoded.
  std::vector<std::pair<service::OutboxItem, es2::Callback>> callbacks() {
    std::vector<std::pair<service::OutboxItem, es2::Callback>> out;
    auto due = outbox_->due();
    EXPECT_TRUE(due);
    for (const auto& item : *due) {
      auto c = es2::decode_callback(item.body);
      EXPECT_TRUE(c) << item.body;
      if (c) out.emplace_back(item, *c);
    }
    return out;
  }

  es2::DownloadProfile download(const std::string& iccid, bool enable = true) {
    return es2::DownloadProfile{kEid, iccid, "", kSmsr, enable, std::nullopt};
  }

  test_support::TempDir tmp_;
  service::ManualClock clock_{service::TimePoint(std::chrono::seconds(1'800'000'000))};
  std::shared_ptr<const service::KeyEncryptionKey> kek_;
  std::shared_ptr<store::Database> db_;
  std::shared_ptr<Inventory> inventory_;
  std::shared_ptr<service::SqlOutbox> outbox_;
  FakePort port_;
  FakePort port2_;  ///< the second SM-SR's (kSmsr2)
  std::unique_ptr<Es2Service> svc_;
};

/// A JSON POST with `body`, as the routes receive it.
inline net::Request post(std::string body) {
  net::Request r;
  r.method = "POST";
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

}  // namespace rsp::smdp::testing
