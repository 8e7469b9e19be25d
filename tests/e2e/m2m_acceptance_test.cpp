// SGP.02 end to end across processes (the acceptance of the M2M SM-DP and
// SM-SR change): two `rsp smsr serve` (smsr-1, smsr-2), `rsp smdp serve` with
// ES3 to smsr-1, the test SMSC, the device (`rsp euicc m2m-run`) and the MNO's
// callback endpoint (m2m_serve_fixture.hpp).
//
//  1. ES2 DownloadProfile(enable) at the SM-DP -> ES3 CreateISDP -> SMS
//     wake-up -> PSK-TLS session -> ES8 key establishment -> SCP03t profile
//     load -> enable -> the SM-DP's and the MNO's results; `rsp euicc
//     m2m-info` shows the profile enabled on the card.
//  2. The MNO gives the new profile its number (ES4 UpdateSubscriptionAddress
//     at smsr-1: the wake-ups go to the enabled profile's MSISDN).
//  3. ES4 PrepareSMSRChange at smsr-2, ES4 SMSRChange at smsr-1: smsr-1 wakes
//     the device and runs smsr-2's key establishment on the ISD-R (ES7
//     AuthenticateSMSR, CreateAdditionalKeyset over mutual TLS), hands the EIS
//     over (ES7 HandoverEUICC), then deletes its own keys on the card.
//  4. ES4 EnableProfile (the bootstrap profile) through smsr-2: its own SMS
//     address and admin listener, the card's new keys; smsr-2 calls back.
//     smsr-2 notified the SM-DP (ES3.HandleSMSRChangeNotification), which
//     told the MNO once (ES2.HandleSMSRChangeNotification) and sends its
//     later ES3 calls to smsr-2: ES2 EnableProfile and AuditEIS through the
//     SM-DP reach it; naming smsr-1 is refused.
//  5. The same call at smsr-1 is refused: it no longer knows the eUICC.
//  6. Both audit trails (`rsp smsr audit`) record the change.

#include "m2m_serve_fixture.hpp"

namespace rsp::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class M2mAcceptance : public M2mServeTest {
 protected:
  void before_smsr() override {
    // smsr-2 first: smsr-1 needs its ES7 URL. It never calls smsr-1 (ES7 goes
    // from the current SM-SR to the new one), so its peer's URL is a placeholder.
    json c = smsr_config("smsr-2", "smsr2", "pw-smsr2", "4912346");
    c["smsrs"] = {{{"name", "smsr-1"},
                   {"client_cert", (pki() / "CERT_M2M_SM_SR_TLS_NIST.pem").string()},
                   {"es7_url", "https://127.0.0.1:1"}}};
    c["es7_trust"] = ci();
    // CERT.SR.ECDSA's stand-in: the test PKI's M2M signing certificate under the CI.
    c["es7_certificate"] = (pki() / "CERT_M2M_SM_DP_ECDSA_NIST.pem").string();
    c["es7_key"] = (pki() / "SK_M2M_SM_DP_ECDSA_NIST.pem").string();
    c["es7_ci"] = ci();
    c["ecasd_trust"] = (pki() / "CERT_EUM_ECDSA_NIST.pem").string();
    // The SM-DP, by the name smsr-1 knows it by (the EIS's ISD-Ps carry it):
    // its ES3 calls and the notifications smsr-2 sends it on its own route.
    c["smdps"] = {{{"name", "smdp-1"},
                   {"client_cert", (pki() / "CERT_M2M_SM_DP_TLS_NIST.pem").string()},
                   {"callback_url", smdp_url_ + "/gsma/m2m/es3/results-smsr-2"}}};
    smsr2_ = start_smsr("smsr-2", c);
    smsr2_url_ = smsr2_->url();
    ASSERT_EQ(smsr2_url_.rfind("https://127.0.0.1:", 0), 0u) << smsr2_->output();
  }
  void add_to_smsr(json& c) override {
    c["smsrs"] = {{{"name", "smsr-2"},
                   {"client_cert", (pki() / "CERT_M2M_SM_SR_TLS_NIST.pem").string()},
                   {"es7_url", smsr2_url_}}};
    c["es7_trust"] = ci();
  }
  void add_to_smdp(json& c) override {
    c["more_smsrs"] = {{{"smsr_id", "smsr-2"},
                        {"smsr_url", smsr2_url_},
                        {"results_path", "/gsma/m2m/es3/results-smsr-2"}}};
  }
  void TearDown() override {
    M2mServeTest::TearDown();
    if (smsr2_) smsr2_->stop();
  }

  json es4(const std::string& url, const std::string& function, const json& body) {
    return call(url, "/gsma/m2m/es4/" + function, body.dump(), kMnoKey);
  }
  std::string info() { return rsp({"euicc", "m2m-info", "--dir", card().string()}).output; }
  std::string logs() { return smdp_->output() + smsr_->output() + smsr2_->output() + device_->output(); }
  /// `rsp smsr audit` of an SM-SR's database once it holds every line of
  /// `needles` (the serving SM-SR writes its buffered lines within a second).
  std::string audit_with(const std::string& id, const std::vector<std::string>& needles) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = rsp({"smsr", "audit", "--db", smsr_db(id), "--eid", eid_});
      EXPECT_EQ(r.exit_code, 0) << r.output;
      out = r.output;
      if (std::all_of(needles.begin(), needles.end(),
                      [&](const std::string& n) { return out.find(n) != std::string::npos; }))
        break;
      std::this_thread::sleep_for(200ms);
    }
    return out;
  }

  std::unique_ptr<ServeProcess> smsr2_;
  std::string smsr2_url_;
};

TEST_F(M2mAcceptance, DownloadEnableThenSmsrChangeThenEnableThroughTheNewSmsr) {
  // 1. The download with enable, through the SM-DP and smsr-1.
  auto a = call(smdp_url_, "/gsma/m2m/es2/downloadProfile",
                json{{"eid", eid_}, {"profileType", "m2m-data"}, {"smsrId", "smsr-1"}, {"enableProfile", true}}.dump(),
                kMnoKey);
  ASSERT_EQ(last_status_, 202) << a << smdp_->output();
  const auto download = a.value("operationId", std::int64_t{0});
  auto callback = mno_.result_of("smdp", "ES2.DownloadProfile", download);
  ASSERT_TRUE(callback.is_object()) << logs();
  ASSERT_EQ(callback["functionExecutionStatus"]["status"], "Executed-Success") << callback << logs();
  EXPECT_EQ(callback["iccid"], ours_);
  auto eis = es4(smsr_url_, "getEIS", {{"eid", eid_}});
  EXPECT_EQ(profile_state(eis, ours_), "Enabled") << eis;
  for (const auto& p : eis["eis"]["profiles"])  // DownloadProfile gives the profile no number
    if (p.value("iccid", "") == ours_) EXPECT_FALSE(p.contains("subscriptionAddress")) << p;
  // The card, read beside the running device.
  std::string card = info();
  EXPECT_NE(card.find(ours_ + " ENABLED"), std::string::npos) << card;
  EXPECT_NE(card.find(boot_iccid_ + " DISABLED"), std::string::npos) << card;
  EXPECT_NE(card.find("ISD-R keys: SCP80 version(s) 1,"), std::string::npos) << card;
  // The profile type's connectivity parameters reached the new ISD-P
  // (ES8.UpdateConnectivityParameters through the SM-SR, enciphered).
  EXPECT_NE(card.find(ours_ + " ENABLED connectivity:" + std::string(kConnectivityParameters)), std::string::npos)
      << card;

  // 2. The new profile's number, where the SM-SRs' wake-ups now go.
  a = es4(smsr_url_, "updateSubscriptionAddress",
          {{"eid", eid_}, {"iccid", ours_}, {"subscriptionAddress", {{"msisdn", kDownloadedMsisdn}}}});
  ASSERT_EQ(status(a), "Executed-Success") << a;

  // 3. The SM-SR change, the device taking part.
  a = es4(smsr2_url_, "prepareSMSRChange", {{"eid", eid_}, {"currentSmsrId", "smsr-1"}});
  ASSERT_EQ(status(a), "Executed-Success") << a;
  a = es4(smsr_url_, "smsrChange", {{"eid", eid_}, {"targetSmsrId", "smsr-2"}});
  ASSERT_EQ(status(a), "Executed-Success") << a << logs();
  const auto change = a.value("operationId", std::int64_t{0});
  ASSERT_GT(change, 0) << a;
  callback = mno_.result_of("smsr-1", "ES4.SMSRChange", change);
  ASSERT_TRUE(callback.is_object()) << logs();
  ASSERT_EQ(callback["functionExecutionStatus"]["status"], "Executed-Success") << callback << logs();
  // smsr-2 holds the EIS, smsr-1 no longer knows the eUICC.
  eis = es4(smsr2_url_, "getEIS", {{"eid", eid_}});
  ASSERT_EQ(status(eis), "Executed-Success") << eis;
  EXPECT_EQ(eis["eis"].value("smsrId", ""), "smsr-2") << eis;
  EXPECT_EQ(profile_state(eis, ours_), "Enabled") << eis;
  // smsr-1 drops the EIS once its keys are deleted on the card (its second
  // session, after the MNO's result): 8.1.1/3.9, EID unknown
  // (m2m::codes::kEidUnknown; not yet checked against the SGP.02 text).
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  do {
    a = es4(smsr_url_, "getEIS", {{"eid", eid_}});
    if (code(a) == "8.1.1/3.9") break;
    std::this_thread::sleep_for(200ms);
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(code(a), "8.1.1/3.9") << a << logs();
  // On the card: smsr-2's key sets (version 2) only, smsr-1's deleted.
  card = info();
  EXPECT_NE(card.find("ISD-R keys: SCP80 version(s) 2,"), std::string::npos) << card;
  // The MNO heard of the change once, from the SM-DP (ES2), which smsr-2 told
  // (ES3); smsr-2 told it nothing directly (its profiles there came through
  // the SM-DP or are pre-installed beside one that did).
  auto moved = mno_.notification_of("smdp", "ES2.HandleSMSRChangeNotification", "");
  ASSERT_TRUE(moved.is_object()) << logs();
  // It carries the EIS as the MNO may see it (SGP.02 as bagyenda/njiwa reads
  // it: Eis and CompletionTimestamp), no key.
  ASSERT_TRUE(moved.contains("eis")) << moved;
  EXPECT_EQ(moved["eis"].value("smsrId", ""), "smsr-2") << moved;
  EXPECT_EQ(moved["eis"].value("eid", ""), eid_) << moved;
  EXPECT_FALSE(moved["eis"]["isdR"].contains("scp81Psk")) << moved;
  for (const auto& p : moved["eis"]["profiles"]) EXPECT_EQ(p.value("mnoId", ""), "mno-dp") << moved;

  // 4. EnableProfile through smsr-2: the bootstrap profile again.
  a = es4(smsr2_url_, "enableProfile", {{"eid", eid_}, {"iccid", boot_iccid_}});
  ASSERT_EQ(last_status_, 202) << a;  // accepted as an operation
  const auto enable = a.value("operationId", std::int64_t{0});
  ASSERT_GT(enable, 0) << a;
  callback = mno_.result_of("smsr-2", "ES4.EnableProfile", enable);
  ASSERT_TRUE(callback.is_object()) << logs();
  EXPECT_EQ(callback["functionExecutionStatus"]["status"], "Executed-Success") << callback << logs();
  eis = es4(smsr2_url_, "getEIS", {{"eid", eid_}});
  EXPECT_EQ(profile_state(eis, boot_iccid_), "Enabled") << eis;
  EXPECT_EQ(profile_state(eis, ours_), "Disabled") << eis;
  card = info();
  EXPECT_NE(card.find(boot_iccid_ + " ENABLED"), std::string::npos) << card;
  EXPECT_NE(card.find(ours_ + " DISABLED"), std::string::npos) << card;

  // 4b. The MNO's ES2 functions through the SM-DP reach smsr-2 now: enable
  // the downloaded profile again, then audit the eUICC.
  a = call(smdp_url_, "/gsma/m2m/es2/enableProfile",
           json{{"eid", eid_}, {"iccid", ours_}, {"smsrId", "smsr-2"}}.dump(), kMnoKey);
  ASSERT_EQ(last_status_, 202) << a << smdp_->output();
  const auto es2_enable = a.value("operationId", std::int64_t{0});
  callback = mno_.result_of("smdp", "ES2.EnableProfile", es2_enable);
  ASSERT_TRUE(callback.is_object()) << logs();
  EXPECT_EQ(callback["functionExecutionStatus"]["status"], "Executed-Success") << callback << logs();
  card = info();
  EXPECT_NE(card.find(ours_ + " ENABLED"), std::string::npos) << card;
  a = call(smdp_url_, "/gsma/m2m/es2/auditEIS", json{{"eid", eid_}, {"smsrId", "smsr-2"}}.dump(), kMnoKey);
  ASSERT_EQ(last_status_, 202) << a << smdp_->output();
  callback = mno_.result_of("smdp", "ES2.AuditEIS", a.value("operationId", std::int64_t{0}));
  ASSERT_TRUE(callback.is_object()) << logs();
  EXPECT_EQ(callback["functionExecutionStatus"]["status"], "Executed-Success") << callback << logs();
  EXPECT_EQ(profile_state(callback, ours_), "Enabled") << callback;
  // Naming the SM-SR the eUICC left is refused (8.7/3.8, the SM-DP's code).
  a = call(smdp_url_, "/gsma/m2m/es2/enableProfile",
           json{{"eid", eid_}, {"iccid", ours_}, {"smsrId", "smsr-1"}}.dump(), kMnoKey);
  EXPECT_EQ(status(a), "Failed") << a;
  EXPECT_EQ(code(a), "8.7/3.8") << a;
  // Still one change notification, none over ES4.
  EXPECT_EQ(mno_.count_of("smdp", "ES2.HandleSMSRChangeNotification"), 1u);
  EXPECT_EQ(mno_.count_of("smsr-2", "ES4.HandleSMSRChangeNotification"), 0u);

  // 5. The same call at smsr-1: refused, EID unknown.
  a = es4(smsr_url_, "enableProfile", {{"eid", eid_}, {"iccid", boot_iccid_}});
  EXPECT_EQ(status(a), "Failed") << a;
  EXPECT_EQ(code(a), "8.1.1/3.9") << a;
  // Nor can the change be asked of it again.
  a = es4(smsr_url_, "smsrChange", {{"eid", eid_}, {"targetSmsrId", "smsr-2"}});
  EXPECT_EQ(code(a), "8.1.1/3.9") << a;

  // 6. Both audit trails.
  const std::string old_trail =
      audit_with("smsr-1", {"ES4.SMSRChange", "ES7.HandoverEUICC to smsr-2", "key sets are deleted"});
  EXPECT_NE(old_trail.find("ES7.HandoverEUICC to smsr-2"), std::string::npos) << old_trail;
  EXPECT_NE(old_trail.find("key sets are deleted"), std::string::npos) << old_trail;
  const std::string new_trail = audit_with(
      "smsr-2", {"ES4.PrepareSMSRChange", "ES7.AuthenticateSMSR", "taken from smsr-1", "ES4.EnableProfile"});
  for (const char* line : {"mno-dp ES4.PrepareSMSRChange", "smsr-1 ES7.AuthenticateSMSR",
                           "smsr-1 ES7.CreateAdditionalKeyset", "smsr-1 ES7.HandoverEUICC", "taken from smsr-1",
                           "mno-dp ES4.EnableProfile"})
    EXPECT_NE(new_trail.find(line), std::string::npos) << line << "\n" << new_trail;
}

TEST_F(M2mAcceptance, AuditOfAnUnknownDatabaseOrAMissingEidFails) {
  auto r = rsp({"smsr", "audit", "--db", (dir_.path() / "none.db").string(), "--eid", eid_});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("no such database"), std::string::npos) << r.output;
  r = rsp({"smsr", "audit", "--db", smsr_db("smsr-1")});
  EXPECT_NE(r.exit_code, 0) << r.output;
  // A registered eUICC has its RegisterEIS line; another EID has none.
  r = rsp({"smsr", "audit", "--db", smsr_db("smsr-1"), "--eid", eid_});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = rsp({"smsr", "audit", "--db", smsr_db("smsr-1"), "--eid", "89049032123451234512345678901235"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(r.output.empty()) << r.output;
}

}  // namespace
}  // namespace rsp::e2e
