// The SM-DP+ ES9+ JSON handler: a whole download over JSON bodies, and the
// SGP.22 §6.5 answers to bad input (HTTP 200 + Failed with the right codes).
#include <gtest/gtest.h>

#include "fixture.hpp"
#include "rsp/messages/es9_json.hpp"
#include "rsp/smdpp/es9_http.hpp"

namespace rsp::smdpp::testing {
namespace {

namespace sg = asn1::sgp22;
namespace es9 = messages::es9;
using nlohmann::json;

const Bytes kIccid{0x98, 0x94, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0xF2};

std::shared_ptr<const PreparedProfile> prepare(World& w, Bytes upp) {
  auto p = PreparedProfile::prepare(std::move(upp), {"Test SP", "Test profile", 2}, false, w.rng);
  EXPECT_TRUE(p);
  return p ? *p : nullptr;
}

Es9HttpResponse call(World& w, es9::Function f, const std::string& body) {
  return handle_es9(*w.server, es9::path(f), body);
}

/// Status and codes of a Failed answer.
void expect_failed(const Es9HttpResponse& r, const char* subject, const char* reason) {
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json;charset=UTF-8");
  auto h = es9::decode_response_header(r.body);
  ASSERT_TRUE(h) << r.body;
  EXPECT_EQ(h->function_execution_status.status, messages::ExecutionStatus::Failed);
  ASSERT_TRUE(h->function_execution_status.status_code_data);
  EXPECT_EQ(h->function_execution_status.status_code_data->subject_code, subject) << r.body;
  EXPECT_EQ(h->function_execution_status.status_code_data->reason_code, reason) << r.body;
  EXPECT_TRUE(r.error);
}

/// The statusCodeData message of a Failed answer.
std::string h_message(const Es9HttpResponse& r) {
  auto h = es9::decode_response_header(r.body);
  if (!h || !h->function_execution_status.status_code_data) return "<no status code data>";
  return h->function_execution_status.status_code_data->message.value_or("");
}

class Es9Http : public ::testing::Test {
 protected:
  Es9Http() : w(test_pki_dir()), e(test_euicc_credentials(crypto::Curve::NistP256), w.rng) {}
  World w;
  TestEuicc e;
};

TEST_F(Es9Http, WholeDownloadOverJson) {
  const Bytes upp = make_test_upp(kIccid, 3000);
  w.catalog->add(ProfileOrder{"MATCH-1", std::nullopt, std::nullopt, 3, prepare(w, upp)});

  auto r1 = call(w, es9::Function::InitiateAuthentication, es9::encode_request(e.initiate(kAddress)));
  ASSERT_EQ(r1.status, 200);
  EXPECT_EQ(r1.content_type, "application/json;charset=UTF-8");
  EXPECT_EQ(r1.function, es9::Function::InitiateAuthentication);
  auto init = es9::decode_initiate_authentication_response(r1.body);
  ASSERT_TRUE(init) << init.error().to_string() << " " << r1.body;
  // transactionId is upper-case hex in the JSON
  EXPECT_EQ(json::parse(r1.body)["transactionId"], to_hex(init->transactionId));

  auto acr = e.authenticate_server(*init, "MATCH-1");
  ASSERT_TRUE(acr) << acr.error();
  auto r2 = call(w, es9::Function::AuthenticateClient, es9::encode_request(*acr));
  auto auth = es9::decode_authenticate_client_response(r2.body);
  ASSERT_TRUE(auth) << auth.error().to_string();
  EXPECT_EQ(auth->profileMetaData.iccid, kIccid);

  auto gbpp = e.prepare_download(*auth, std::nullopt);
  ASSERT_TRUE(gbpp) << gbpp.error();
  auto r3 = call(w, es9::Function::GetBoundProfilePackage, es9::encode_request(*gbpp));
  auto bpp = es9::decode_get_bound_profile_package_response(r3.body);
  ASSERT_TRUE(bpp) << bpp.error().to_string();
  auto loaded = e.load_bpp(bpp->boundProfilePackage);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(*loaded, upp);

  sg::HandleNotification hn;
  hn.pendingNotification = e.install_result(true);
  auto r4 = call(w, es9::Function::HandleNotification, es9::encode_request(hn));
  EXPECT_EQ(r4.status, 204);
  EXPECT_TRUE(r4.body.empty());
  EXPECT_TRUE(r4.content_type.empty());
  EXPECT_FALSE(r4.error);
  EXPECT_EQ(w.catalog->events("MATCH-1"), (std::vector<OrderEvent>{OrderEvent::BppIssued, OrderEvent::Installed}));
}

TEST_F(Es9Http, CancelSessionAnswersAHeaderOnly) {
  w.catalog->add(ProfileOrder{"M", std::nullopt, std::nullopt, 3, prepare(w, make_test_upp(kIccid, 10))});
  auto init = es9::decode_initiate_authentication_response(
      call(w, es9::Function::InitiateAuthentication, es9::encode_request(e.initiate(kAddress))).body);
  ASSERT_TRUE(init);
  auto acr = e.authenticate_server(*init, "M");
  ASSERT_TRUE(acr);
  auto r = call(w, es9::Function::CancelSession, es9::encode_request(e.cancel(1)));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"header":{"functionExecutionStatus":{"status":"Executed-Success"}}})"));
  EXPECT_TRUE(es9::decode_cancel_session_response(r.body));
  // the session is gone
  auto again = call(w, es9::Function::AuthenticateClient, es9::encode_request(*acr));
  expect_failed(again, codes::kUnknownTransactionId.subject, codes::kUnknownTransactionId.reason);
}

TEST_F(Es9Http, ServerCodesReachTheHeader) {
  w.catalog->add(ProfileOrder{"RIGHT", std::nullopt, std::nullopt, 3, prepare(w, make_test_upp(kIccid, 10))});
  auto init = es9::decode_initiate_authentication_response(
      call(w, es9::Function::InitiateAuthentication, es9::encode_request(e.initiate(kAddress))).body);
  ASSERT_TRUE(init);
  auto acr = e.authenticate_server(*init, "WRONG");
  ASSERT_TRUE(acr);
  auto r = call(w, es9::Function::AuthenticateClient, es9::encode_request(*acr));
  expect_failed(r, codes::kMatchingIdRefused.subject, codes::kMatchingIdRefused.reason);
  auto decoded = es9::decode_authenticate_client_response(r.body);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().kind, messages::ErrorKind::FunctionFailed);
  EXPECT_EQ(decoded.error().subject_code, "8.2.6");

  // The LPA hears the reason only; the detail is for the server's log.
  EXPECT_EQ(h_message(r), "Refused");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->message, "no download order for this matchingId");

  auto wrong_address = call(w, es9::Function::InitiateAuthentication,
                            es9::encode_request(e.initiate("other.example")));
  expect_failed(wrong_address, codes::kInvalidSmdpAddress.subject, codes::kInvalidSmdpAddress.reason);
}

TEST_F(Es9Http, MalformedInputIsAnsweredWithTheSpecCodes) {
  const std::string good = es9::encode_request(e.initiate(kAddress));
  for (const auto& body : {std::string(""), std::string("{"), std::string("[]"), std::string("null"),
                           std::string("{\"euiccChallenge\":1}"), std::string("\xff\xfe"),
                           std::string(100000, '[')}) {
    for (auto f : {es9::Function::InitiateAuthentication, es9::Function::AuthenticateClient,
                   es9::Function::GetBoundProfilePackage, es9::Function::HandleNotification,
                   es9::Function::CancelSession}) {
      auto r = call(w, f, body);
      EXPECT_EQ(r.status, 200) << es9::name(f);
      auto h = es9::decode_response_header(r.body);
      ASSERT_TRUE(h) << r.body;
      EXPECT_EQ(h->function_execution_status.status_code_data->subject_code, "1.2");
    }
  }
  auto j = json::parse(good);
  j["euiccInfo1"] = "AAAA";
  expect_failed(call(w, es9::Function::InitiateAuthentication, j.dump()), "1.2", "2.1");
  j = json::parse(good);
  j["euiccInfo1"] = "%%%";
  expect_failed(call(w, es9::Function::InitiateAuthentication, j.dump()), "1.2", "2.1");
  j = json::parse(good);
  j.erase("euiccChallenge");
  expect_failed(call(w, es9::Function::InitiateAuthentication, j.dump()), "1.2", "2.2");
  j = json::parse(good);
  j["unexpected"] = "x";
  auto unexpected_field = call(w, es9::Function::InitiateAuthentication, j.dump());
  expect_failed(unexpected_field, "1.2", "2.1");
  // A request the server cannot read is told which field was wrong.
  EXPECT_NE(h_message(unexpected_field).find("unexpected"), std::string::npos) << unexpected_field.body;
  expect_failed(call(w, es9::Function::AuthenticateClient,
                     R"({"transactionId":"ZZ","authenticateServerResponse":"AAAA"})"), "1.2", "2.1");
  expect_failed(call(w, es9::Function::HandleNotification, R"({"pendingNotification":"vzcA"})"), "1.2", "2.1");
}

TEST_F(Es9Http, UnknownPathIs404) {
  auto r = handle_es9(*w.server, "/gsma/rsp2/es9plus/deleteEverything", "{}");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.body.empty());
  EXPECT_FALSE(r.function);
  EXPECT_EQ(handle_es9(*w.server, "/", "").status, 404);
}

TEST_F(Es9Http, UnverifiedNotificationStill204) {
  sg::HandleNotification hn;
  hn.pendingNotification = e.other_notification(5);
  auto r = call(w, es9::Function::HandleNotification, es9::encode_request(hn));
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
}

}  // namespace
}  // namespace rsp::smdpp::testing
