// ES3 over HTTP: the SM-SR's ES3 routes, the SM-DP's client, and the
// callbacks carried from the SM-SR's outbox to the client's results
// (es3_link_fixture.hpp).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <set>
#include <thread>

#include "es3_link_fixture.hpp"
#include "rsp/smdp/es3_client.hpp"
#include "rsp/smsr/http_service.hpp"

namespace rsp::smsr::testing {
namespace {

using namespace std::chrono_literals;

/// The same download over HTTP: the SM-SR's ES3 routes, the SM-DP's client,
/// and the callbacks carried from the SM-SR's outbox to the client's results.
class Es3OverHttpTest : public ProfileDownloadTest {
 protected:
  void SetUp() override {
    ProfileDownloadTest::SetUp();
    if (HasFatalFailure()) return;
    HttpConfig hc;
    hc.insecure_http = true;
    hc.roles.smdps = {kSmdp};
    hc.es3 = es3_;
    hc.authenticate = [this](const net::Request&) {
      return std::optional<service::Caller>(service::Caller{caller_, service::CallerProof::ClientCertificate});
    };
    auto http = HttpService::start(service_, std::move(hc));
    ASSERT_TRUE(http) << http.error().message;
    http_ = std::move(*http);
    results_ = std::make_shared<smdp::Es3Results>();
    smdp::Es3ClientOptions o;
    o.smsr_url = http_->url();
    o.result_timeout = 20s;
    auto client = smdp::Es3Client::create(std::move(o), results_);
    ASSERT_TRUE(client) << client.error();
    client_ = std::move(*client);
    // The callback sender's part: each SM-DP result delivered once (the
    // ES3 notifications, e.g. the card's confirmation of the enable, are
    // not results: no call waits on them).
    carrier_ = std::thread([this] {
      std::set<std::int64_t> sent;
      while (!stop_) {
        // Held in a variable: a range-for over `*due(100)` would outlive the
        // temporary it dereferences.
        auto due = registry_->outbox()->due(100);
        if (due)
          for (const auto& item : *due)
            if (item.recipient == kSmdp && sent.insert(item.id).second && !es3::decode_notification(item.body))
              EXPECT_TRUE(results_->deliver(item.body));
        std::this_thread::sleep_for(10ms);
      }
    });
  }
  void TearDown() override {
    stop_ = true;
    if (carrier_.joinable()) carrier_.join();
    if (http_) http_->stop();
    ProfileDownloadTest::TearDown();
  }

  std::string caller_ = kSmdp;
  std::unique_ptr<HttpService> http_;
  std::shared_ptr<smdp::Es3Results> results_;
  std::unique_ptr<smdp::Es3Client> client_;
  std::atomic<bool> stop_{false};
  std::thread carrier_;
};

TEST_F(Es3OverHttpTest, DownloadAndEnableOverHttp) {
  smdp::ProfileDownload download({*dp_, trust_, 8, {}}, *client_, *table_);
  auto d = download.run(request(true));
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->state, smdp::DownloadState::Enabled) << d->error;
  auto p = on_card(d->isdp_aid);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state, m2m::IsdpState::kEnabled);
  EXPECT_EQ((**registry_->eis(eid(), false)).profile(kIccid)->state, m2m::ProfileState::Enabled);
}

TEST_F(Es3OverHttpTest, UpdatesAndAuditOverHttp) {
  // Executed at once: a refusal for a profile that is not this SM-DP's.
  auto r = client_->call(es3::UpdatePolicyRules{eid(), kSecondIccid, {}});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, "Failed");
  EXPECT_EQ(r->subject_code, codes::kIccidUnknown.subject);
  EXPECT_EQ(r->reason_code, codes::kIccidUnknown.reason);
  r = client_->call(es3::UpdateSubscriptionAddress{eid(), kSecondIccid, {"4915550003", ""}});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->subject_code, codes::kIccidUnknown.subject);
  r = client_->call(es3::UpdateConnectivityParameters{eid(), kSecondIccid, from_hex("A0038001FF").value(), {}});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->subject_code, codes::kIccidUnknown.subject);
  // AuditEIS: accepted, run on the card, its result called back with the EIS.
  r = client_->call(es3::AuditEis{eid(), std::nullopt});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->function, es3::Function::AuditEis);
  EXPECT_EQ(r->status, "Executed-Success");
  ASSERT_TRUE(r->eis);
  EXPECT_EQ((*r->eis)["eid"], eid());
}

TEST_F(Es3OverHttpTest, RefusalsOverHttp) {
  // An unknown ISD-P: refused at once with its codes.
  auto r = client_->call(es3::SendData{eid(), euicc_m2m::isdp_aid(40), from_hex("AA03220100").value(), false, {}});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, "Failed");
  EXPECT_EQ(r->subject_code, codes::kIsdpUnknown.subject);
  EXPECT_EQ(r->reason_code, codes::kIsdpUnknown.reason);
  // A caller that is not a configured SM-DP.
  caller_ = "mno-two";
  r = client_->call(es3::GetEis{eid()});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, "Failed");
  EXPECT_EQ(r->subject_code, codes::kRequesterNotAllowed.subject);
  EXPECT_EQ(r->reason_code, codes::kRequesterNotAllowed.reason);
  EXPECT_FALSE(r->eis);
}

}  // namespace
}  // namespace rsp::smsr::testing
