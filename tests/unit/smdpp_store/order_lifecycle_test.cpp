// The download order's lifecycle as an SGP.23-style conformance run probes it
// over ES2+ and ES9+: each refusal answers its own SGP.22 v2.2.2 §5.6.2 /
// §5.6.3 subject and reason code.
#include <gtest/gtest.h>

#include "catalog_world.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/smdpp/es2_codes.hpp"
#include "rsp/smdpp/es2_json.hpp"

namespace rsp::smdpp::testing {
namespace {

using S = ProfileState;
namespace sg = asn1::sgp22;

std::string code_of(const SmdppError& e) { return e.subject_code + "/" + e.reason_code + " " + e.message; }
std::string code_text(codes::Code c) { return std::string(c.subject) + "/" + c.reason; }

// `result` is evaluated once (it is often the call itself).
#define EXPECT_REFUSED(result, code)                                                    \
  do {                                                                                  \
    const auto refused_ = (result);                                                     \
    ASSERT_FALSE(refused_);                                                             \
    EXPECT_EQ(refused_.error().subject_code + "/" + refused_.error().reason_code, code_text(code)) \
        << refused_.error().message;                                                    \
  } while (0)

struct Lifecycle : CatalogWorld {
  explicit Lifecycle(int max_attempts = 0) : CatalogWorld(SqlCatalogOptions{false, 16, max_attempts}) {}
  TestEuicc e{test_euicc_credentials(crypto::Curve::NistP256), rng};

  SmdppResult<sg::AuthenticateClientOk> authenticate(const std::optional<std::string>& mid) {
    auto init = server->initiate_authentication(e.initiate(kAddress));
    if (!init) return unexpected(init.error());
    return server->authenticate_client(*e.authenticate_server(*init, mid));
  }
  SmdppResult<sg::GetBoundProfilePackageOk> bpp(const sg::AuthenticateClientOk& auth) {
    return server->get_bound_profile_package(*e.prepare_download(auth, std::nullopt));
  }
  std::int64_t now() const { return inv->now(); }
};

TEST(OrderLifecycle, AnOrderThatIsNotReleasedAnswers8_2_1_2) {
  Lifecycle w;
  const std::string iccid = w.add(1);
  ASSERT_TRUE(w.es2->download_order("op1", {std::nullopt, iccid, std::nullopt}));
  ConfirmOrderRequest cr;
  cr.iccid = iccid;
  cr.matching_id = "HELD-BACK";
  ASSERT_TRUE(w.es2->confirm_order("op1", cr));
  auto auth = w.authenticate(std::string("HELD-BACK"));
  EXPECT_REFUSED(auth, codes::kProfileNotReleased);
  EXPECT_EQ(w.state(iccid), S::Confirmed);
  // An unknown matchingId is still a refused one, not an unreleased order.
  EXPECT_REFUSED(w.authenticate(std::string("NO-SUCH-ORDER")), codes::kMatchingIdRefused);
  ASSERT_TRUE(w.es2->release_profile("op1", iccid));
  EXPECT_TRUE(w.authenticate(std::string("HELD-BACK")));
}

TEST(OrderLifecycle, AnUnreleasedOrderOfAnotherEidIsRefusedForTheEid) {
  Lifecycle w;
  const std::string iccid = w.add(1);
  ASSERT_TRUE(w.es2->download_order("op1", {std::string(kEid), iccid, std::nullopt}));
  ConfirmOrderRequest cr;
  cr.iccid = iccid;
  cr.matching_id = "OTHERS";
  ASSERT_TRUE(w.es2->confirm_order("op1", cr));
  ASSERT_NE(w.e.eid(), kEid);
  EXPECT_REFUSED(w.authenticate(std::string("OTHERS")), codes::kEidMismatch);
}

TEST(OrderLifecycle, AnExpiredOrderAnswers8_8_5_4_10) {
  Lifecycle w;
  const std::string iccid = w.add(1);
  DownloadOrderRequest dr{std::nullopt, iccid, std::nullopt};
  dr.expires_at = w.now() + 60;
  ASSERT_TRUE(w.es2->download_order("op1", dr));
  EXPECT_EQ((*w.inv->active_order(iccid))->expires_at, w.now() + 60);
  ConfirmOrderRequest cr;
  cr.iccid = iccid;
  cr.matching_id = "SHORT-LIVED";
  cr.release_flag = true;
  ASSERT_TRUE(w.es2->confirm_order("op1", cr));
  w.clock.advance(std::chrono::seconds(60));  // its last second
  ASSERT_TRUE(w.authenticate(std::string("SHORT-LIVED")));
  w.clock.advance(std::chrono::seconds(1));
  EXPECT_REFUSED(w.authenticate(std::string("SHORT-LIVED")), codes::kDownloadOrderExpired);
  EXPECT_EQ(w.state(iccid), S::Released);
}

TEST(OrderLifecycle, AnOrderThatExpiresDuringTheSessionIsNotDownloaded) {
  Lifecycle w;
  const std::string iccid = w.add(1);
  DownloadOrderRequest dr{std::nullopt, iccid, std::nullopt};
  dr.expires_at = w.now() + 60;
  ASSERT_TRUE(w.es2->download_order("op1", dr));
  ConfirmOrderRequest cr;
  cr.iccid = iccid;
  cr.matching_id = "EXPIRES-MIDWAY";
  cr.release_flag = true;
  ASSERT_TRUE(w.es2->confirm_order("op1", cr));
  auto auth = w.authenticate(std::string("EXPIRES-MIDWAY"));
  ASSERT_TRUE(auth) << code_of(auth.error());
  w.clock.advance(std::chrono::seconds(61));
  EXPECT_REFUSED(w.bpp(*auth), codes::kDownloadOrderExpired);
  EXPECT_EQ(w.state(iccid), S::Released);
  EXPECT_EQ((*w.inv->active_order(iccid))->download_attempts, 0);
}

TEST(OrderLifecycle, ConfirmOrderSetsTheExpiryAndTheConfigurationGivesTheDefault) {
  Lifecycle w;
  w.es2 = std::make_unique<Es2Service>(w.inv, Es2Config{"smdp.test.example", 3, std::chrono::seconds(3600)}, w.rng);
  const std::string a = w.add(1);
  ASSERT_TRUE(w.es2->download_order("op1", {std::nullopt, a, std::nullopt}));
  EXPECT_EQ((*w.inv->active_order(a))->expires_at, w.now() + 3600);
  ConfirmOrderRequest cr;
  cr.iccid = a;
  cr.matching_id = "LONGER";
  cr.release_flag = true;
  cr.expires_at = w.now() + 7200;
  ASSERT_TRUE(w.es2->confirm_order("op1", cr));
  EXPECT_EQ((*w.inv->active_order(a))->expires_at, w.now() + 7200);
  w.clock.advance(std::chrono::seconds(3601));
  EXPECT_TRUE(w.authenticate(std::string("LONGER")));
  w.clock.advance(std::chrono::seconds(3600));
  EXPECT_REFUSED(w.authenticate(std::string("LONGER")), codes::kDownloadOrderExpired);

  // An expiry that has passed already is a wrong parameter value.
  const std::string b = w.add(2);
  DownloadOrderRequest past{std::nullopt, b, std::nullopt};
  past.expires_at = w.now();
  auto refused = w.es2->download_order("op1", past);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), es2codes::kInvalidParameter)) << code_of(refused.error());
  EXPECT_EQ(w.state(b), S::Available);
}

TEST(OrderLifecycle, OrderExpiryTravelsInTheEs2JsonBinding) {
  auto ok = decode_es2_request("/gsma/rsp2/es2plus/downloadOrder",
                               R"({"header":{"functionRequesterIdentifier":"op1","functionCallIdentifier":"c1"},)"
                               R"("profileType":"gold","orderExpiry":"2030-01-02T03:04:05Z"})");
  ASSERT_TRUE(ok) << code_of(ok.error());
  EXPECT_EQ(std::get<Es2DownloadOrder>(ok->function).request.expires_at, 1893553445);
  auto confirm = decode_es2_request("/gsma/rsp2/es2plus/confirmOrder",
                                    R"({"header":{"functionRequesterIdentifier":"op1","functionCallIdentifier":"c2"},)"
                                    R"("iccid":"89490000000000000011","releaseFlag":true,)"
                                    R"("orderExpiry":"2030-01-02T03:04:05Z"})");
  ASSERT_TRUE(confirm) << code_of(confirm.error());
  EXPECT_EQ(std::get<Es2ConfirmOrder>(confirm->function).request.expires_at, 1893553445);
  for (const char* bad : {"2030-01-02", "2030-01-02T03:04:05", "2030-13-02T03:04:05Z", "tomorrow"}) {
    auto r = decode_es2_request("/gsma/rsp2/es2plus/downloadOrder",
                                std::string(R"({"header":{"functionRequesterIdentifier":"op1","functionCallIdentifier":"c3"},)") +
                                    R"("profileType":"gold","orderExpiry":")" + bad + "\"}");
    ASSERT_FALSE(r) << bad;
    EXPECT_TRUE(is(r.error(), es2codes::kInvalidParameter)) << bad << ": " << code_of(r.error());
  }
}

TEST(OrderLifecycle, DownloadAttemptsBeyondTheMaximumAnswer8_8_5_6_4) {
  Lifecycle w(2);
  const std::string mid = w.order(1, std::nullopt, std::nullopt);
  const std::string iccid = test_iccid(1);
  // Two Bound Profile Packages whose answers were lost: both attempts used.
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto auth = w.authenticate(mid);
    ASSERT_TRUE(auth) << "attempt " << attempt << ": " << code_of(auth.error());
    ASSERT_TRUE(w.bpp(*auth)) << "attempt " << attempt;
    EXPECT_EQ((*w.inv->active_order(iccid))->download_attempts, attempt);
  }
  EXPECT_REFUSED(w.authenticate(mid), codes::kDownloadAttemptsExceeded);
  EXPECT_EQ(w.state(iccid), S::Downloaded);
  EXPECT_EQ((*w.inv->active_order(iccid))->download_attempts, 2);
}

TEST(OrderLifecycle, AttemptsAreCountedAgainInTheTransactionThatIssuesTheBpp) {
  Lifecycle w(1);
  const std::string mid = w.order(1, std::nullopt, std::nullopt);
  // Two sessions of the same eUICC pass AuthenticateClient before either gets its BPP.
  auto first = w.authenticate(mid);
  ASSERT_TRUE(first);
  auto first_gbpp = *w.e.prepare_download(*first, std::nullopt);
  auto second = w.authenticate(mid);
  ASSERT_TRUE(second);
  ASSERT_TRUE(w.server->get_bound_profile_package(first_gbpp));
  EXPECT_REFUSED(w.bpp(*second), codes::kDownloadAttemptsExceeded);
  EXPECT_EQ((*w.inv->active_order(test_iccid(1)))->download_attempts, 1);
}

TEST(OrderLifecycle, WithoutAMatchingIdARetryFindsItsOwnOrderInProgress) {
  Lifecycle w;
  // Two orders released for the same eUICC (default SM-DP+, no matchingId).
  const std::string first_iccid = test_iccid(1), second_iccid = test_iccid(2);
  w.order(1, w.e.eid(), std::nullopt);
  w.order(2, w.e.eid(), std::nullopt);
  auto auth = w.authenticate(std::nullopt);
  ASSERT_TRUE(auth) << code_of(auth.error());
  const std::string got = messages::iccid_to_digits(auth->profileMetaData.iccid);
  ASSERT_TRUE(w.bpp(*auth));  // the answer is lost
  const std::string other = got == first_iccid ? second_iccid : first_iccid;
  EXPECT_EQ(w.state(got), S::Downloaded);
  // The retry gets the same profile again, not the next released one.
  auto retry = w.authenticate(std::nullopt);
  ASSERT_TRUE(retry) << code_of(retry.error());
  EXPECT_EQ(messages::iccid_to_digits(retry->profileMetaData.iccid), got);
  auto again = w.bpp(*retry);
  ASSERT_TRUE(again);
  ASSERT_TRUE(w.e.load_bpp(again->boundProfilePackage));
  ASSERT_TRUE(w.server->handle_notification(w.e.install_result(true)));
  EXPECT_EQ(w.state(got), S::Installed);
  EXPECT_EQ(w.state(other), S::Released);
  // Then the next one.
  auto next = w.authenticate(std::nullopt);
  ASSERT_TRUE(next) << code_of(next.error());
  EXPECT_EQ(messages::iccid_to_digits(next->profileMetaData.iccid), other);
}

TEST(OrderLifecycle, WithoutAMatchingIdAnExpiredOrderSaysSoButADownloadableOneWins) {
  Lifecycle w;
  const std::string a = w.add(1);
  DownloadOrderRequest dr{w.e.eid(), a, std::nullopt};
  dr.expires_at = w.now() + 10;
  ASSERT_TRUE(w.es2->download_order("op1", dr));
  ConfirmOrderRequest cr;
  cr.iccid = a;
  cr.release_flag = true;
  ASSERT_TRUE(w.es2->confirm_order("op1", cr));
  w.clock.advance(std::chrono::seconds(11));
  EXPECT_REFUSED(w.authenticate(std::nullopt), codes::kDownloadOrderExpired);
  w.order(2, w.e.eid(), std::nullopt);
  auto auth = w.authenticate(std::nullopt);
  ASSERT_TRUE(auth) << code_of(auth.error());
  EXPECT_EQ(messages::iccid_to_digits(auth->profileMetaData.iccid), test_iccid(2));
}

TEST(OrderLifecycle, TheConfirmationCodeLimitAnswersOneCodeInBothFunctions) {
  Lifecycle w;
  const std::string mid = w.order(1, std::nullopt, std::string("1234"));
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto auth = w.authenticate(mid);
    ASSERT_TRUE(auth) << code_of(auth.error());
    auto r = w.server->get_bound_profile_package(*w.e.prepare_download(*auth, std::string("9999")));
    EXPECT_REFUSED(r, attempt < 3 ? codes::kConfirmationCodeRefused : codes::kConfirmationCodeRetriesExceeded);
  }
  EXPECT_REFUSED(w.authenticate(mid), codes::kConfirmationCodeRetriesExceeded);
  EXPECT_EQ(w.state(test_iccid(1)), S::Error);
}

// CancelSession by reason (SGP.22 v2.2.2 §5.6.5): postponed and timeout
// leave the download to the same eUICC for later; every other reason ends
// the order in error; each tells the operator (HandleDownloadProgressInfo).
struct CancelCase {
  std::int64_t reason;
  bool after_bpp;
  S expected;
};

class CancelByReason : public ::testing::TestWithParam<CancelCase> {};

TEST_P(CancelByReason, TheProfilesNextStateFollowsTheReason) {
  const auto c = GetParam();
  Lifecycle w;
  const std::string mid = w.order(1, std::nullopt, std::nullopt);
  const std::string iccid = test_iccid(1);
  auto auth = w.authenticate(mid);
  ASSERT_TRUE(auth) << code_of(auth.error());
  if (c.after_bpp) {
    ASSERT_TRUE(w.bpp(*auth));
  }
  const auto before = w.outbox().size();
  ASSERT_TRUE(w.server->cancel_session(w.e.cancel(c.reason))) << w.catalog->last_error();
  EXPECT_EQ(w.state(iccid), c.expected) << cancel_reason_name(c.reason);
  auto sent = w.outbox();
  ASSERT_EQ(sent.size(), before + 1);
  EXPECT_EQ(sent.back()["notificationPointId"], 3);
  EXPECT_EQ(sent.back()["notificationPointStatus"]["status"], "Failed");
  EXPECT_NE(sent.back()["notificationPointStatus"]["statusCodeData"]["message"].get<std::string>().find(
                cancel_reason_name(c.reason)),
            std::string::npos);
  auto history = *w.inv->history(iccid);
  if (c.expected == S::Error) {
    EXPECT_NE(history.back().cause.find(cancel_reason_name(c.reason)), std::string::npos) << history.back().cause;
    // Not downloadable any more, and AuthenticateClient says so.
    EXPECT_REFUSED(w.authenticate(mid), codes::kProfileNotReleased);
    return;
  }
  // The same eUICC downloads it later; no other may take it over once a
  // package was issued.
  if (c.after_bpp) {
    auto for_other = w.catalog->find(mid, "89049032123451234512345678901243");
    ASSERT_TRUE(for_other);
    EXPECT_FALSE(*for_other);
  }
  auto again = w.authenticate(mid);
  ASSERT_TRUE(again) << code_of(again.error());
  auto bpp = w.bpp(*again);
  ASSERT_TRUE(bpp) << code_of(bpp.error());
  ASSERT_TRUE(w.e.load_bpp(bpp->boundProfilePackage));
  ASSERT_TRUE(w.server->handle_notification(w.e.install_result(true)));
  EXPECT_EQ(w.state(iccid), S::Installed);
}

INSTANTIATE_TEST_SUITE_P(
    Sgp22, CancelByReason,
    ::testing::Values(CancelCase{cancel_reason::kPostponed, false, S::Released},
                      CancelCase{cancel_reason::kPostponed, true, S::Downloaded},
                      CancelCase{cancel_reason::kTimeout, false, S::Released},
                      CancelCase{cancel_reason::kTimeout, true, S::Downloaded},
                      CancelCase{cancel_reason::kEndUserRejection, false, S::Error},
                      CancelCase{cancel_reason::kEndUserRejection, true, S::Error},
                      CancelCase{cancel_reason::kPprNotAllowed, false, S::Error},
                      CancelCase{cancel_reason::kMetadataMismatch, false, S::Error},
                      CancelCase{cancel_reason::kLoadBppExecutionError, true, S::Error},
                      CancelCase{cancel_reason::kUndefinedReason, true, S::Error}));

TEST(OrderLifecycle, ACancelNamingAnotherSmdpOidChangesNothing) {
  Lifecycle w;
  const std::string mid = w.order(1, std::nullopt, std::nullopt);
  auto auth = w.authenticate(mid);
  ASSERT_TRUE(auth);
  const auto before = w.outbox().size();
  auto r = w.server->cancel_session(w.e.cancel(cancel_reason::kEndUserRejection, *asn1::Oid::from_string("2.999.77")));
  EXPECT_REFUSED(r, codes::kInvalidSmdpOid);
  EXPECT_EQ(w.state(test_iccid(1)), S::Released);
  EXPECT_EQ(w.outbox().size(), before);
  // The session goes on.
  EXPECT_TRUE(w.bpp(*auth));
}

}  // namespace
}  // namespace rsp::smdpp::testing
