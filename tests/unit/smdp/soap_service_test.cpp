// The M2M SM-DP's ES2 in SGP.02's SOAP binding (smdp/soap_service.hpp)
// beside the JSON one, the SM-SR's ES3 port faked: the same calls give the
// same results over both (GetEIS, DownloadProfile accepted, AuditEIS with
// an ICCID list, refusals with their subject/reason); every response
// validates against docs/smdp.xsd; what is no usable SOAP request is a
// SOAP fault; the MNO callbacks in SOAP validate too.
#include "rsp/smdp/soap_service.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "rsp/crypto/random.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m/es2.hpp"
#include "rsp/m2m/es_status.hpp"
#include "rsp/m2m_soap/callback.hpp"
#include "rsp/m2m_soap/endpoint.hpp"
#include "rsp/smdp/es2_http.hpp"
#include "rsp/store/open.hpp"
#include "test_support/sample_eis.hpp"
#include "test_support/soap_call.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::smdp {
namespace {

using nlohmann::json;
using test_support::SoapAnswer;
namespace codes = m2m::codes;
namespace es2 = m2m::es2;
namespace es3 = m2m::es3;

const std::string kXsd = std::string(RSP_SOURCE_DIR) + "/docs/smdp.xsd";
const std::string kEid = "89049032123451234512345678901235", kSmsr = "smsr-1";
/// Two profiles of mno-a, one of mno-b.
const std::string kMine = "8900100000000000001", kMine2 = "8900100000000000019", kTheirs = "8900200000000000002";

/// The SM-SR's side of ES3: GetEIS answered with an EIS (keys left out, as
/// ES3 gives it), anything else unreachable.
class EisPort : public Es3Port {
 public:
  expected<es3::Result, std::string> call(const es3::Request& r) override {
    std::lock_guard lock(mu_);
    if (es3::function_of(r) != es3::Function::GetEis) return unexpected(std::string("the SM-SR could not be reached"));
    es3::Result out;
    out.status = "Executed-Success";
    json eis = test_support::sample_eis(kEid);
    eis["isdR"].erase("scp80KeySets");
    eis["isdR"].erase("scp81Psk");
    out.eis = eis;
    return out;
  }

 private:
  std::mutex mu_;
};

class SmdpSoapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kek = service::KeyEncryptionKey::make(Bytes(32, 0x3C));
    ASSERT_TRUE(kek);
    auto db = store::open_database((tmp_.path() / "smdp.db").string());
    ASSERT_TRUE(db);
    db_ = std::shared_ptr<store::Database>(std::move(*db));
    auto inventory = Inventory::open(db_, std::make_shared<const service::KeyEncryptionKey>(std::move(*kek)));
    ASSERT_TRUE(inventory);
    inventory_ = std::move(*inventory);
    Bytes upp(64, 0x44);
    upp[0] = 0xA0;
    for (const auto& [iccid, mno] : {std::pair{kMine, "mno-a"}, {kMine2, "mno-a"}, {kTheirs, "mno-b"}})
      ASSERT_TRUE(inventory_->add(iccid, "m2m-data", mno, upp, crypto::system_random()));
    auto outbox = service::SqlOutbox::open(db_, std::string(kMnoCallbackOutbox), clock_);
    ASSERT_TRUE(outbox);
    Es2ServiceConfig config(
        kSmsr, DownloadConfig{DpIdentity{{}, crypto::EcKey::generate(crypto::Curve::NistP256).value()}, {}, 8, {}});
    auto svc = Es2Service::open(std::move(config), db_, inventory_, port_, *outbox);
    ASSERT_TRUE(svc) << svc.error();
    svc_ = std::shared_ptr<Es2Service>(std::move(*svc));
    for (auto& r : es2_routes(svc_, {"mno-a", "mno-b"})) json_routes_[r.function] = r.handler;
    soap_ = soap_es2_route(svc_, {"mno-a", "mno-b"}).handler;
  }
  void TearDown() override {
    if (svc_) svc_->stop();
  }

  SoapAnswer json_call(es2::Function f, const json& fields, const std::string& caller = "mno-a") {
    net::Request req;
    req.method = "POST";
    req.path = std::string(es2::function(f).path);
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = fields.dump();
    auto reply = json_routes_.at(std::string(es2::function(f).name))(req, service::Caller{caller});
    return SoapAnswer{reply.response.status, json::parse(reply.response.body), reply.response.body};
  }
  SoapAnswer soap_raw(const std::string& envelope, const std::string& caller = "mno-a",
                      const std::string& content_type = "application/soap+xml; charset=utf-8") {
    return test_support::soap_post(soap_, kSoapEs2Path, envelope, caller, kXsd, content_type);
  }
  static std::string envelope(es2::Function f, const json& fields) {
    return test_support::soap_request(kEs2ActionPrefix, m2m_soap::message_name(es2::function(f).name), fields);
  }
  SoapAnswer soap_call(es2::Function f, const json& fields, const std::string& caller = "mno-a") {
    return soap_raw(envelope(f, fields), caller);
  }

  /// The status and codes of an answer in either binding (the message, in
  /// words, left out).
  static json status_of(const SoapAnswer& a) {
    json s = a.body.contains("header") ? a.body["header"]["functionExecutionStatus"]
                                       : a.body.value("functionExecutionStatus", json());
    if (s.contains("statusCodeData")) s["statusCodeData"].erase("message");
    return s;
  }

  test_support::TempDir tmp_;
  service::ManualClock clock_{service::TimePoint(std::chrono::seconds(1'800'000'000))};
  std::shared_ptr<store::Database> db_;
  std::shared_ptr<Inventory> inventory_;
  EisPort port_;
  std::shared_ptr<Es2Service> svc_;
  std::map<std::string, service::FunctionHandler> json_routes_;
  service::FunctionHandler soap_;
};

TEST_F(SmdpSoapTest, SameCallsGiveTheSameResultsOverSoapAndJson) {
  // GetEIS: answered at once, the same EIS.
  const json get{{"eid", kEid}, {"smsrId", kSmsr}};
  SoapAnswer j = json_call(es2::Function::GetEis, get);
  json soap_fields = get;
  soap_fields["functionCallIdentifier"] = "call-1";
  SoapAnswer s = soap_call(es2::Function::GetEis, soap_fields);
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.status, j.status);
  EXPECT_EQ(status_of(s), status_of(j)) << s.raw;
  EXPECT_EQ(status_of(s)["status"], "Executed-Success");
  ASSERT_TRUE(s.body.contains("eis")) << s.raw;
  EXPECT_EQ(s.body["eis"], j.body["eis"]);
  EXPECT_EQ(s.body.value("functionCallIdentifier", ""), "call-1");
  auto env = soap::parse_envelope(s.raw);
  ASSERT_TRUE(env);
  EXPECT_EQ(env->addressing.relates_to, "urn:uuid:1");
  EXPECT_EQ(env->addressing.action, std::string(kEs2ActionPrefix) + "ES2-GetEISResponse");

  // DownloadProfile (enable): accepted on both, one operation each.
  j = json_call(es2::Function::DownloadProfile,
                {{"eid", kEid}, {"iccid", kMine}, {"smsrId", kSmsr}, {"enableProfile", true}});
  s = soap_call(es2::Function::DownloadProfile,
                {{"eid", kEid}, {"iccid", kMine2}, {"smsrId", kSmsr}, {"enableProfile", true}, {"validityPeriod", 600}});
  EXPECT_EQ(j.status, 202) << j.raw;
  EXPECT_EQ(s.status, j.status) << s.raw;
  EXPECT_EQ(s.body.value("state", ""), "accepted");
  EXPECT_EQ(s.body.value("state", ""), j.body.value("state", ""));
  ASSERT_TRUE(s.body.contains("operationId"));
  EXPECT_EQ(s.body["operationId"].get<std::int64_t>(), j.body["operationId"].get<std::int64_t>() + 1);
  EXPECT_EQ(inventory_->get("mno-a", kMine2)->state, inventory_->get("mno-a", kMine)->state);
  EXPECT_NE(inventory_->get("mno-a", kMine2)->state, ProfileState::Available);

  // AuditEIS with an ICCID list (a list of values in SOAP).
  const json audit{{"eid", kEid}, {"smsrId", kSmsr}, {"iccidList", {kMine}}};
  j = json_call(es2::Function::AuditEis, audit);
  s = soap_call(es2::Function::AuditEis, audit);
  EXPECT_EQ(s.status, j.status) << s.raw;
  EXPECT_EQ(status_of(s), status_of(j));
  EXPECT_EQ(s.body.contains("operationId"), j.body.contains("operationId"));
}

TEST_F(SmdpSoapTest, RefusalsCarryTheSameSubjectAndReasonOnBothBindings) {
  struct Case {
    es2::Function f;
    json fields;
    std::string caller;
  };
  const std::vector<Case> cases = {
      {es2::Function::DownloadProfile, {{"eid", kEid}, {"iccid", kTheirs}, {"smsrId", kSmsr}}, "mno-a"},  // not its own
      {es2::Function::DownloadProfile, {{"eid", kEid}, {"iccid", kMine}, {"smsrId", "smsr-9"}}, "mno-a"},
      {es2::Function::DownloadProfile, {{"iccid", kMine}, {"smsrId", kSmsr}}, "mno-a"},  // Eid missing
      {es2::Function::DownloadProfile, {{"eid", kEid}, {"smsrId", kSmsr}}, "mno-a"},     // no profile named
      {es2::Function::DownloadProfile, {{"eid", kEid}, {"iccid", kMine}, {"smsrId", kSmsr}, {"enableProfile", "maybe"}}, "mno-a"},
      {es2::Function::GetEis, {{"eid", kEid}, {"smsrId", kSmsr}, {"surprise", "x"}}, "mno-a"},  // unknown element
      {es2::Function::GetEis, {{"eid", "123"}, {"smsrId", kSmsr}}, "mno-a"},
      {es2::Function::AuditEis, {{"eid", kEid}, {"smsrId", kSmsr}, {"iccidList", {"12"}}}, "mno-a"},
      {es2::Function::UpdatePolicyRules,
       {{"eid", kEid}, {"iccid", kMine}, {"smsrId", kSmsr},
        {"pol2", {{{"subject", "PROFILE"}, {"action", "DISABLE"}, {"qualification", "Not allowed"}}}}}, "mno-a"},
      {es2::Function::GetEis, {{"eid", kEid}, {"smsrId", kSmsr}}, "smsr-x"},  // not an MNO
  };
  for (const auto& c : cases) {
    SoapAnswer s = soap_call(c.f, c.fields, c.caller);
    SoapAnswer j = json_call(c.f, c.fields, c.caller);
    EXPECT_EQ(s.status, j.status) << c.fields.dump() << "\n" << s.raw;
    EXPECT_EQ(status_of(s), status_of(j)) << c.fields.dump() << "\n" << s.raw << "\n" << j.raw;
    EXPECT_NE(status_of(s).value("status", ""), "Executed-Success") << c.fields.dump();
  }
  // Nothing was reserved by any of them.
  EXPECT_EQ(inventory_->get("mno-a", kMine)->state, ProfileState::Available);
  EXPECT_EQ(inventory_->get("mno-b", kTheirs)->state, ProfileState::Available);
}

TEST_F(SmdpSoapTest, StrictDecodingAndFaults) {
  const std::string good = envelope(es2::Function::GetEis, {{"eid", kEid}, {"smsrId", kSmsr}});
  ASSERT_EQ(soap_raw(good).status, 200);
  auto expect_fault = [&](const std::string& env, const std::string& what,
                          const std::string& ct = "application/soap+xml") {
    SoapAnswer a = soap_raw(env, "mno-a", ct);
    EXPECT_EQ(a.status, 400) << what;
    EXPECT_EQ(a.body.value("fault", ""), "Fault") << what << "\n" << a.raw;
  };
  expect_fault("", "empty");
  expect_fault("<a><b></a>", "not well-formed");
  expect_fault(good.substr(0, good.size() / 2), "cut short");
  std::string es4_action = good;  // the SM-SR's ES4 action on the SM-DP's ES2 endpoint
  es4_action.replace(es4_action.find(kEs2ActionPrefix), kEs2ActionPrefix.size(), "http://gsma.com/ES4/ProfileManagent/");
  expect_fault(es4_action, "ES4 action");
  std::string other_body = good;  // action GetEIS, body DownloadProfile
  other_body.replace(other_body.find("ES2-GetEISRequest"), 17, "ES2-DownloadProfileRequest");
  other_body.replace(other_body.rfind("ES2-GetEISRequest"), 17, "ES2-DownloadProfileRequest");
  expect_fault(other_body, "body of another function");
  std::string wrong_body_ns = good;
  wrong_body_ns.replace(wrong_body_ns.find(m2m_soap::kGsmaNs), m2m_soap::kGsmaNs.size(), "urn:other");
  expect_fault(wrong_body_ns, "wrong body namespace");
  const std::string xxe = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" +
                          good.substr(good.find("<env:Envelope"));
  expect_fault(xxe, "external entity");
  expect_fault(good, "JSON content type", "application/json");

  // An element of the request in another namespace, or text beside
  // elements: refused as an invalid request (1.6/2.1), in a response.
  std::string foreign = good;
  const auto eid_at = foreign.find("<rps:Eid>");
  ASSERT_NE(eid_at, std::string::npos) << good;
  foreign.insert(eid_at, "<x:Extra xmlns:x=\"urn:other\">1</x:Extra>");
  SoapAnswer a = soap_raw(foreign);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(status_of(a)["statusCodeData"]["subjectCode"], codes::kInvalidRequest.subject) << a.raw;
  EXPECT_EQ(status_of(a)["statusCodeData"]["reasonCode"], codes::kInvalidRequest.reason);
  std::string mixed = good;
  mixed.insert(mixed.find("<rps:Eid>"), "stray text");
  a = soap_raw(mixed);
  EXPECT_EQ(status_of(a)["statusCodeData"]["subjectCode"], codes::kInvalidRequest.subject) << a.raw;
}

TEST_F(SmdpSoapTest, UnauthenticatedCallersGetTheirBindingsAnswer) {
  net::Request req;
  req.path = std::string(kSoapEs2Path);
  req.body = envelope(es2::Function::GetEis, {{"eid", kEid}, {"smsrId", kSmsr}});
  auto r = smdp_unauthenticated_reply(req);
  EXPECT_EQ(r.response.status, 401);
  auto env = soap::parse_envelope(r.response.body);
  ASSERT_TRUE(env);
  EXPECT_EQ(env->body.name, "Fault");
  req.path = std::string(es2::function(es2::Function::GetEis).path);
  r = smdp_unauthenticated_reply(req);
  EXPECT_EQ(r.response.status, 401);
  EXPECT_EQ(r.response.content_type.rfind("application/json", 0), 0u);
}

TEST(SmdpSoapCallbacks, ResultsAndNotificationsValidate) {
  es2::Result result;
  result.call_id = "op-7";
  result.function = es2::Function::DownloadProfile;
  result.operation_id = 7;
  result.eid = kEid;
  result.iccid = kMine;
  result.status = "Failed";
  result.subject_code = codes::kIccidUnknown.subject;
  result.reason_code = codes::kIccidUnknown.reason;
  auto cb = m2m_soap::soap_callback(es2::encode_callback(result), "https://mno-a.example/cb", "https://smdp.example");
  ASSERT_TRUE(cb) << cb.error();
  EXPECT_EQ(cb->action, "http://gsma.com/ES2/ProfileManagentCallBack/ES2-DownloadProfile");
  EXPECT_TRUE(soap::validate_body(cb->envelope, kXsd));
  auto env = soap::parse_envelope(cb->envelope);
  ASSERT_TRUE(env);
  EXPECT_EQ(env->body.name, "ES2-DownloadProfileResponse");
  EXPECT_EQ(env->addressing.message_id, "urn:rsp:smdp:callback:op-7");
  auto back = m2m_soap::soap_to_json(env->body);
  ASSERT_TRUE(back);
  EXPECT_EQ((*back)["functionExecutionStatus"]["statusCodeData"]["reasonCode"], codes::kIccidUnknown.reason);

  es2::Notification n{"note-1", std::string(es2::kProfileEnabledNotification), kEid, kMine, "2026-12-04T17:00:00Z",
                      std::nullopt};
  cb = m2m_soap::soap_callback(es2::encode_callback(n), "https://mno-a.example/cb", "");
  ASSERT_TRUE(cb) << cb.error();
  EXPECT_EQ(cb->action, "http://gsma.com/ES2/ProfileManagentCallBack/ES2-HandleProfileEnabledNotification");
  auto valid = soap::validate_body(cb->envelope, kXsd);
  EXPECT_TRUE(valid) << valid.error();
  EXPECT_FALSE(m2m_soap::soap_callback(R"({"function":"ES3.CreateISDP","functionCallIdentifier":"x"})", "u", ""));

  // The SM-SR change, passed on by the SM-DP: the EIS (no key), no Eid or Iccid beside it.
  const m2m::Eis eis = *m2m::eis_from_json(test_support::keyless_sample_eis(kEid));
  es2::Notification moved{"note-2-mno-a", std::string(es2::kSmsrChangeNotification), kEid, "",
                          "2026-12-04T17:00:00Z", eis};
  cb = m2m_soap::soap_callback(es2::encode_callback(moved), "https://mno-a.example/cb", "");
  ASSERT_TRUE(cb) << cb.error();
  EXPECT_EQ(cb->action, "http://gsma.com/ES2/ProfileManagentCallBack/ES2-HandleSMSRChangeNotification");
  valid = soap::validate_body(cb->envelope, kXsd);
  EXPECT_TRUE(valid) << valid.error() << "\n" << cb->envelope;
  env = soap::parse_envelope(cb->envelope);
  ASSERT_TRUE(env);
  back = m2m_soap::soap_to_json(env->body);
  ASSERT_TRUE(back);
  ASSERT_TRUE(back->contains("eis")) << back->dump();
  EXPECT_EQ((*back)["eis"]["smsrId"], "smsr-2");
  EXPECT_FALSE(back->contains("iccid"));
  // Its JSON form decodes back to the same notification.
  auto decoded = es2::decode_callback(es2::encode_callback(moved));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::get<es2::Notification>(*decoded), moved);
}

}  // namespace
}  // namespace rsp::smdp
