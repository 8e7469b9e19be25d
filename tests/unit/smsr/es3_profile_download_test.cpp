// The SM-DP's ProfileDownload (GetEIS, CreateISDP, ES8 key establishment,
// the protected profile by SendData, completion, enable) against the real
// SM-SR through an ES3 port in the same process (es3_link_fixture.hpp):
// the happy path, a bad receipt, an untrusted ECASD, a lost completion
// answer, a restart and a quota too small, each rolled back or recovered.

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "es3_link_fixture.hpp"

namespace rsp::smsr::testing {
namespace {

using namespace std::chrono_literals;

TEST_F(ProfileDownloadTest, DownloadAndEnable) {
  smdp::ProfileDownload download({*dp_, trust_, 6, {}}, *port_, *table_);
  auto d = download.run(request(true));
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->state, smdp::DownloadState::Enabled) << d->error;
  EXPECT_TRUE(d->error.empty()) << d->error;
  // The device's profile list: the new ISD-P, enabled, with the profile's ICCID.
  auto p = on_card(d->isdp_aid);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(p->iccid, kIccidBytes);
  EXPECT_EQ(isdp(boot_).state, m2m::IsdpState::kDisabled);
  auto eis = **registry_->eis(eid(), false);
  EXPECT_EQ(eis.profile(kIccid)->state, m2m::ProfileState::Enabled);
  EXPECT_EQ(eis.profile(kIccid)->subscription_address.msisdn, "4915550003");
  // The table holds the final state.
  auto stored = table_->get(d->id);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->state, smdp::DownloadState::Enabled);
  EXPECT_TRUE(table_->unfinished()->empty());
  EXPECT_EQ(calls_.front(), es3::Function::GetEis);
  EXPECT_EQ(calls_.back(), es3::Function::EnableProfile);
  // The key establishment in two SendData (CERT.DP.ECDSA, then the key
  // agreement signed over the card's random challenge), with the EIS's SIN
  // and SDIN in it.
  ASSERT_GE(calls_.size(), 5U);
  EXPECT_EQ(calls_[1], es3::Function::CreateIsdp);
  EXPECT_EQ(calls_[2], es3::Function::SendData);
  EXPECT_EQ(calls_[3], es3::Function::SendData);
  EXPECT_FALSE(eis.isd_r.sin.empty());
  EXPECT_EQ(eis.isd_r.sdin, card_->isd_r().state().sdin);

}

/// A download with connectivity parameters: after the profile, the SM-DP
/// sends them under the new ISD-P's SCP03 keys (ES8.UpdateConnectivity-
/// Parameters through ES3.UpdateConnectivityParameters); the device's
/// profile holds them.
TEST_F(ProfileDownloadTest, DownloadWithConnectivityParameters) {
  smdp::ProfileDownload download({*dp_, trust_, 6, {}}, *port_, *table_);
  auto req = request(true);
  req.connectivity_parameters = from_hex("A00A8008" "0891214365870900" "A1058103010203").value();
  auto d = download.run(req);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->state, smdp::DownloadState::Enabled) << d->error;
  auto p = on_card(d->isdp_aid);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->connectivity, req.connectivity_parameters);
  EXPECT_EQ(p->scp03_counter, 1U);
  EXPECT_EQ(p->state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(std::count(calls_.begin(), calls_.end(), es3::Function::UpdateConnectivityParameters), 1);
  // Sent after the profile, before the SM-SR is told the download completed.
  auto at = std::find(calls_.begin(), calls_.end(), es3::Function::UpdateConnectivityParameters);
  EXPECT_EQ(*(at - 1), es3::Function::SendData);
  EXPECT_EQ(*(at + 1), es3::Function::ProfileDownloadCompleted);
}

TEST_F(ProfileDownloadTest, BadReceiptRollsBackTheIsdp) {
  tamper_receipt_ = true;
  smdp::ProfileDownload download({*dp_, trust_, 6, {}}, *port_, *table_);
  auto d = download.run(request(true));
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->state, smdp::DownloadState::Failed);
  EXPECT_NE(d->error.find("receipt"), std::string::npos) << d->error;
  EXPECT_EQ(calls_.back(), es3::Function::DeleteIsdp);
  EXPECT_FALSE(on_card(d->isdp_aid));
  EXPECT_FALSE((**registry_->eis(eid(), false)).profile(kIccid));
}

TEST_F(ProfileDownloadTest, UntrustedEcasdFailsAndDeletesTheIsdp) {
  smdp::EcasdTrust other = trust_;
  other.eums.clear();  // no EUM to chain the ECASD certificate to
  smdp::ProfileDownload download({*dp_, other, 6, {}}, *port_, *table_);
  auto d = download.run(request(false));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state, smdp::DownloadState::Failed);
  EXPECT_EQ(calls_.back(), es3::Function::DeleteIsdp);
  EXPECT_FALSE(on_card(d->isdp_aid));
}

// ProfileDownloadCompleted reaches the SM-SR but its answer is lost (or a
// restart repeats it and the SM-SR refuses the repeat): the EIS shows the
// profile loaded, so the download goes on instead of deleting it.
TEST_F(ProfileDownloadTest, ALostCompletionAnswerDoesNotRollBackALoadedProfile) {
  class LosingPort : public smdp::Es3Port {
   public:
    explicit LosingPort(smdp::Es3Port& inner) : inner_(inner) {}
    expected<es3::Result, std::string> call(const es3::Request& r) override {
      auto out = inner_.call(r);
      if (std::holds_alternative<es3::ProfileDownloadCompleted>(r) && lose_next) {
        lose_next = false;
        return unexpected(std::string("connection reset before the answer"));
      }
      return out;
    }
    bool lose_next = true;

   private:
    smdp::Es3Port& inner_;
  } losing(*port_);
  smdp::ProfileDownload download({*dp_, trust_, 6, {}}, losing, *table_);
  auto d = download.run(request(true));
  ASSERT_TRUE(d) << d.error();
  EXPECT_FALSE(losing.lose_next);
  EXPECT_EQ(d->state, smdp::DownloadState::Enabled) << d->error;
  auto p = on_card(d->isdp_aid);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state, m2m::IsdpState::kEnabled);
  EXPECT_EQ(std::count(calls_.begin(), calls_.end(), es3::Function::DeleteIsdp), 0);

  // The restart case: the same download left at Loaded, its completion
  // already recorded; recover() repeats ProfileDownloadCompleted, the SM-SR
  // refuses it, and the record ends Completed, the profile kept.
  smdp::Download left = *d;
  left.id = 0;
  left.state = smdp::DownloadState::Loaded;
  auto json_request = nlohmann::json::parse(left.request);
  json_request["enable"] = false;
  left.request = json_request.dump();
  ASSERT_TRUE(table_->create(left));
  auto recovered = download.recover();
  ASSERT_TRUE(recovered) << recovered.error();
  ASSERT_EQ(recovered->size(), 1u);
  EXPECT_EQ(recovered->front().state, smdp::DownloadState::Completed) << recovered->front().error;
  EXPECT_TRUE(on_card(d->isdp_aid));
  EXPECT_EQ(std::count(calls_.begin(), calls_.end(), es3::Function::DeleteIsdp), 0);
}

TEST_F(ProfileDownloadTest, RestartRollsBackADownloadStoppedBeforeTheLoad) {
  // A download that stopped right after CreateISDP (the process died).
  auto created = create();
  ASSERT_EQ(created.status, "Executed-Success");
  smdp::Download left;
  left.eid = eid();
  left.iccid = kIccid;
  left.state = smdp::DownloadState::IsdpCreated;
  left.isdp_aid = created.isdp_aid;
  left.request = "{}";
  auto id = table_->create(left);
  ASSERT_TRUE(id);
  smdp::ProfileDownload download({*dp_, trust_, 6, {}}, *port_, *table_);
  auto recovered = download.recover();
  ASSERT_TRUE(recovered) << recovered.error();
  ASSERT_EQ(recovered->size(), 1u);
  EXPECT_EQ(recovered->front().state, smdp::DownloadState::Failed);
  EXPECT_FALSE(on_card(created.isdp_aid));
  EXPECT_TRUE(table_->unfinished()->empty());
}

// The package does not fit the ISD-P's quota: the card refuses the
// segment (6A84), SendData fails with the eUICC's code, the ISD-P is deleted.
TEST_F(ProfileDownloadTest, IsdpQuotaSmallerThanThePackageRollsBack) {
  smdp::ProfileDownload download({*dp_, trust_, 6, {}}, *port_, *table_);
  auto r = request(false);
  r.required_memory = 1024;
  auto d = download.run(r);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->state, smdp::DownloadState::Failed);
  EXPECT_EQ(d->subject_code, codes::kEuiccRefused.subject);
  EXPECT_EQ(d->reason_code, codes::kEuiccRefused.reason);
  EXPECT_EQ(calls_.back(), es3::Function::DeleteIsdp);
  EXPECT_FALSE(on_card(d->isdp_aid));
  EXPECT_FALSE((**registry_->eis(eid(), false)).profile(kIccid));
  EXPECT_TRUE(registry_->open_operations(eid())->empty());
}

}  // namespace
}  // namespace rsp::smsr::testing
