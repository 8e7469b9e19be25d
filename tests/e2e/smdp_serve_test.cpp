// The M2M SM-DP across processes, all in a temporary folder: `rsp smsr
// serve` (the SM-SR, ES3 for the SM-DP by its TLS client certificate, the
// SMSC the SMPP test double), `rsp smdp serve` (its inventory from `rsp smdp
// profiles import`), `rsp euicc m2m-run` (the device), the MNO's callback
// endpoint in the test. ES2 DownloadProfile(enable) -> CreateISDP -> SMS
// wake-up -> PSK-TLS session -> ES8 key establishment -> SCP03t profile load
// -> enable -> the MNO's callback; the eUICC's notification -> the SM-SR's
// ES3 HandleProfileEnabledNotification (mutual TLS, the SM-SR's certificate)
// -> the MNO's ES2 one; the SM-SR's EIS, the card folder and the SM-DP's
// inventory show the profile enabled. Another MNO's profile is refused with
// 8.2.1/3.9; the SM-DP's ES3 callbacks route refuses anyone but the SM-SR.
// The processes: m2m_serve_fixture.hpp (shared with m2m_acceptance_test.cpp).

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <thread>
#include <nlohmann/json.hpp>

#include "rsp/common/file.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/m2m_soap/messages.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/server.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/soap/envelope.hpp"
#include "m2m_serve_fixture.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"
#include "test_support/free_port.hpp"
#include "test_support/soap_call.hpp"

namespace rsp::e2e {
namespace {

using nlohmann::json;
namespace es3 = m2m::es3;
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
  // The eUICC's confirmation of the enable: SM-SR -> ES3 notification ->
  // SM-DP -> ES2 HandleProfileEnabledNotification to the MNO, once.
  auto note = mno_.notification_of("smdp", "ES2.HandleProfileEnabledNotification", ours_);
  ASSERT_TRUE(note.is_object()) << smdp_->output() << smsr_->output();
  EXPECT_EQ(note["eid"], eid_) << note;
  EXPECT_FALSE(note.value("completionTimestamp", "").empty()) << note;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(mno_.count_of("smdp", "ES2.HandleProfileEnabledNotification"), 1u);
  auto list = rsp({"smdp", "profiles", "list", "--db", (dir_.path() / "smdp.db").string()});
  EXPECT_NE(list.output.find(ours_ + " mno-dp m2m-data downloaded " + eid_ + " enabled"), std::string::npos)
      << list.output;

  // The ES3 callbacks route takes the SM-SR's client certificate only: an
  // MNO's API key is refused, no credentials are refused.
  es3::Notification forged{"forged-1", es3::NotificationFunction::ProfileDeleted, eid_, ours_, std::nullopt,
                           "2026-12-04T17:00:00Z"};
  call(smdp_url_, "/gsma/m2m/es3/results", es3::encode_notification(forged), kMnoKey);
  EXPECT_EQ(last_status_, 403);
  call(smdp_url_, "/gsma/m2m/es3/results", es3::encode_notification(forged), "");
  EXPECT_EQ(last_status_, 401);
  list = rsp({"smdp", "profiles", "list", "--db", (dir_.path() / "smdp.db").string()});
  EXPECT_NE(list.output.find(ours_ + " mno-dp m2m-data downloaded " + eid_ + " enabled"), std::string::npos)
      << list.output;
}

/// ES2 over SGP.02's SOAP binding on `rsp smdp serve` (/gsma/m2m/soap/ES2):
/// GetEIS (through the SM-SR's ES3) and a refused DownloadProfile answer as
/// over JSON; an unauthenticated caller gets a SOAP fault.
TEST_F(SmdpServe, Es2OverSoapAnswersAsOverJson) {
  const auto soap_call = [&](const std::string& function, const json& fields, const std::string& key) {
    net::HttpsClientOptions o;
    o.base_url = smdp_url_;
    o.trust_anchors = *net::load_certificates(pki() / "CERT_CI_ECDSA_NIST.pem");
    auto c = net::HttpsClient::create(std::move(o));
    EXPECT_TRUE(c) << c.error().message;
    if (!c) return json();
    net::Headers headers;
    if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + key);
    auto r = (*c)->request("POST", "/gsma/m2m/soap/ES2",
                           test_support::soap_request("http://gsma.com/ES2/ProfileManagent/", "ES2-" + function, fields),
                           "application/soap+xml; charset=utf-8", headers);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    if (!r) return json();
    last_status_ = r->status;
    auto env = soap::parse_envelope(r->body, soap::ParseOptions{256 * 1024, 32, 10000, false, false});
    EXPECT_TRUE(env) << r->body;
    if (!env) return json();
    if (env->body.name == "Fault") return json{{"fault", r->status}};
    auto body = m2m_soap::soap_to_json(env->body);
    EXPECT_TRUE(body) << r->body;
    return body ? *body : json();
  };
  const json get{{"eid", eid_}, {"smsrId", "smsr-1"}};
  auto j = call(smdp_url_, "/gsma/m2m/es2/getEIS", get.dump(), kMnoKey);
  auto s = soap_call("GetEIS", get, kMnoKey);
  EXPECT_EQ(last_status_, 200) << s;
  EXPECT_EQ(s["functionExecutionStatus"]["status"], "Executed-Success") << s << smdp_->output();
  EXPECT_EQ(s["functionExecutionStatus"]["status"], j["header"]["functionExecutionStatus"]["status"]);
  EXPECT_EQ(s["eis"], j["eis"]);

  const json theirs{{"eid", eid_}, {"iccid", theirs_}, {"smsrId", "smsr-1"}, {"enableProfile", true}};
  j = call(smdp_url_, "/gsma/m2m/es2/downloadProfile", theirs.dump(), kMnoKey);
  s = soap_call("DownloadProfile", theirs, kMnoKey);
  EXPECT_EQ(s["functionExecutionStatus"]["status"], "Failed") << s;
  EXPECT_EQ(s["functionExecutionStatus"]["statusCodeData"]["subjectCode"],
            j["header"]["functionExecutionStatus"]["statusCodeData"]["subjectCode"]);
  EXPECT_EQ(s["functionExecutionStatus"]["statusCodeData"]["reasonCode"],
            j["header"]["functionExecutionStatus"]["statusCodeData"]["reasonCode"]);

  s = soap_call("GetEIS", get, "");
  EXPECT_EQ(last_status_, 401);
  EXPECT_TRUE(s.contains("fault")) << s;
}

}  // namespace
}  // namespace rsp::e2e
