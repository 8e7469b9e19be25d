// `rsp demo m2m` (scripts/demo.sh runs it): every step of the M2M story
// completes on the embedded default, the download through the M2M SM-DP and
// the SM-SR change among them, and no key is printed.

#include <gtest/gtest.h>

#include "run_tool.hpp"

namespace rsp::e2e {
namespace {

TEST(DemoM2m, EveryStepCompletes) {
  TempDir dir;
  auto r = rsp({"demo", "m2m", "--dir", dir.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("all 14 steps completed"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("FAILED"), std::string::npos) << r.output;
  for (const char* needle : {
           "MNO callback: ES4.EnableProfile", "Executed-Success", "refused: 8.2.2/3.8", "the eUICC answered 6985",
           "Expired",
           // The download: ES3 through the SM-SR, ES8 on the card, the MNO told by the SM-DP,
           // the new profile enabled on the device.
           "sm-dp: ES3.CreateISDP -> Executed-Success",
           "sm-dp: ES3.SendData (ES8 key establishment, ECKA scenario #3: CERT.DP.ECDSA; the card answers with its "
           "random challenge) -> Executed-Success",
           "sm-dp: ES3.SendData (ES8 key establishment: the SM-DP's ephemeral key, signed over that challenge; the "
           "card's receipt) -> Executed-Success",
           "sm-dp: ES3.SendData (the profile under SCP03t) -> Executed-Success",
           // The demo's profile type has connectivity parameters: secured by the SM-DP, held by the card.
           "sm-dp: ES3.UpdateConnectivityParameters (ES8.UpdateConnectivityParameters: the SMS centre "
           "+447700900000, under the ISD-P's SCP03 keys) -> Executed-Success",
           "8988200000000000034 connectivity:A009800791447700090000",
           "sm-dp: ES3.EnableProfile -> Executed-Success",
           "MNO callback: ES2.DownloadProfile 8988200000000000034 Executed-Success",
           "the device's profiles: 8988200000000000018 DISABLED, 8988200000000000026 DISABLED, "
           "8988200000000000034 ENABLED",
           "in the SM-DP's inventory: 8988200000000000034 downloaded",
           // The SM-SR change: both audit trails, the new SM-SR's enable, the old one's refusal.
           "PrepareSMSRChange at smsr.two: Executed-Success", "the EIS is at smsr.two now",
           "MNO callback: ES4.SMSRChange Executed-Success", "audit at smsr.demo: demo-mno ES4.SMSRChange",
           "audit at smsr.two: smsr.demo ES7.HandoverEUICC", "8988200000000000026 ENABLED, 8988200000000000034 DISABLED",
           "refused by smsr.demo: 8.1.1/3.9"})
    EXPECT_NE(r.output.find(needle), std::string::npos) << needle << "\n" << r.output;
  // The card's keys are in its state; none of them shows in the demo's output.
  EXPECT_EQ(r.output.find("\"kic\""), std::string::npos);
  EXPECT_EQ(r.output.find("scp81Psk"), std::string::npos);
}

}  // namespace
}  // namespace rsp::e2e
