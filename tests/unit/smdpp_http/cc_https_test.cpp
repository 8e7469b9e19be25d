// The confirmation code over ES9+ HTTPS (SGP.22 §3.1.3, §5.6.3) with the
// SQL inventory: each wrong code is answered 8.2.7/3.8 on the wire, the last
// allowed one 8.2.7/6.4; then the order is blocked and the profile in error,
// so even the right code no longer downloads it.

#include <gtest/gtest.h>

#include "https_rig.hpp"
#include "rsp/smdpp/sql_catalog.hpp"
#include "world.hpp"

namespace rsp::smdpp::testing {
namespace {

namespace es9 = messages::es9;
namespace sg = asn1::sgp22;

std::string code_text(codes::Code c) { return std::string(c.subject) + "/" + c.reason; }

class ConfirmationCodeHttps : public ::testing::Test {
 protected:
  ConfirmationCodeHttps()
      : catalog(std::make_shared<SqlProfileCatalog>(store.inv, store.rng)),
        server([&] {
          ServerConfig cfg;
          cfg.address = kAddress;
          return std::make_unique<Server>(cfg, std::make_shared<IdentitySet>(*IdentitySet::load_directory(test_pki_dir())),
                                          catalog, server_clock, store.rng);
        }()),
        rig(*server),
        e(test_euicc_credentials(crypto::Curve::NistP256), store.rng) {}

  void SetUp() override {
    ASSERT_TRUE(rig.error.empty()) << rig.error;
    // Three attempts (StoreWorld's Es2Config); only the code's hash is stored.
    iccid = store.add(1);
    ASSERT_TRUE(store.es2->download_order("op1", {std::nullopt, iccid, std::nullopt}));
    ConfirmOrderRequest cr;
    cr.iccid = iccid;
    cr.confirmation_code = "4711";
    cr.release_flag = true;
    auto c = store.es2->confirm_order("op1", cr);
    ASSERT_TRUE(c) << c.error().message;
    matching_id = c->matching_id;
  }

  std::string post(es9::Function f, const std::string& body) {
    auto r = rig.call(f, body);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? r->body : std::string();
  }

  /// initiateAuthentication + authenticateClient over HTTPS.
  messages::Result<sg::AuthenticateClientOk> authenticate() {
    auto init = es9::decode_initiate_authentication_response(
        post(es9::Function::InitiateAuthentication, es9::encode_request(e.initiate(kAddress))));
    EXPECT_TRUE(init);
    if (!init) return unexpected(init.error());
    auto acr = e.authenticate_server(*init, matching_id);
    EXPECT_TRUE(acr);
    return es9::decode_authenticate_client_response(post(es9::Function::AuthenticateClient, es9::encode_request(*acr)));
  }

  /// getBoundProfilePackage with `cc` in the session of `auth`.
  messages::Result<sg::GetBoundProfilePackageOk> get_bpp(const sg::AuthenticateClientOk& auth, const std::string& cc) {
    auto gbpp = e.prepare_download(auth, cc);
    EXPECT_TRUE(gbpp);
    return es9::decode_get_bound_profile_package_response(
        post(es9::Function::GetBoundProfilePackage, es9::encode_request(*gbpp)));
  }

  StoreWorld store;
  ManualClock server_clock{std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now())};
  std::shared_ptr<SqlProfileCatalog> catalog;
  std::unique_ptr<Server> server;
  HttpsRig rig;
  TestEuicc e;
  std::string iccid;
  std::string matching_id;
};

TEST_F(ConfirmationCodeHttps, WrongCodesThenBlocked) {
  // Each attempt in a session of its own, as an LPA retrying from scratch.
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto auth = authenticate();
    ASSERT_TRUE(auth) << auth.error().to_string();
    EXPECT_TRUE(auth->prepareDownloadRequest.smdpSigned2.ccRequiredFlag);
    auto bpp = get_bpp(*auth, "0000");
    ASSERT_FALSE(bpp) << "attempt " << attempt;
    EXPECT_EQ(failure_codes(bpp.error()), code_text(attempt < 3 ? codes::kConfirmationCodeRefused
                                                                : codes::kConfirmationCodeRetriesExceeded))
        << "attempt " << attempt;
    EXPECT_EQ((*store.inv->active_order(iccid))->cc_attempts_left, 3 - attempt);
  }
  EXPECT_EQ(store.state(iccid), ProfileState::Error);
  auto order = *store.inv->active_order(iccid);
  EXPECT_EQ((*store.db->query_one("SELECT state FROM orders WHERE id = $1", {store::value(order->id)}))->text(0),
            "blocked");
  // The right code is too late: the order is no longer downloadable, and
  // AuthenticateClient says why with GetBoundProfilePackage's code.
  auto auth = authenticate();
  ASSERT_FALSE(auth);
  EXPECT_EQ(failure_codes(auth.error()), code_text(codes::kConfirmationCodeRetriesExceeded));
  // Nothing was ever issued.
  auto hist = store.inv->history(iccid);
  ASSERT_TRUE(hist);
  for (const auto& t : *hist) EXPECT_NE(t.to, ProfileState::Downloaded);
}

TEST_F(ConfirmationCodeHttps, RightCodeAfterAWrongOneInTheSameSession) {
  auto auth = authenticate();
  ASSERT_TRUE(auth) << auth.error().to_string();
  auto wrong = get_bpp(*auth, "1234");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(failure_codes(wrong.error()), code_text(codes::kConfirmationCodeRefused));
  // The session stays open for another try (SGP.22 §3.1.3: the user may re-enter the code).
  auto bpp = get_bpp(*auth, "4711");
  ASSERT_TRUE(bpp) << bpp.error().to_string();
  auto loaded = e.load_bpp(bpp->boundProfilePackage);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(*loaded, test_upp(1));
  EXPECT_EQ((*store.inv->active_order(iccid))->cc_attempts_left, 2);
  EXPECT_EQ(store.state(iccid), ProfileState::Downloaded);
}

}  // namespace
}  // namespace rsp::smdpp::testing
