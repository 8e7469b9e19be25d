// A whole SGP.22 download through the SM-DP+ HTTP service over real TLS: the
// LPA side is rsp::net::HttpsClient trusting only the CI, the eUICC is the
// smdpp test double, the ES9+ bodies are the messages component's JSON.

#include <gtest/gtest.h>

#include "https_rig.hpp"

namespace rsp::smdpp::testing {
namespace {

namespace es9 = messages::es9;
const Bytes kIccid{0x98, 0x94, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0xF3};

class DownloadHttps : public ::testing::Test {
 protected:
  DownloadHttps() : w(test_pki_dir()), e(test_euicc_credentials(crypto::Curve::NistP256), w.rng), rig(*w.server) {}

  void SetUp() override { ASSERT_TRUE(rig.error.empty()) << rig.error; }

  net::NetResult<net::HttpResponse> call(es9::Function f, const std::string& body) { return rig.call(f, body); }

  World w;
  TestEuicc e;
  HttpsRig rig;
  std::unique_ptr<HttpService>& service = rig.service;
  std::unique_ptr<net::HttpsClient>& client = rig.client;
};

TEST_F(DownloadHttps, WholeDownloadOverOneKeptAliveConnection) {
  const Bytes upp = make_test_upp(kIccid, 3000);
  auto prepared = PreparedProfile::prepare(upp, {"Test SP", "Test profile", 2}, false, w.rng);
  ASSERT_TRUE(prepared);
  w.catalog->add(ProfileOrder{"MATCH-HTTPS", std::nullopt, std::nullopt, 3, *prepared});

  auto r1 = call(es9::Function::InitiateAuthentication, es9::encode_request(e.initiate(kAddress)));
  ASSERT_TRUE(r1) << r1.error().message;
  EXPECT_EQ(r1->header("X-Admin-Protocol").value_or(""), kAdminProtocol);
  auto init = es9::decode_initiate_authentication_response(r1->body);
  ASSERT_TRUE(init) << r1->body;

  auto acr = e.authenticate_server(*init, "MATCH-HTTPS");
  ASSERT_TRUE(acr) << acr.error();
  auto r2 = call(es9::Function::AuthenticateClient, es9::encode_request(*acr));
  ASSERT_TRUE(r2) << r2.error().message;
  auto auth = es9::decode_authenticate_client_response(r2->body);
  ASSERT_TRUE(auth) << r2->body;

  auto gbpp = e.prepare_download(*auth, std::nullopt);
  ASSERT_TRUE(gbpp) << gbpp.error();
  auto r3 = call(es9::Function::GetBoundProfilePackage, es9::encode_request(*gbpp));
  ASSERT_TRUE(r3) << r3.error().message;
  auto bpp = es9::decode_get_bound_profile_package_response(r3->body);
  ASSERT_TRUE(bpp) << r3->body;
  auto loaded = e.load_bpp(bpp->boundProfilePackage);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(*loaded, upp);

  asn1::sgp22::HandleNotification hn;
  hn.pendingNotification = e.install_result(true);
  auto r4 = call(es9::Function::HandleNotification, es9::encode_request(hn));
  ASSERT_TRUE(r4) << r4.error().message;
  EXPECT_EQ(r4->status, 204);

  EXPECT_EQ(client->connections_opened(), 1u);
  const std::string text = service->metrics().render();
  for (const char* fn : {"InitiateAuthentication", "AuthenticateClient", "GetBoundProfilePackage", "HandleNotification"})
    EXPECT_NE(text.find(std::string("rsp_function_duration_seconds_count{role=\"smdpp\",function=\"ES9+.") + fn + "\"} 1"),
              std::string::npos)
        << fn << "\n"
        << text;
  EXPECT_EQ(text.find("rsp_function_failures_total{"), std::string::npos) << text;
}

TEST_F(DownloadHttps, MalformedRequestIsAFailedFunctionCounted) {
  auto r = call(es9::Function::InitiateAuthentication, "{\"not\":\"valid\"}");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("Failed"), std::string::npos) << r->body;
  const std::string text = service->metrics().render();
  EXPECT_NE(text.find("rsp_function_failures_total{role=\"smdpp\",function=\"ES9+.InitiateAuthentication\",subject="), std::string::npos)
      << text;
}

}  // namespace
}  // namespace rsp::smdpp::testing
