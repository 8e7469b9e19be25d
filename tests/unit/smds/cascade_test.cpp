// Two SM-DS instances on HTTPS: an event registered at the first with the
// forwarding indicator reaches the second through the outbox over mutual TLS
// (SGP.22 v2.2.2 §3.6), an eUICC discovering at the second is sent to the
// first, and deleting the event at the first deletes it at the second.

#include <gtest/gtest.h>

#include "rsp/messages/es11_json.hpp"
#include "rsp/messages/es12_json.hpp"
#include "rsp/messages/es9_json.hpp"
#include "rsp/net/client.hpp"
#include "rsp/service/caller_config.hpp"
#include "rsp/es12/client.hpp"
#include "rsp/smds/http_service.hpp"
#include "world.hpp"

namespace rsp::smds {
namespace {

using testing::SmdsWorld;
namespace fs = std::filesystem;
namespace es11 = messages::es11;
namespace es12 = messages::es12;

fs::path pki(const std::string& name) { return smdpp::testing::test_pki_dir() / name; }

net::TlsIdentity ds_tls() {
  auto id = net::TlsIdentity::load(pki("CERT_S_SM_DS_TLS_NIST.pem"), pki("SK_S_SM_DS_TLS_NIST.pem"));
  if (!id) throw std::runtime_error(id.error().message);
  return std::move(*id);
}

std::vector<Bytes> certs(const std::string& name) {
  auto c = net::load_certificates(pki(name));
  if (!c) throw std::runtime_error(c.error().message);
  return *c;
}

/// An SM-DS on HTTPS that knows `callers` (name -> pinned client certificate).
std::unique_ptr<HttpService> serve(SmdsWorld& w, std::vector<service::CallerCredential> callers) {
  HttpConfig c;
  c.tls_identities.push_back(ds_tls());
  c.client_roots = certs("CERT_CI_ECDSA_NIST.pem");
  auto auth = std::make_shared<service::CallerAuthenticator>(std::move(callers));
  c.authenticate = [auth](const net::Request& r) { return auth->authenticate(r); };
  auto s = HttpService::start(w.server, std::move(c));
  if (!s) throw std::runtime_error(s.error().message);
  return std::move(*s);
}

std::string local_url(const HttpService& s) {
  const std::string url = s.url();
  return "https://localhost:" + url.substr(url.rfind(':') + 1);
}

std::unique_ptr<net::HttpsClient> client(const std::string& base, bool with_certificate) {
  net::HttpsClientOptions o;
  o.base_url = base;
  o.connect_to = "127.0.0.1";
  o.trust_anchors = certs("CERT_CI_ECDSA_NIST.pem");
  if (with_certificate) o.identity = ds_tls();
  auto c = net::HttpsClient::create(std::move(o));
  if (!c) throw std::runtime_error(c.error().message);
  return std::move(*c);
}

const net::Headers kHeaders{{"X-Admin-Protocol", "gsma/rsp/v2.2.2"}};
constexpr const char* kJson = "application/json;charset=UTF-8";

/// ES11 over HTTPS at `base` for the test eUICC; with `es9_paths` on the
/// ES9+ paths with ES9+'s `smdpAddress`, as lpac asks an SM-DS.
expected<asn1::sgp22::AuthenticateClientOkEs11, std::string> discover(const std::string& base, const std::string& address,
                                                                       smdpp::testing::TestEuicc& euicc,
                                                                       bool es9_paths = false) {
  namespace es9 = messages::es9;
  auto c = client(base, false);
  auto r1 = es9_paths ? c->request("POST", std::string(es9::path(es9::Function::InitiateAuthentication)),
                                   es9::encode_request(euicc.initiate(address)), kJson, kHeaders)
                      : c->request("POST", std::string(es11::kInitiateAuthenticationPath),
                                   es11::encode_initiate_authentication_request(euicc.initiate(address)), kJson, kHeaders);
  if (!r1) return unexpected(r1.error().message);
  auto init = messages::es9::decode_initiate_authentication_response(r1->body);
  if (!init) return unexpected(init.error().to_string());
  auto req = euicc.authenticate_server(*init, std::nullopt);
  if (!req) return unexpected(req.error());
  const std::string auth_path(es9_paths ? es9::path(es9::Function::AuthenticateClient) : es11::kAuthenticateClientPath);
  auto r2 = c->request("POST", auth_path, es9::encode_request(*req), kJson, kHeaders);
  if (!r2) return unexpected(r2.error().message);
  auto ok = es11::decode_authenticate_client_response(r2->body);
  if (!ok) return unexpected(ok.error().to_string());
  return *ok;
}

TEST(SmdsCascade, AForwardedEventIsFoundAtTheNextSmdsAndDeletedThere) {
  SmdsWorld root(std::string{}, "root.smds.example");
  service::CallerCredential alt{"alt-smds", {}, {}, certs("CERT_S_SM_DS_TLS_NIST.pem").front(), std::nullopt, {}};
  auto root_http = serve(root, {alt});
  SmdsWorld alternative(local_url(*root_http), "alt.smds.example");

  auto euicc = alternative.euicc();
  ASSERT_TRUE(alternative.server->register_event(
      "dp1", es12::RegisterEventRequest{std::nullopt, euicc.eid(), "smdp.test.example", "EV-1", true}));

  rsp::es12::ClientConfig cc;
  cc.trust_anchors = certs("CERT_CI_ECDSA_NIST.pem");
  cc.identity = ds_tls();
  cc.connect_to = "127.0.0.1";
  service::OutboxWorkerConfig wc;
  auto worker = std::make_unique<service::OutboxWorker>(alternative.outbox, wc, rsp::es12::outbox_sender(cc));
  auto sent = worker->run_once();
  ASSERT_TRUE(sent) << sent.error();
  ASSERT_EQ(*sent, 1u);

  // At the root the event points to the alternative SM-DS, for this eUICC only.
  auto at_root = root.events->for_eid(euicc.eid());
  ASSERT_TRUE(at_root);
  ASSERT_EQ(at_root->size(), 1u);
  EXPECT_EQ((*at_root)[0].registrar, "alt-smds");
  EXPECT_EQ((*at_root)[0].rsp_server_address, "alt.smds.example");
  auto found = discover(local_url(*root_http), "root.smds.example", euicc);
  ASSERT_TRUE(found) << found.error();
  ASSERT_EQ(found->eventEntries.size(), 1u);
  EXPECT_EQ(found->eventEntries[0].eventId, "EV-1");
  EXPECT_EQ(found->eventEntries[0].rspServerAddress, "alt.smds.example");

  ASSERT_TRUE(alternative.server->delete_event("dp1", es12::DeleteEventRequest{std::nullopt, euicc.eid(), "EV-1"}));
  sent = worker->run_once();
  ASSERT_TRUE(sent) << sent.error();
  EXPECT_EQ(*sent, 1u);
  EXPECT_EQ(*root.events->count(), 0);
  worker->stop();
  root_http->stop();
}

TEST(SmdsHttp, Es11IsAlsoAnsweredOnTheEs9PlusPaths) {
  SmdsWorld w;
  auto http = serve(w, {});
  auto euicc = w.euicc();
  ASSERT_TRUE(w.server->register_event(
      "dp1", es12::RegisterEventRequest{std::nullopt, euicc.eid(), "smdp.test.example", "EV-9", false}));
  for (bool es9_paths : {false, true}) {
    auto found = discover(local_url(*http), testing::kSmdsAddress, euicc, es9_paths);
    ASSERT_TRUE(found) << found.error();
    ASSERT_EQ(found->eventEntries.size(), 1u);
    EXPECT_EQ(found->eventEntries[0].eventId, "EV-9");
  }
  // The SM-DS address check holds there too.
  auto elsewhere = discover(local_url(*http), "smdp.test.example", euicc, true);
  EXPECT_FALSE(elsewhere);
  http->stop();
}

TEST(SmdsHttp, Es12NeedsAConfiguredClientCertificate) {
  SmdsWorld w;
  auto http = serve(w, {service::CallerCredential{"dp1", {}, {}, certs("CERT_OPERATOR_TLS_NIST.pem").front(),
                                                  std::nullopt, {}}});
  auto body = es12::encode_request(
      es12::RegisterEventRequest{std::nullopt, "89049032123451234512345678901235", "smdp.test.example", "E", false});
  auto anonymous = client(local_url(*http), false)->request("POST", std::string(es12::kRegisterEventPath), body, kJson, kHeaders);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  // The DStls certificate chains to the CI but is not the configured caller's.
  auto stranger = client(local_url(*http), true)->request("POST", std::string(es12::kRegisterEventPath), body, kJson, kHeaders);
  ASSERT_TRUE(stranger);
  EXPECT_EQ(stranger->status, 401);
  EXPECT_EQ(*w.events->count(), 0);
}

TEST(SmdsHttp, MalformedRequestsGetTheInvalidRequestCode) {
  SmdsWorld w;
  auto http = serve(w, {});
  auto c = client(local_url(*http), false);
  auto bad = c->request("POST", std::string(es11::kInitiateAuthenticationPath), "{\"smdsAddress\": 1}", kJson, kHeaders);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 200);
  auto header = messages::es9::decode_response_header(bad->body);
  ASSERT_TRUE(header);
  ASSERT_TRUE(header->function_execution_status.status_code_data);
  EXPECT_EQ(header->function_execution_status.status_code_data->subject_code, "1.2");
  auto no_protocol = c->request("POST", std::string(es11::kAuthenticateClientPath), "{}", kJson, {});
  ASSERT_TRUE(no_protocol);
  EXPECT_EQ(no_protocol->status, 400);
  auto not_json = c->request("POST", std::string(es11::kAuthenticateClientPath), "{}", "text/plain", kHeaders);
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 415);
}

}  // namespace
}  // namespace rsp::smds
