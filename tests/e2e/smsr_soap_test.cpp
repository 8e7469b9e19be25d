// The SM-SR's SOAP binding end to end: `rsp smsr serve` on port 0; the EUM
// registers an EIS over SOAP on /gsma/m2m/soap/ES1 (mutual TLS); an MNO
// whose configuration says "callback_binding": "soap" reads it over SOAP,
// lifts a POL2 rule, has an EnableProfile accepted that expires (nothing
// answers), and receives the result as a SOAP callback at its server; a
// caller without credentials, and an envelope with an external entity, get
// SOAP faults.

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "rsp/common/file.hpp"
#include "rsp/net/client.hpp"
#include "rsp/net/server.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/soap/envelope.hpp"
#include "rsp/soap/schema.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"
#include "smsr_serve_fixture.hpp"
#include "test_support/sample_eis.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kEid = "89049032123451234512345678901235";
const std::string kMnoKey = "mno1-key-5a3c9e1f07b2d486";
const std::string kBoot = "8944000000000000011";
const std::string kSecond = "8944000000000000029";
constexpr std::string_view kNs = "http://namespaces.gsma.org/esim-messaging/1";
const std::string kXsd = std::string(RSP_SOURCE_DIR) + "/docs/smsr.xsd";

/// A SOAP 1.2 request of `function` ("ES4-GetEIS") with `fields` (already XML).
std::string envelope(const std::string& action, const std::string& function, const std::string& fields,
                     const std::string& id) {
  return "<?xml version=\"1.0\"?><e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" xmlns:rps=\"" + std::string(kNs) + "\"><e:Header>"
         "<wsa:Action>" + action + "</wsa:Action><wsa:MessageID>" + id + "</wsa:MessageID></e:Header><e:Body><rps:" +
         function + "Request>" + fields + "</rps:" + function + "Request></e:Body></e:Envelope>";
}
std::string es4(const std::string& function, const std::string& fields, const std::string& id = "urn:uuid:e2e") {
  return envelope("http://gsma.com/ES4/ProfileManagent/ES4-" + function, "ES4-" + function, fields, id);
}
std::string el(const std::string& name, const std::string& value) {
  return "<rps:" + name + ">" + value + "</rps:" + name + ">";
}

class SmsrSoap : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = rsp({"pki", "init", "--out", pki().string(), "--curves", "nist"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_TRUE(write_file_atomic(dir_.path() / "mno1.key", as_bytes(kMnoKey + "\n"),
                                  fs::perms::owner_read | fs::perms::owner_write));
    net::HttpServerOptions o;
    o.insecure_plain_http = true;
    o.worker_threads = 1;
    receiver_ = std::make_unique<net::HttpServer>(std::move(o));
    receiver_->post("/callbacks", [this](const net::Request& req) {
      std::lock_guard lock(mu_);
      callbacks_.push_back(req);
      net::Response resp;
      resp.status = 204;
      return resp;
    });
    ASSERT_TRUE(receiver_->start());
    json cfg = smsr_serve_config(dir_.path(), pki());
    cfg["mnos"] = {{{"name", "mno1"}, {"api_key_file", "mno1.key"},
                    {"callback_url", receiver_->url() + "/callbacks"}, {"callback_binding", "soap"}}};
    std::ofstream(dir_.path() / "smsr.json") << cfg.dump(2);
    serve_ = std::make_unique<ServeProcess>(
        std::vector<std::string>{"--config", (dir_.path() / "smsr.json").string()}, "smsr");
    url_ = serve_->wait_for("listening on ");
    ASSERT_EQ(url_.rfind("https://127.0.0.1:", 0), 0u) << serve_->output();
  }
  void TearDown() override {
    if (receiver_) receiver_->stop();
  }

  fs::path pki() const { return dir_.path() / "pki"; }

  std::unique_ptr<net::HttpsClient> client(bool as_eum) { return smsr_client(url_, pki(), as_eum); }

  struct Answer {
    int status = 0;
    std::string raw;
    soap::Element body;
  };
  Answer post(net::HttpsClient& c, const std::string& path, const std::string& xml, const std::string& key = "") {
    net::Headers headers;
    if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + key);
    auto r = c.request("POST", path, xml, "application/soap+xml; charset=utf-8", headers);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    if (!r) return {};
    Answer a{r->status, r->body, {}};
    soap::ParseOptions lax;
    lax.require_action = false;
    auto env = soap::parse_envelope(r->body, lax);
    EXPECT_TRUE(env) << r->body;
    if (env) a.body = env->body;
    if (env && env->body.name != "Fault") {
      auto valid = soap::validate_body(r->body, kXsd);
      EXPECT_TRUE(valid) << valid.error() << "\n" << r->body;
    }
    return a;
  }
  static std::string status(const Answer& a) {
    const auto* s = a.body.child(kNs, "FunctionExecutionStatus");
    return s && s->child(kNs, "Status") ? s->child(kNs, "Status")->text : "";
  }
  static std::string code(const Answer& a) {
    const auto* s = a.body.child(kNs, "FunctionExecutionStatus");
    const auto* d = s ? s->child(kNs, "StatusCodeData") : nullptr;
    return d ? d->child(kNs, "SubjectCode")->text + "/" + d->child(kNs, "ReasonCode")->text : "";
  }

  test_support::TempDir dir_;
  std::unique_ptr<ServeProcess> serve_;
  std::string url_;
  std::unique_ptr<net::HttpServer> receiver_;
  std::mutex mu_;
  std::vector<net::Request> callbacks_;
};

/// The EIS of the sample as ES1 SOAP fields, keys included (the EUM's).
std::string eis_xml(const std::string& ecasd_hex) {
  json e = test_support::sample_eis(kEid, ecasd_hex);
  std::function<std::string(const std::string&, const json&)> conv = [&](const std::string& name,
                                                                        const json& v) -> std::string {
    std::string n = name;
    n[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(n[0])));
    if (v.is_object()) {
      std::string inner;
      for (const auto& [k, x] : v.items()) inner += conv(k, x);
      return el(n, inner);
    }
    if (v.is_array()) {
      const std::string item = name == "profiles" ? "Profile" : name == "pol2" ? "PolicyRule" : "Scp80KeySet";
      std::string inner;
      for (const auto& x : v) {
        std::string fields;
        for (const auto& [k, y] : x.items()) fields += conv(k, y);
        inner += el(item, fields);
      }
      return el(n, inner);
    }
    return el(n, v.is_string() ? v.get<std::string>() : v.dump());
  };
  return conv("eis", e);
}

TEST_F(SmsrSoap, RegisterReadEnableExpireAndTheCallbackOverSoap) {
  auto eum = client(true);
  auto mno = client(false);
  ASSERT_TRUE(eum && mno);
  const auto der = *net::load_certificates(pki() / "CERT_EUICC_ECDSA_NIST.pem");
  const std::string reg = envelope("http://gsma.com/ES1/eUICCManagement/ES1-RegisterEIS", "ES1-RegisterEIS",
                                   eis_xml(to_hex(der.front())), "urn:uuid:reg");
  auto a = post(*eum, "/gsma/m2m/soap/ES1", reg);
  ASSERT_EQ(a.status, 200) << a.raw;
  EXPECT_EQ(status(a), "Executed-Success") << a.raw;
  EXPECT_EQ(code(post(*eum, "/gsma/m2m/soap/ES1", reg)), "8.1.1/3.3");

  // Without credentials: a SOAP fault with 401; an external entity: a fault.
  a = post(*mno, "/gsma/m2m/soap/ES4", es4("GetEIS", el("Eid", kEid)));
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body.name, "Fault");
  a = post(*mno, "/gsma/m2m/soap/ES4",
           "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" +
               es4("GetEIS", el("Eid", "&x;")).substr(21),
           kMnoKey);
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body.name, "Fault");
  EXPECT_EQ(a.raw.find("root:"), std::string::npos);

  a = post(*mno, "/gsma/m2m/soap/ES4", es4("GetEIS", el("Eid", kEid)), kMnoKey);
  ASSERT_EQ(status(a), "Executed-Success") << a.raw;
  ASSERT_NE(a.body.child(kNs, "Eis"), nullptr);
  EXPECT_EQ(a.body.child(kNs, "Eis")->child(kNs, "Profiles")->children.size(), 2u);
  EXPECT_EQ(a.raw.find("33333333333333333333333333333333"), std::string::npos);  // no key to an MNO
  EXPECT_EQ(code(post(*mno, "/gsma/m2m/soap/ES4", es4("EnableProfile", el("Eid", kEid) + el("Iccid", kSecond)),
                      kMnoKey)),
            "8.2.2/3.8");
  a = post(*mno, "/gsma/m2m/soap/ES4",
           es4("UpdatePolicyRules", el("Eid", kEid) + el("Iccid", kBoot) + el("Pol2", "")), kMnoKey);
  EXPECT_EQ(status(a), "Executed-Success") << a.raw;
  a = post(*mno, "/gsma/m2m/soap/ES4",
           es4("EnableProfile", el("ValidityPeriod", "1") + el("Eid", kEid) + el("Iccid", kSecond)), kMnoKey);
  ASSERT_EQ(a.status, 202) << a.raw;
  const std::string id = a.body.child(kNs, "OperationId")->text;

  // Nothing answers: the operation expires and its result reaches the MNO as SOAP.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::optional<net::Request> result;
  while (!result && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    std::lock_guard lock(mu_);
    for (const auto& c : callbacks_)
      if (c.body.find("ES4-EnableProfileResponse") != std::string::npos) result = c;
  }
  ASSERT_TRUE(result) << serve_->output();
  EXPECT_EQ(result->header("Content-Type").value_or("").rfind("application/soap+xml", 0), 0u);
  auto env = soap::parse_envelope(result->body);
  ASSERT_TRUE(env) << env.error().message << "\n" << result->body;
  EXPECT_EQ(env->addressing.action, "http://gsma.com/ES4/ProfileManagentCallBack/ES4-EnableProfile");
  EXPECT_EQ(env->addressing.to, receiver_->url() + "/callbacks");
  EXPECT_EQ(env->body.child(kNs, "OperationId")->text, id);
  EXPECT_EQ(env->body.child(kNs, "FunctionExecutionStatus")->child(kNs, "Status")->text, "Expired");
  auto valid = soap::validate_body(result->body, kXsd);
  EXPECT_TRUE(valid) << valid.error();

  EXPECT_EQ(serve_->signal_and_wait(SIGTERM), 0) << serve_->output();
  std::ifstream in(dir_.path() / "access.log");
  const std::string access((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(access.find("ES4.SOAP"), std::string::npos) << access;
  for (const std::string& secret : {std::string("33333333333333333333333333333333"), kMnoKey}) {
    EXPECT_EQ(serve_->output().find(secret), std::string::npos) << secret;
    EXPECT_EQ(access.find(secret), std::string::npos) << secret;
  }
}

}  // namespace
}  // namespace rsp::e2e
