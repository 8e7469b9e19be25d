// ES9+ session rules over real HTTPS (SGP.22 §3.1.3, §5.6): a session that
// outlives its timeout, a session the LPA cancels, and replayed requests all
// end as "transactionId unknown" (8.10.1/3.9) on the wire, and none of them
// changes an order twice.

#include <gtest/gtest.h>

#include <algorithm>

#include "https_rig.hpp"

namespace rsp::smdpp::testing {
namespace {

namespace es9 = messages::es9;
namespace sg = asn1::sgp22;
const Bytes kIccid{0x98, 0x94, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0xF4};
const std::string kUnknownTid = std::string(codes::kUnknownTransactionId.subject) + "/" +
                                codes::kUnknownTransactionId.reason;

class SessionsHttps : public ::testing::Test {
 protected:
  SessionsHttps() : w(test_pki_dir()), e(test_euicc_credentials(crypto::Curve::NistP256), w.rng), rig(*w.server) {}

  void SetUp() override {
    ASSERT_TRUE(rig.error.empty()) << rig.error;
    auto prepared = PreparedProfile::prepare(make_test_upp(kIccid, 500), {"Test SP", "Test profile", 2}, false, w.rng);
    ASSERT_TRUE(prepared);
    w.catalog->add(ProfileOrder{"MATCH-SESSIONS", std::nullopt, std::nullopt, 3, *prepared});
  }

  /// POSTs and returns the body; an HTTP/TLS failure fails the test.
  std::string post(es9::Function f, const std::string& body) {
    auto r = rig.call(f, body);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? r->body : std::string();
  }
  sg::InitiateAuthenticationOkEs9 initiate() {
    auto ok = es9::decode_initiate_authentication_response(
        post(es9::Function::InitiateAuthentication, es9::encode_request(e.initiate(kAddress))));
    EXPECT_TRUE(ok);
    return ok ? *ok : sg::InitiateAuthenticationOkEs9{};
  }
  std::size_t count(OrderEvent ev) {
    const auto events = w.catalog->events("MATCH-SESSIONS");
    return static_cast<std::size_t>(std::count(events.begin(), events.end(), ev));
  }

  World w;
  TestEuicc e;
  HttpsRig rig;
};

TEST_F(SessionsHttps, ExpiredSessionIsAnUnknownTransactionId) {
  const auto init = initiate();
  auto acr = e.authenticate_server(init, std::string("MATCH-SESSIONS"));
  ASSERT_TRUE(acr) << acr.error();
  // World's server times sessions out after 300 s.
  w.clock.advance(std::chrono::seconds(301));
  auto auth = es9::decode_authenticate_client_response(post(es9::Function::AuthenticateClient, es9::encode_request(*acr)));
  ASSERT_FALSE(auth);
  EXPECT_EQ(failure_codes(auth.error()), kUnknownTid);
  EXPECT_EQ(w.server->session_count(), 0u);

  // After authenticateClient the same holds for getBoundProfilePackage.
  const auto init2 = initiate();
  acr = e.authenticate_server(init2, std::string("MATCH-SESSIONS"));
  ASSERT_TRUE(acr) << acr.error();
  auto auth2 = es9::decode_authenticate_client_response(post(es9::Function::AuthenticateClient, es9::encode_request(*acr)));
  ASSERT_TRUE(auth2) << auth2.error().to_string();
  auto gbpp = e.prepare_download(*auth2, std::nullopt);
  ASSERT_TRUE(gbpp) << gbpp.error();
  w.clock.advance(std::chrono::seconds(301));
  auto bpp = es9::decode_get_bound_profile_package_response(
      post(es9::Function::GetBoundProfilePackage, es9::encode_request(*gbpp)));
  ASSERT_FALSE(bpp);
  EXPECT_EQ(failure_codes(bpp.error()), kUnknownTid);
  EXPECT_EQ(count(OrderEvent::BppIssued), 0u);
}

TEST_F(SessionsHttps, CancelledByTheLpaEndsTheSession) {
  const auto init = initiate();
  auto acr = e.authenticate_server(init, std::string("MATCH-SESSIONS"));
  ASSERT_TRUE(acr) << acr.error();
  auto auth = es9::decode_authenticate_client_response(post(es9::Function::AuthenticateClient, es9::encode_request(*acr)));
  ASSERT_TRUE(auth) << auth.error().to_string();
  auto gbpp = e.prepare_download(*auth, std::nullopt);
  ASSERT_TRUE(gbpp) << gbpp.error();

  // The end user declined (SGP.22 §5.6.5, reason endUserRejection).
  const auto cancel = es9::encode_request(e.cancel(0));
  auto cancelled = es9::decode_cancel_session_response(post(es9::Function::CancelSession, cancel));
  ASSERT_TRUE(cancelled) << cancelled.error().to_string();
  EXPECT_EQ(count(OrderEvent::Cancelled), 1u);
  EXPECT_EQ(w.server->session_count(), 0u);

  // Nothing is left to download or to cancel again.
  auto bpp = es9::decode_get_bound_profile_package_response(
      post(es9::Function::GetBoundProfilePackage, es9::encode_request(*gbpp)));
  ASSERT_FALSE(bpp);
  EXPECT_EQ(failure_codes(bpp.error()), kUnknownTid);
  auto again = es9::decode_cancel_session_response(post(es9::Function::CancelSession, cancel));
  ASSERT_FALSE(again);
  EXPECT_EQ(failure_codes(again.error()), kUnknownTid);
  EXPECT_EQ(count(OrderEvent::Cancelled), 1u);
  EXPECT_EQ(count(OrderEvent::BppIssued), 0u);
}

TEST_F(SessionsHttps, ReplayedRequestsFindNoSession) {
  const auto init = initiate();
  auto acr = e.authenticate_server(init, std::string("MATCH-SESSIONS"));
  ASSERT_TRUE(acr) << acr.error();
  const std::string acr_body = es9::encode_request(*acr);
  auto auth = es9::decode_authenticate_client_response(post(es9::Function::AuthenticateClient, acr_body));
  ASSERT_TRUE(auth) << auth.error().to_string();
  // The serverChallenge was used once: the same euiccSigned1 again is refused.
  auto replay1 = es9::decode_authenticate_client_response(post(es9::Function::AuthenticateClient, acr_body));
  ASSERT_FALSE(replay1);
  EXPECT_EQ(failure_codes(replay1.error()), kUnknownTid);

  auto gbpp = e.prepare_download(*auth, std::nullopt);
  ASSERT_TRUE(gbpp) << gbpp.error();
  const std::string gbpp_body = es9::encode_request(*gbpp);
  auto bpp = es9::decode_get_bound_profile_package_response(post(es9::Function::GetBoundProfilePackage, gbpp_body));
  ASSERT_TRUE(bpp) << bpp.error().to_string();
  auto replay2 = es9::decode_get_bound_profile_package_response(post(es9::Function::GetBoundProfilePackage, gbpp_body));
  ASSERT_FALSE(replay2);
  EXPECT_EQ(failure_codes(replay2.error()), kUnknownTid);
  EXPECT_EQ(count(OrderEvent::BppIssued), 1u);

  // The installation result counts once; its replay is answered 204 (the
  // LPA removes it either way) but changes nothing.
  sg::HandleNotification hn;
  hn.pendingNotification = e.install_result(true);
  const std::string hn_body = es9::encode_request(hn);
  for (int i = 0; i < 2; ++i) {
    auto r = rig.call(es9::Function::HandleNotification, hn_body);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 204);
  }
  EXPECT_EQ(count(OrderEvent::Installed), 1u);
  // A replayed initiateAuthentication opens a new session with a new
  // transactionId and serverChallenge: nothing is reused.
  const std::string ia_body = es9::encode_request(e.initiate(kAddress));
  auto a = es9::decode_initiate_authentication_response(post(es9::Function::InitiateAuthentication, ia_body));
  auto b = es9::decode_initiate_authentication_response(post(es9::Function::InitiateAuthentication, ia_body));
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->transactionId, b->transactionId);
  EXPECT_NE(a->serverSigned1.serverChallenge, b->serverSigned1.serverChallenge);
}

}  // namespace
}  // namespace rsp::smdpp::testing
