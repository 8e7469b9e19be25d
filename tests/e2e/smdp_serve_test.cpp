// The M2M SM-DP across processes, all in a temporary folder: `rsp smsr
// serve` (the SM-SR, ES3 for the SM-DP by its TLS client certificate, the
// SMSC the SMPP test double), `rsp smdp serve` (its inventory from `rsp smdp
// profiles import`), `rsp euicc m2m-run` (the device), the MNO's callback
// endpoint in the test. ES2 DownloadProfile(enable) -> CreateISDP -> SMS
// wake-up -> PSK-TLS session -> ES8 key establishment -> SCP03t profile load
// -> enable -> the MNO's callback; the SM-SR's EIS and the card folder show
// the profile enabled. Another MNO's profile is refused with 8.2.1/3.9. The
// processes: m2m_serve_fixture.hpp (shared with m2m_acceptance_test.cpp).

#include "m2m_serve_fixture.hpp"

namespace rsp::e2e {
namespace {

using nlohmann::json;
using SmdpServe = M2mServeTest;

TEST_F(SmdpServe, DownloadProfileEnablesItOnTheDeviceAndCallsTheMnoBack) {
  // Another MNO's profile: refused at once.
  auto a = call(smdp_url_, "/gsma/m2m/es2/downloadProfile",
                json{{"eid", eid_}, {"iccid", theirs_}, {"smsrId", "smsr-1"}, {"enableProfile", true}}.dump(),
                kMnoKey);
  EXPECT_EQ(status(a), "Failed") << a;
  EXPECT_EQ(a["header"]["functionExecutionStatus"]["statusCodeData"].value("subjectCode", ""), "8.2.1") << a;
  EXPECT_EQ(a["header"]["functionExecutionStatus"]["statusCodeData"].value("reasonCode", ""), "3.9") << a;

  // The MNO's own, by profile type: accepted, then downloaded and enabled.
  a = call(smdp_url_, "/gsma/m2m/es2/downloadProfile",
           json{{"eid", eid_}, {"profileType", "m2m-data"}, {"smsrId", "smsr-1"}, {"enableProfile", true}}.dump(),
           kMnoKey);
  ASSERT_EQ(last_status_, 202) << a << smdp_->output();
  const auto id = a.value("operationId", std::int64_t{0});
  ASSERT_GT(id, 0) << a;
  auto callback = mno_.result_of("smdp", "ES2.DownloadProfile", id);
  ASSERT_TRUE(callback.is_object()) << smdp_->output() << smsr_->output() << device_->output();
  EXPECT_EQ(callback["functionExecutionStatus"]["status"], "Executed-Success") << callback << smdp_->output();
  EXPECT_EQ(callback["iccid"], ours_);

  // The SM-SR's EIS and the card show it enabled.
  auto eis = call(smsr_url_, "/gsma/m2m/es4/getEIS", json{{"eid", eid_}}.dump(), kMnoKey);
  EXPECT_EQ(profile_state(eis, ours_), "Enabled") << eis;
  ASSERT_EQ(device_->stop(), 0) << device_->output();
  auto info = rsp({"euicc", "m2m-info", "--dir", card().string()});
  EXPECT_NE(info.output.find(ours_), std::string::npos) << info.output;
  auto list = rsp({"smdp", "profiles", "list", "--db", (dir_.path() / "smdp.db").string()});
  EXPECT_NE(list.output.find(ours_ + " mno-dp m2m-data downloaded"), std::string::npos) << list.output;
}

}  // namespace
}  // namespace rsp::e2e
