// The SM-SR's SOAP binding (soap_service.hpp) beside the JSON one: the same
// call gives the same result over both (RegisterEIS, GetEIS, an accepted
// EnableProfile, refusals with their subject/reason); every response we
// write validates against docs/smsr.xsd; what is no usable SOAP request is
// answered with a SOAP fault; an MNO whose callbacks are SOAP receives them
// as SOAP (rsp/m2m_soap/callback.hpp), from the outbox. ES3 and ES7 (with
// ES4 PrepareSMSRChange / SMSRChange) answer over SOAP as over JSON.
#include "rsp/smsr/soap_service.hpp"

#include <nlohmann/json.hpp>

#include "fixture.hpp"
#include "rsp/m2m/es_functions.hpp"
#include "rsp/net/server.hpp"
#include "rsp/service/outbox.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/m2m/es7.hpp"
#include "rsp/m2m_soap/endpoint.hpp"
#include "rsp/smsr/callbacks.hpp"
#include "rsp/smsr/es3_service.hpp"
#include "rsp/smsr/es7_service.hpp"
#include "rsp/smsr/http_service.hpp"
#include "rsp/m2m_soap/callback.hpp"
#include "rsp/m2m_soap/messages.hpp"
#include "rsp/soap/envelope.hpp"
#include "rsp/soap/schema.hpp"
#include "test_support/soap_call.hpp"

namespace rsp::smsr::testing {
namespace {

using m2m_soap::json_to_soap;
using m2m_soap::soap_callback;
using m2m_soap::soap_to_json;
using nlohmann::json;

const std::string kEid = "89049032123451234512345678901235";
const std::string kBoot = "8944000000000000011";    // mno1, Enabled, POL2 disable not allowed
const std::string kSecond = "8944000000000000029";  // mno1, Disabled
const std::string kOther = "8933000000000000037";   // mno2, Disabled
const std::string kXsd = std::string(RSP_SOURCE_DIR) + "/docs/smsr.xsd";

/// One answer as both bindings see it: the JSON object (the SOAP response's
/// body turned back into JSON for the SOAP side) and the HTTP status.
using Answer = test_support::SoapAnswer;

class SoapServiceTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ServiceConfig c;
    c.registry = registry_;
    c.clock = clock_;
    c.default_validity = std::chrono::seconds(600);
    es3_ = std::make_shared<Es3Service>(c);  // the same registry, clock and validity
    service_ = std::make_shared<Service>(std::move(c));
    CallerRoles roles;
    roles.eums = {"EUM-TEST"};
    roles.mnos = {"mno1", "mno2"};
    roles.smdps = {"smdp-1"};
    roles.smsrs = {"smsr-peer"};
    Es7Config c7;
    c7.registry = registry_;
    c7.clock = clock_;
    c7.smsr_id = "SMSR-TEST";
    es7_ = std::make_shared<Es7Service>(std::move(c7));
    for (auto& r : routes(service_, roles)) json_routes_[r.path] = r.handler;
    for (auto& r : es3_routes(es3_, roles.smdps)) json_routes_[r.path] = r.handler;
    for (auto& r : es7_routes(es7_, roles.smsrs, roles.mnos)) json_routes_[r.path] = r.handler;
    for (auto& r : soap_routes(service_, roles, es3_, es7_)) soap_routes_[r.path] = r.handler;
  }

  Answer json_call(std::string_view path, const json& body, const std::string& caller) {
    net::Request req;
    req.method = "POST";
    req.path = std::string(path);
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = body.dump();
    auto reply = json_routes_.at(req.path)(req, service::Caller{caller});
    return Answer{reply.response.status, json::parse(reply.response.body), reply.response.body};
  }
  Answer json_es4(m2m::Es4Function f, const json& body, const std::string& caller = "mno1") {
    return json_call(m2m::es4_function(f).path, body, caller);
  }

  /// Posts `envelope` to a SOAP endpoint; a response (not a fault) must
  /// validate against the XSD and relate to the request.
  Answer soap_raw(std::string_view path, const std::string& envelope, const std::string& caller,
                  const std::string& content_type = "application/soap+xml; charset=utf-8") {
    return test_support::soap_post(soap_routes_.at(std::string(path)), path, envelope, caller, kXsd, content_type);
  }

  /// An ES4 request `function` ("EnableProfile") with `fields` as SOAP 1.2.
  std::string es4_envelope(const std::string& function, const json& fields, const std::string& message_id = "urn:uuid:1") {
    return test_support::soap_request(kEs4ActionPrefix, "ES4-" + function, fields, message_id);
  }
  Answer soap_es4(const std::string& function, const json& fields, const std::string& caller = "mno1") {
    return soap_raw(kSoapEs4Path, es4_envelope(function, fields), caller);
  }

  Answer soap_register(const json& eis, const std::string& caller = "EUM-TEST") {
    soap::Element body{std::string(kGsmaNs), "ES1-RegisterEISRequest", {}, {}};
    json_to_soap(json{{"functionCallIdentifier", "reg-1"}, {"eis", eis}}, body);
    soap::Addressing a;
    a.action = std::string(kEs1RegisterEisAction);
    a.message_id = "urn:uuid:reg";
    return soap_raw(kSoapEs1Path, soap::build_envelope(soap::Version::Soap12, a, body), caller);
  }

  /// The status and codes of an answer, the same shape for both bindings.
  static json status_of(const Answer& a) {
    if (a.body.contains("functionExecutionStatus")) {
      json s = a.body["functionExecutionStatus"];
      if (s.contains("statusCodeData")) s["statusCodeData"].erase("message");
      return s;
    }
    if (a.body.contains("header")) {
      json s = a.body["header"]["functionExecutionStatus"];
      if (s.contains("statusCodeData")) s["statusCodeData"].erase("message");
      return s;
    }
    return json{{"state", a.body.value("state", "")}};
  }
  void register_eis() { ASSERT_TRUE(service_->register_eis("EUM-TEST", sample(kEid))); }
  /// Without the bootstrap profile's POL2 "disable not allowed", enabling
  /// another profile is accepted.
  void allow_enable() { ASSERT_TRUE(service_->update_policy_rules("mno1", kEid, kBoot, {})); }

  /// The same call over both bindings: status, execution status and codes
  /// alike (`what` names the case in a failure).
  void expect_alike(std::string_view soap_path, std::string_view action_prefix, std::string_view dotted,
                    std::string_view json_path, const json& fields, const std::string& caller) {
    const std::string what = std::string(dotted) + " " + fields.dump() + " by " + caller;
    Answer s = soap_raw(soap_path, test_support::soap_request(action_prefix, m2m_soap::message_name(dotted), fields),
                        caller);
    Answer j = json_call(json_path, fields, caller);
    EXPECT_EQ(s.status, j.status) << what << "\n" << s.raw << "\n" << j.raw;
    EXPECT_EQ(status_of(s), status_of(j)) << what << "\n" << s.raw << "\n" << j.raw;
  }

  std::shared_ptr<Service> service_;
  std::shared_ptr<Es3Service> es3_;
  std::shared_ptr<Es7Service> es7_;
  std::map<std::string, service::FunctionHandler> json_routes_, soap_routes_;
};

TEST_P(SoapServiceTest, RegisterEisOverSoapThenGetEisAlikeOnBothBindings) {
  Answer reg = soap_register(test_support::sample_eis(kEid));
  EXPECT_EQ(reg.status, 200) << reg.raw;
  EXPECT_EQ(status_of(reg), json({{"status", "Executed-Success"}})) << reg.raw;
  EXPECT_EQ(reg.body.value("functionCallIdentifier", ""), "reg-1");
  // The EIS the EUM sent over SOAP is the one stored, keys included.
  ASSERT_TRUE(registry_->eis(kEid) && *registry_->eis(kEid));
  EXPECT_EQ(**registry_->eis(kEid), sample(kEid));
  // A second registration is refused alike (EID in use) on both bindings.
  Answer again_soap = soap_register(test_support::sample_eis(kEid));
  Answer again_json = json_call(m2m::kEs1RegisterEis.path, json{{"eis", test_support::sample_eis(kEid)}}, "EUM-TEST");
  EXPECT_EQ(status_of(again_soap), status_of(again_json));
  EXPECT_EQ(status_of(again_soap)["status"], "Failed");

  Answer s = soap_es4("GetEIS", {{"eid", kEid}});
  Answer j = json_es4(m2m::Es4Function::GetEis, {{"eid", kEid}});
  EXPECT_EQ(s.status, j.status);
  EXPECT_EQ(status_of(s), status_of(j));
  ASSERT_TRUE(s.body.contains("eis")) << s.raw;
  EXPECT_EQ(s.body["eis"], j.body["eis"]);
  EXPECT_EQ(s.body["eis"]["profiles"].size(), 2u);  // mno1's own two
  EXPECT_EQ(s.raw.find("scp81Psk"), std::string::npos);
  EXPECT_EQ(s.raw.find("Scp81Psk"), std::string::npos);  // never a key to an MNO
}

TEST_P(SoapServiceTest, EnableProfileAcceptedAlikeAndRelatedToTheRequest) {
  register_eis();
  allow_enable();
  // Over JSON first; that operation ends (the card refused it) and the same
  // call goes over SOAP.
  Answer j = json_es4(m2m::Es4Function::EnableProfile, {{"eid", kEid}, {"iccid", kSecond}, {"validityPeriod", 120}});
  ASSERT_EQ(j.status, 202) << j.raw;
  ASSERT_TRUE(service_->complete(j.body["operationId"].get<std::int64_t>(), m2m::ExecutionStatus::Failed, {"8.2", "4.2"}));
  Answer s = soap_es4("EnableProfile", {{"eid", kEid}, {"iccid", kSecond}, {"validityPeriod", 120},
                                        {"functionCallIdentifier", "call-9"}});
  EXPECT_EQ(s.status, 202) << s.raw;
  EXPECT_EQ(s.status, j.status);
  EXPECT_EQ(s.body.value("state", ""), "accepted");
  EXPECT_EQ(status_of(s), status_of(j));
  EXPECT_EQ(s.body.value("validUntil", ""), j.body.value("validUntil", ""));
  EXPECT_EQ(s.body.value("functionCallIdentifier", ""), "call-9");
  ASSERT_TRUE(s.body.contains("operationId"));
  EXPECT_EQ(s.body["operationId"].get<std::int64_t>(), j.body["operationId"].get<std::int64_t>() + 1);
  auto op = service_->operation("mno1", s.body["operationId"].get<std::int64_t>());
  ASSERT_TRUE(op);
  EXPECT_EQ(op->eid, kEid);
  EXPECT_EQ(op->function, "ES4.EnableProfile");
  auto env = soap::parse_envelope(s.raw);
  ASSERT_TRUE(env);
  EXPECT_EQ(env->addressing.relates_to, "urn:uuid:1");
  EXPECT_EQ(env->addressing.action, std::string(kEs4ActionPrefix) + "ES4-EnableProfileResponse");
  EXPECT_NE(env->addressing.message_id, "urn:uuid:1");
  // GetOperation reads it back over SOAP.
  Answer got = soap_es4("GetOperation", {{"operationId", s.body["operationId"]}});
  EXPECT_EQ(got.body["operation"].value("state", ""), "accepted") << got.raw;
}

TEST_P(SoapServiceTest, RefusalsCarryTheSameSubjectAndReasonOnBothBindings) {
  register_eis();
  struct Case {
    std::string function;
    m2m::Es4Function fn;
    json fields;
    std::string caller;
  };
  const std::vector<Case> cases = {
      {"DisableProfile", m2m::Es4Function::DisableProfile, {{"eid", kEid}, {"iccid", kBoot}}, "mno1"},  // POL2
      {"EnableProfile", m2m::Es4Function::EnableProfile, {{"eid", kEid}, {"iccid", kSecond}}, "mno2"},  // not its own
      {"EnableProfile", m2m::Es4Function::EnableProfile, {{"eid", "89049032123451234512345678901000"}, {"iccid", kSecond}}, "mno1"},
      {"EnableProfile", m2m::Es4Function::EnableProfile, {{"eid", "123"}, {"iccid", kSecond}}, "mno1"},
      {"EnableProfile", m2m::Es4Function::EnableProfile, {{"iccid", kSecond}}, "mno1"},  // Eid missing
      {"EnableProfile", m2m::Es4Function::EnableProfile, {{"eid", kEid}, {"iccid", kSecond}, {"validityPeriod", "soon"}}, "mno1"},
      {"GetEIS", m2m::Es4Function::GetEis, {{"eid", kEid}, {"surprise", "x"}}, "mno1"},
      {"UpdatePolicyRules", m2m::Es4Function::UpdatePolicyRules, {{"eid", kEid}, {"iccid", kOther}, {"pol2", json::array()}}, "mno1"},
  };
  for (const auto& c : cases) {
    Answer s = soap_es4(c.function, c.fields, c.caller);
    Answer j = json_es4(c.fn, c.fields, c.caller);
    EXPECT_EQ(s.status, j.status) << c.function << " " << c.fields.dump();
    EXPECT_EQ(status_of(s), status_of(j)) << c.function << " " << c.fields.dump() << "\n" << s.raw;
    EXPECT_EQ(status_of(s)["status"], "Failed") << c.fields.dump();
    EXPECT_TRUE(s.body["functionExecutionStatus"]["statusCodeData"].contains("message"));
  }
  // An EUM on ES4, an MNO on ES1: refused as over JSON (1.1/1.2).
  Answer eum = soap_es4("GetEIS", {{"eid", kEid}}, "EUM-TEST");
  EXPECT_EQ(status_of(eum), status_of(json_es4(m2m::Es4Function::GetEis, {{"eid", kEid}}, "EUM-TEST")));
  EXPECT_EQ(status_of(eum)["statusCodeData"]["subjectCode"], "1.1");
  Answer mno = soap_register(test_support::sample_eis(kEid), "mno1");
  EXPECT_EQ(status_of(mno)["statusCodeData"]["reasonCode"], "1.2");
  // Nothing was queued by any of them.
  EXPECT_TRUE(registry_->queued_scripts(kEid)->empty());
}

TEST_P(SoapServiceTest, MalformedEnvelopesAreAnsweredWithFaults) {
  register_eis();
  const std::string good = es4_envelope("GetEIS", {{"eid", kEid}});
  auto expect_fault = [&](const std::string& envelope, const std::string& what, int status = 400,
                          const std::string& ct = "application/soap+xml") {
    Answer a = soap_raw(kSoapEs4Path, envelope, "mno1", ct);
    EXPECT_EQ(a.status, status) << what;
    EXPECT_EQ(a.body.value("fault", ""), "Fault") << what << "\n" << a.raw;
  };
  expect_fault("", "empty");
  expect_fault("this is not XML", "not XML");
  expect_fault("<a><b></a>", "not well-formed");
  std::string wrong_ns = good;
  wrong_ns.replace(wrong_ns.find(soap::kSoap12Ns), soap::kSoap12Ns.size(), "urn:not-soap");
  expect_fault(wrong_ns, "wrong envelope namespace");
  std::string wrong_body_ns = good;
  wrong_body_ns.replace(wrong_body_ns.find(kGsmaNs), kGsmaNs.size(), "urn:other");
  expect_fault(wrong_body_ns, "wrong body namespace");
  std::string unknown_action = good;
  unknown_action.replace(unknown_action.find("ES4-GetEIS<"), 10, "ES4-Reboot");
  expect_fault(unknown_action, "unknown action");
  std::string es1_action = good;  // an ES1 action on the ES4 endpoint
  es1_action.replace(es1_action.find(std::string(kEs4ActionPrefix) + "ES4-GetEIS"),
                     kEs4ActionPrefix.size() + 10, std::string(kEs1RegisterEisAction));
  expect_fault(es1_action, "ES1 action on ES4");
  const auto mid = good.find("<wsa:MessageID>");
  const auto mid_end = good.find("</wsa:MessageID>") + 16;
  expect_fault(good.substr(0, mid) + good.substr(mid_end), "missing MessageID");
  std::string other_body = es4_envelope("GetEIS", {{"eid", kEid}});  // action GetEIS, body EnableProfile
  other_body.replace(other_body.find("ES4-GetEISRequest"), 17, "ES4-EnableProfileRequest");
  other_body.replace(other_body.rfind("ES4-GetEISRequest"), 17, "ES4-EnableProfileRequest");
  expect_fault(other_body, "body of another function");
  // XXE and the billion laughs: refused before any entity is read.
  const std::string xxe = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" +
                          good.substr(good.find("<env:Envelope"));
  expect_fault(xxe, "external entity");
  std::string laughs = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>" +
                       good.substr(good.find("<env:Envelope"));
  laughs.replace(laughs.find(kEid), kEid.size(), "&b;");
  expect_fault(laughs, "entity expansion");
  expect_fault(good, "JSON content type", 400, "application/json");
  // SOAP 1.1: the fault in 1.1, with HTTP 500 (SOAP 1.1 §6.2).
  std::string v11 = good;
  v11.replace(v11.find(soap::kSoap12Ns), soap::kSoap12Ns.size(), soap::kSoap11Ns);
  v11.replace(v11.find("<wsa:Action>"), 12, "<wsa:Action>x");
  Answer f11 = soap_raw(kSoapEs4Path, v11, "mno1", "text/xml; charset=utf-8");
  EXPECT_EQ(f11.status, 500);
  EXPECT_NE(f11.raw.find(soap::kSoap11Ns), std::string::npos);
  EXPECT_NE(f11.raw.find("faultcode"), std::string::npos);
  // And a good SOAP 1.1 request is answered in 1.1.
  std::string ok11 = good;
  ok11.replace(ok11.find(soap::kSoap12Ns), soap::kSoap12Ns.size(), soap::kSoap11Ns);
  net::Request req;
  req.method = "POST";
  req.path = std::string(kSoapEs4Path);
  req.headers.emplace_back("Content-Type", "text/xml; charset=utf-8");
  req.body = ok11;
  auto reply = soap_routes_.at(req.path)(req, service::Caller{"mno1"});
  EXPECT_EQ(reply.response.status, 200);
  EXPECT_EQ(reply.response.content_type.rfind("text/xml", 0), 0u);
  EXPECT_TRUE(soap::validate_body(reply.response.body, kXsd));
}

TEST_P(SoapServiceTest, UnauthenticatedCallerGetsASoapFault) {
  net::Request req;
  req.path = std::string(kSoapEs4Path);
  req.body = es4_envelope("GetEIS", {{"eid", kEid}});
  auto r = soap_unauthenticated_reply(req);
  EXPECT_EQ(r.response.status, 401);
  auto env = soap::parse_envelope(r.response.body);
  ASSERT_TRUE(env);
  EXPECT_EQ(env->body.name, "Fault");
  EXPECT_EQ(env->addressing.relates_to, "urn:uuid:1");
  EXPECT_TRUE(is_soap_path(kSoapEs1Path));
  EXPECT_FALSE(is_soap_path("/gsma/m2m/es4/getEIS"));
}

TEST_P(SoapServiceTest, CallbacksToASoapMnoArriveAsSoap) {
  register_eis();
  allow_enable();
  // The MNO's callback server.
  net::HttpServerOptions o;
  o.insecure_plain_http = true;
  o.worker_threads = 1;
  net::HttpServer server(std::move(o));
  std::mutex mu;
  std::vector<net::Request> received;
  server.post("/cb", [&](const net::Request& req) {
    std::lock_guard lock(mu);
    received.push_back(req);
    net::Response r;
    r.status = 204;
    return r;
  });
  ASSERT_TRUE(server.start());
  const std::string url = server.url() + "/cb";
  CallbackBindings bindings;
  bindings.of_url = [url](const std::string& u) { return u == url ? CallbackBinding::Soap : CallbackBinding::Json; };
  bindings.from = "https://smsr.example";
  auto sender = mno_callback_sender({}, std::chrono::seconds(5), bindings);
  // The registry's callback URL is the fixture's; this MNO's server is ours.
  service::OutboxWorker worker(registry_->outbox(), {},
                               [&](const std::string& destination,
                                   const std::string& body) -> expected<void, std::string> {
                                 // The bootstrap profile's SM-DP hears of its disable by
                                 // an ES3 notification (JSON): not this test's MNO.
                                 if (destination == "https://SMDP-TEST.example/callbacks") return {};
                                 EXPECT_EQ(destination, "https://mno1.example/callbacks");
                                 return sender(url, body);
                               });
  Answer s = soap_es4("EnableProfile", {{"eid", kEid}, {"iccid", kSecond}});
  ASSERT_EQ(s.status, 202) << s.raw;
  const std::int64_t id = s.body["operationId"].get<std::int64_t>();
  ASSERT_TRUE(service_->complete(id, m2m::ExecutionStatus::ExecutedSuccess));
  auto sent = worker.run_once();
  ASSERT_TRUE(sent) << sent.error();
  server.stop();
  ASSERT_GE(received.size(), 1u);
  bool result_seen = false;
  for (const auto& req : received) {
    EXPECT_EQ(req.header("Content-Type").value_or("").rfind("application/soap+xml", 0), 0u);
    auto env = soap::parse_envelope(req.body);
    ASSERT_TRUE(env) << env.error().message << "\n" << req.body;
    EXPECT_EQ(env->addressing.to, url);
    EXPECT_EQ(env->addressing.from, "https://smsr.example");
    EXPECT_EQ(env->addressing.message_id.rfind("urn:rsp:smsr:callback:", 0), 0u);
    auto valid = soap::validate_body(req.body, kXsd);
    EXPECT_TRUE(valid) << valid.error() << "\n" << req.body;
    if (env->body.name == "ES4-EnableProfileResponse") {
      result_seen = true;
      EXPECT_EQ(env->addressing.action, std::string(kEs4CallbackActionPrefix) + "ES4-EnableProfile");
      auto body = soap_to_json(env->body);
      ASSERT_TRUE(body);
      EXPECT_EQ((*body)["operationId"], id);
      EXPECT_EQ((*body)["functionExecutionStatus"]["status"], "Executed-Success");
      EXPECT_EQ((*body)["eid"], kEid);
    }
  }
  EXPECT_TRUE(result_seen);
  // A JSON MNO's callbacks stay JSON: the sender leaves them as they are.
  EXPECT_FALSE(soap_callback("{}", url, ""));
  EXPECT_FALSE(soap_callback("not json", url, ""));
}

TEST_P(SoapServiceTest, SmsrChangeNotificationAsSoapValidates) {
  m2m::Eis eis = sample(kEid);
  for (auto& p : eis.profiles) p.smdp_id.clear();
  eis.smsr_id = "SMSR-NEW";
  const auto notes = smsr_change_notifications(eis, "kv2", 1'800'000'000);
  ASSERT_FALSE(notes.empty());
  for (const auto& note : notes) {
    auto cb = soap_callback(note.body, "https://" + note.recipient + ".example/cb", "");
    ASSERT_TRUE(cb) << cb.error();
    EXPECT_EQ(cb->action, std::string(kEs4CallbackActionPrefix) + "ES4-HandleSMSRChangeNotification");
    auto valid = soap::validate_body(cb->envelope, kXsd);
    EXPECT_TRUE(valid) << valid.error() << "\n" << cb->envelope;
    auto env = soap::parse_envelope(cb->envelope);
    ASSERT_TRUE(env);
    const auto* sent = env->body.child(kGsmaNs, "Eis");
    ASSERT_NE(sent, nullptr);
    EXPECT_EQ(sent->child(kGsmaNs, "SmsrId")->text, "SMSR-NEW");
    EXPECT_EQ(cb->envelope.find("Scp81Psk"), std::string::npos);
  }
}

TEST_P(SoapServiceTest, NotificationsAsSoapValidate) {
  m2m::ProfileInfo p;
  p.iccid = kBoot;
  p.mno_id = "mno1";
  const auto note = profile_notification(kProfileDisabledNotification, kEid, p, 1'800'000'000);
  auto cb = soap_callback(note.body, "https://mno1.example/cb", "");
  ASSERT_TRUE(cb) << cb.error();
  EXPECT_EQ(cb->action, std::string(kEs4CallbackActionPrefix) + "ES4-HandleProfileDisabledNotification");
  EXPECT_NE(cb->content_type.find("action=\""), std::string::npos);
  auto valid = soap::validate_body(cb->envelope, kXsd);
  EXPECT_TRUE(valid) << valid.error() << "\n" << cb->envelope;
  auto env = soap::parse_envelope(cb->envelope);
  ASSERT_TRUE(env);
  EXPECT_EQ(env->body.name, "ES4-HandleProfileDisabledNotification");
  EXPECT_EQ(env->body.child(kGsmaNs, "Iccid")->text, kBoot);
}

TEST_P(SoapServiceTest, Es3OverSoapAnswersAsOverJson) {
  register_eis();
  namespace es3 = m2m::es3;
  const auto alike = [&](es3::Function f, const json& fields, const std::string& caller = "smdp-1") {
    expect_alike(kSoapEs3Path, kEs3ActionPrefix, es3::function(f).name, es3::function(f).path, fields, caller);
  };
  // GetEIS: the same EIS (no keys) on both, valid against the XSD.
  Answer s = soap_raw(kSoapEs3Path, test_support::soap_request(kEs3ActionPrefix, "ES3-GetEIS", {{"eid", kEid}}),
                      "smdp-1");
  Answer j = json_call(es3::function(es3::Function::GetEis).path, {{"eid", kEid}}, "smdp-1");
  EXPECT_EQ(s.status, 200) << s.raw;
  EXPECT_EQ(status_of(s), status_of(j));
  ASSERT_TRUE(s.body.contains("eis")) << s.raw;
  EXPECT_EQ(s.body["eis"], j.body["eis"]);
  EXPECT_FALSE(s.body["eis"]["isdR"].contains("scp80KeySets"));
  alike(es3::Function::GetEis, {{"eid", "89049032123451234512345678909999"}});  // unknown EID
  alike(es3::Function::GetEis, {{"eid", kEid}, {"surprise", "x"}});            // unknown element
  alike(es3::Function::GetEis, {{"eid", kEid}}, "mno1");                       // not an SM-DP
  alike(es3::Function::CreateIsdp, {{"eid", kEid}, {"iccid", "8944000000000000045"}, {"mnoId", "mno1"}});
  alike(es3::Function::CreateIsdp,
        {{"eid", kEid}, {"iccid", "8944000000000000045"}, {"mnoId", "mno1"}, {"requiredMemory", "lots"}});
  alike(es3::Function::SendData, {{"eid", kEid}, {"sdAid", "A000"}, {"data", "zz"}});
  alike(es3::Function::ProfileDownloadCompleted, {{"eid", kEid}, {"iccid", "8944000000000000045"},
                                                  {"pol2", {{{"subject", "PROFILE"}, {"action", "DISABLE"},
                                                             {"qualification", "Not allowed"}}}}});
  // The ES3 functions added to the SOAP binding later: AuditEIS (accepted
  // on both as an operation), UpdatePolicyRules, UpdateSubscriptionAddress
  // (refused alike for a profile the SM-DP did not download, an unknown EID,
  // a bad member, a caller that is not an SM-DP).
  alike(es3::Function::AuditEis, {{"eid", kEid}});
  alike(es3::Function::AuditEis, {{"eid", "89049032123451234512345678909999"}});
  alike(es3::Function::AuditEis, {{"eid", kEid}}, "mno1");
  const json pol2 = json::array({{{"subject", "PROFILE"}, {"action", "DISABLE"}, {"qualification", "Not allowed"}}});
  alike(es3::Function::UpdatePolicyRules, {{"eid", kEid}, {"iccid", kBoot}, {"pol2", pol2}});
  alike(es3::Function::UpdatePolicyRules, {{"eid", kEid}, {"iccid", kBoot}});  // pol2 missing
  alike(es3::Function::UpdatePolicyRules, {{"eid", "89049032123451234512345678909999"}, {"iccid", kBoot},
                                           {"pol2", pol2}});
  alike(es3::Function::UpdateSubscriptionAddress,
        {{"eid", kEid}, {"iccid", kBoot}, {"subscriptionAddress", {{"msisdn", "447700900123"}}}});
  alike(es3::Function::UpdateSubscriptionAddress, {{"eid", kEid}, {"iccid", kBoot}, {"subscriptionAddress", "x"}});
  alike(es3::Function::UpdateSubscriptionAddress,
        {{"eid", kEid}, {"iccid", kBoot}, {"subscriptionAddress", {{"msisdn", "447700900123"}}}}, "mno1");
  // An ES4 action on the ES3 endpoint is no ES3 request.
  Answer f = soap_raw(kSoapEs3Path, test_support::soap_request(kEs4ActionPrefix, "ES4-GetEIS", {{"eid", kEid}}),
                      "smdp-1");
  EXPECT_EQ(f.body.value("fault", ""), "Fault") << f.raw;
}

TEST_P(SoapServiceTest, Es7AndTheSmsrChangeOverSoapAnswerAsOverJson) {
  register_eis();
  namespace es7 = m2m::es7;
  const auto alike = [&](es7::Function f, const json& fields, const std::string& caller) {
    const bool es4 = f == es7::Function::PrepareSmsrChange || f == es7::Function::SmsrChange;
    expect_alike(es4 ? kSoapEs4Path : kSoapEs7Path, es4 ? kEs4ActionPrefix : kEs7ActionPrefix,
                 es7::function(f).name, es7::function(f).path, fields, caller);
  };
  alike(es7::Function::AuthenticateSmsr, {{"eid", kEid}, {"ecasdCertificate", "3082"}}, "smsr-peer");
  alike(es7::Function::AuthenticateSmsr, {{"eid", kEid}, {"ecasdCertificate", "3082"}}, "mno1");  // not an SM-SR
  alike(es7::Function::CreateAdditionalKeyset, {{"eid", kEid}, {"keyVersion", 99}}, "smsr-peer");
  alike(es7::Function::CreateAdditionalKeyset, {{"eid", kEid}, {"keyVersion", 2}}, "smsr-peer");
  alike(es7::Function::HandoverEuicc, {{"eis", test_support::sample_eis(kEid)}, {"receipt", "85"}}, "smsr-peer");
  alike(es7::Function::PrepareSmsrChange, {{"eid", kEid}}, "mno1");  // currentSmsrId missing
  alike(es7::Function::SmsrChange, {{"eid", kEid}, {"targetSmsrId", "SMSR-NONE"}}, "mno1");
  alike(es7::Function::SmsrChange, {{"eid", kEid}, {"targetSmsrId", "SMSR-NONE"}}, "smsr-peer");
  // PrepareSMSRChange accepted over SOAP, as the JSON binding answers it.
  Answer s = soap_raw(kSoapEs4Path,
                      test_support::soap_request(kEs4ActionPrefix, "ES4-PrepareSMSRChange",
                                                 {{"eid", "89049032123451234512345678900001"},
                                                  {"currentSmsrId", "SMSR-OLD"}}),
                      "mno1");
  Answer j = json_call(es7::function(es7::Function::PrepareSmsrChange).path,
                       {{"eid", "89049032123451234512345678900002"}, {"currentSmsrId", "SMSR-OLD"}}, "mno1");
  EXPECT_EQ(s.status, j.status) << s.raw;
  EXPECT_EQ(status_of(s), status_of(j)) << s.raw << "\n" << j.raw;
  // An ES7 function is not on the ES4 endpoint, nor an ES4 one on ES7's.
  Answer f = soap_raw(kSoapEs4Path,
                      test_support::soap_request(kEs4ActionPrefix, "ES7-AuthenticateSMSR", {{"eid", kEid}}), "mno1");
  EXPECT_EQ(f.body.value("fault", ""), "Fault") << f.raw;
  f = soap_raw(kSoapEs7Path, test_support::soap_request(kEs7ActionPrefix, "ES4-SMSRChange", {{"eid", kEid}}),
               "smsr-peer");
  EXPECT_EQ(f.body.value("fault", ""), "Fault") << f.raw;
  EXPECT_TRUE(is_soap_path(kSoapEs3Path));
  EXPECT_TRUE(is_soap_path(kSoapEs7Path));
}

INSTANTIATE_TEST_SUITE_P(Engines, SoapServiceTest, ::testing::Values("sqlite"), engine_name);

}  // namespace
}  // namespace rsp::smsr::testing
