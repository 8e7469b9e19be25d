// SqlProfileCatalog under the SM-DP+ core: complete downloads with the
// test-double eUICC, the states they pass through and the operator callbacks.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "fixture.hpp"
#include "rsp/asn1/runtime.hpp"
#include "rsp/asn1/sgp22.hpp"
#include "rsp/messages/es9_json.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/smdpp/es9_http.hpp"
#include "rsp/smdpp/sql_catalog.hpp"
#include "catalog_world.hpp"

namespace rsp::smdpp::testing {
namespace {

using S = ProfileState;

class SqlCatalogDownload : public ::testing::TestWithParam<bool> {};

TEST_P(SqlCatalogDownload, FullDownloadMovesTheProfileToInstalled) {
  CatalogWorld w(GetParam());
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.order(1, e.eid(), std::nullopt);
  const std::string iccid = test_iccid(1);
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  ASSERT_TRUE(init);
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_TRUE(auth) << auth.error().subject_code << " " << auth.error().message << " " << w.catalog->last_error();
  EXPECT_EQ(messages::iccid_to_digits(auth->profileMetaData.iccid), iccid);
  EXPECT_EQ(auth->profileMetaData.serviceProviderName, "op1");
  EXPECT_EQ(auth->profileMetaData.profileName, "gold");
  auto bpp = w.server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt));
  ASSERT_TRUE(bpp) << bpp.error().message;
  EXPECT_EQ(w.state(iccid), S::Downloaded);
  auto upp = e.load_bpp(bpp->boundProfilePackage);
  ASSERT_TRUE(upp) << upp.error();
  EXPECT_EQ(*upp, test_upp(1));
  const auto installed = e.install_result(true);
  auto n = w.server->handle_notification(installed);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(w.state(iccid), S::Installed);

  std::vector<S> states;
  const auto history = w.inv->history(iccid);
  ASSERT_TRUE(history);
  for (const auto& t : *history) states.push_back(t.to);
  EXPECT_EQ(states, (std::vector<S>{S::Available, S::Linked, S::Released, S::Downloaded, S::Installed}));
  auto out = w.outbox();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["notificationPointId"], 3);
  EXPECT_EQ(out[0]["notificationPointStatus"]["status"], "Executed-Success");
  EXPECT_EQ(out[0]["eid"], e.eid());
  EXPECT_EQ(out[0]["iccid"], iccid);
  EXPECT_EQ(out[0]["profileType"], "gold");
  EXPECT_EQ(out[1]["notificationPointId"], 4);
  EXPECT_FALSE(out[0].contains("resultData"));
  // resultData (SGP.22 §5.3.5): the eUICC's signed result, as it arrived.
  auto result = base64_decode(out[1].value("resultData", ""));
  ASSERT_TRUE(result);
  ASSERT_NE(installed.profileInstallationResult(), nullptr);
  EXPECT_EQ(*result, asn1::encode(*installed.profileInstallationResult()));
  // Installed: no second download for this matchingId.
  auto again = w.server->initiate_authentication(e.initiate(kAddress));
  ASSERT_TRUE(again);
  EXPECT_FALSE(w.server->authenticate_client(*e.authenticate_server(*again, mid)));
}

INSTANTIATE_TEST_SUITE_P(Ppk, SqlCatalogDownload, ::testing::Bool());

TEST(SqlCatalog, OrderFoundByEidWithoutMatchingId) {
  CatalogWorld w;
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  w.order(1, e.eid(), std::nullopt);
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, std::nullopt));
  ASSERT_TRUE(auth) << auth.error().message;
  auto bpp = w.server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt));
  ASSERT_TRUE(bpp) << bpp.error().message;
  EXPECT_EQ(w.state(test_iccid(1)), S::Downloaded);
  ASSERT_TRUE(w.server->handle_notification(e.install_result(false)));
  EXPECT_EQ(w.state(test_iccid(1)), S::Error);
  auto out = w.outbox();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1]["notificationPointStatus"]["status"], "Failed");
  auto result = base64_decode(out[1].value("resultData", ""));
  ASSERT_TRUE(result);
  auto pir = asn1::decode<asn1::sgp22::ProfileInstallationResult>(*result);
  ASSERT_TRUE(pir);
  EXPECT_EQ(pir->profileInstallationResultData.finalResult.successResult(), nullptr);
}

// Two operators may give their orders the same matchingId. An eUICC gets the
// order bound to its EID; when both could be its, neither is handed out.
TEST(SqlCatalog, AMatchingIdOfTwoOperatorsFindsTheOrderOfTheEid) {
  CatalogWorld w;
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string other_eid = "89049032123451234512345678900001";
  auto confirm = [&](int n, const std::string& op, const std::optional<std::string>& eid) {
    const std::string iccid = w.add(n, op);
    EXPECT_TRUE(w.es2->download_order(op, {eid, iccid, std::nullopt}));
    ConfirmOrderRequest cr;
    cr.iccid = iccid;
    cr.matching_id = "SHARED-ID";
    cr.release_flag = true;
    EXPECT_TRUE(w.es2->confirm_order(op, cr));
  };
  confirm(1, "op1", other_eid);
  confirm(2, "op2", e.eid());
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  ASSERT_TRUE(init);
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, std::string("SHARED-ID")));
  ASSERT_TRUE(auth) << auth.error().message;
  EXPECT_EQ(auth->profileMetaData.iccid, *messages::iccid_from_digits(test_iccid(2)));
  auto bpp = w.server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt));
  ASSERT_TRUE(bpp) << bpp.error().message;
  EXPECT_EQ(w.state(test_iccid(2)), S::Downloaded);
  EXPECT_EQ(w.state(test_iccid(1)), S::Released);  // op1's order is untouched

  // Two unbound orders under one matchingId: ambiguous, refused.
  CatalogWorld v;
  auto unbound = [&](int n, const std::string& op) {
    const std::string iccid = v.add(n, op);
    EXPECT_TRUE(v.es2->download_order(op, {std::nullopt, iccid, std::nullopt}));
    ConfirmOrderRequest cr;
    cr.iccid = iccid;
    cr.matching_id = "SHARED-ID";
    cr.release_flag = true;
    EXPECT_TRUE(v.es2->confirm_order(op, cr));
  };
  unbound(1, "op1");
  unbound(2, "op2");
  TestEuicc f(test_euicc_credentials(crypto::Curve::NistP256), v.rng);
  auto init2 = v.server->initiate_authentication(f.initiate(kAddress));
  ASSERT_TRUE(init2);
  auto refused = v.server->authenticate_client(*f.authenticate_server(*init2, std::string("SHARED-ID")));
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), codes::kMatchingIdRefused)) << refused.error().message;
}

TEST(SqlCatalog, UnreleasedOrdersAreNotServed) {
  CatalogWorld w;
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string iccid = w.add(1);
  ASSERT_TRUE(w.es2->download_order("op1", {std::nullopt, iccid, std::nullopt}));
  ConfirmOrderRequest cr;
  cr.iccid = iccid;
  cr.matching_id = "NOT-RELEASED";
  ASSERT_TRUE(w.es2->confirm_order("op1", cr));
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, std::string("NOT-RELEASED")));
  ASSERT_FALSE(auth);
  EXPECT_TRUE(is(auth.error(), codes::kProfileNotReleased)) << auth.error().subject_code << "/" << auth.error().reason_code;
  ASSERT_TRUE(w.es2->release_profile("op1", iccid));
  init = w.server->initiate_authentication(e.initiate(kAddress));
  EXPECT_TRUE(w.server->authenticate_client(*e.authenticate_server(*init, std::string("NOT-RELEASED"))));
}

TEST(SqlCatalog, ConfirmationCodeAttemptsLimit) {
  CatalogWorld w;  // three attempts per order
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.order(1, std::nullopt, std::string("1234"));
  const std::string iccid = test_iccid(1);
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_TRUE(auth) << auth.error().message;
  EXPECT_TRUE(auth->prepareDownloadRequest.smdpSigned2.ccRequiredFlag);
  for (int i = 0; i < 2; ++i) {
    auto r = w.server->get_bound_profile_package(*e.prepare_download(*auth, std::string("0000")));
    ASSERT_FALSE(r);
    EXPECT_TRUE(is(r.error(), codes::kConfirmationCodeRefused));
  }
  EXPECT_EQ((*w.inv->active_order(iccid))->cc_attempts_left, 1);
  EXPECT_EQ(w.state(iccid), S::Released);
  auto last = w.server->get_bound_profile_package(*e.prepare_download(*auth, std::string("0000")));
  ASSERT_FALSE(last);
  EXPECT_TRUE(is(last.error(), codes::kConfirmationCodeRetriesExceeded));
  EXPECT_EQ(w.state(iccid), S::Error);
  auto order = *w.inv->active_order(iccid);
  EXPECT_EQ(order->cc_attempts_left, 0);
  EXPECT_EQ((*w.db->query_one("SELECT state FROM orders WHERE id = $1", {store::value(order->id)}))->text(0), "blocked");
  // Blocked: even the right code in a new session gets nowhere, with the
  // code GetBoundProfilePackage gave.
  init = w.server->initiate_authentication(e.initiate(kAddress));
  auto blocked = w.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_FALSE(blocked);
  EXPECT_TRUE(is(blocked.error(), codes::kConfirmationCodeRetriesExceeded)) << blocked.error().reason_code;
  auto out = w.outbox();
  ASSERT_EQ(out.size(), 3u);
  for (const auto& o : out) EXPECT_EQ(o["notificationPointId"], 2);
  EXPECT_EQ(out[2]["notificationPointStatus"]["statusCodeData"]["reasonCode"], "6.4");
  // The operator may put the profile back.
  ASSERT_TRUE(w.es2->cancel_order("op1", {iccid, std::nullopt, std::nullopt, FinalProfileStatus::Available}));
  EXPECT_EQ(w.state(iccid), S::Available);
}

TEST(SqlCatalog, RightCodeDownloads) {
  CatalogWorld w;
  TestEuicc e(test_euicc_credentials(crypto::Curve::BrainpoolP256r1), w.rng);
  const std::string mid = w.order(1, std::nullopt, std::string("1234"));
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_TRUE(auth);
  auto bpp = w.server->get_bound_profile_package(*e.prepare_download(*auth, std::string("1234")));
  ASSERT_TRUE(bpp) << bpp.error().message;
  EXPECT_EQ(w.state(test_iccid(1)), S::Downloaded);
}

TEST(SqlCatalog, StateSurvivesReopening) {
  CatalogWorld w;
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.order(1, std::nullopt, std::nullopt);
  w.reopen();  // a restart between ordering and the download
  auto catalog = std::make_shared<SqlProfileCatalog>(w.inv, w.rng);
  auto found = catalog->find(mid, e.eid());
  ASSERT_TRUE(found && *found) << catalog->last_error();
  EXPECT_EQ((*found)->matching_id.rfind('#', 0), 0u);  // the catalog names its orders by id
  EXPECT_EQ((*found)->profile->upp(), test_upp(1));
  auto unknown = catalog->find("UNKNOWN", e.eid());
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);
}

/// A restart after the BPP was issued: a new catalog and core over the reopened database.
struct Restarted {
  std::shared_ptr<SqlProfileCatalog> catalog;
  std::unique_ptr<Server> server;
  explicit Restarted(CatalogWorld& w) {
    w.reopen();
    catalog = std::make_shared<SqlProfileCatalog>(w.inv, w.rng);
    ServerConfig cfg;
    cfg.address = kAddress;
    server = std::make_unique<Server>(cfg, std::make_shared<IdentitySet>(*IdentitySet::load_directory(test_pki_dir())),
                                      catalog, w.server_clock, w.rng);
  }
};

TEST(SqlCatalog, InstallationResultAfterARestartCompletesTheOrderOnce) {
  CatalogWorld w;
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.order(1, std::nullopt, std::nullopt);
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_TRUE(auth);
  ASSERT_TRUE(w.server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt)));
  Restarted r(w);  // the sessions are gone
  EXPECT_EQ(r.server->session_count(), 0u);
  // A forged result (another signature) is refused; the genuine one completes the order.
  auto forged = e.install_result(true);
  auto pir = *forged.profileInstallationResult();
  pir.euiccSignPIR = Bytes(64, 0x01);
  forged.set_profileInstallationResult(pir);
  auto bad = r.server->handle_notification(forged);
  ASSERT_FALSE(bad);
  EXPECT_TRUE(is(bad.error(), codes::kEuiccSignatureInvalid));
  EXPECT_EQ(w.state(test_iccid(1)), S::Downloaded);
  auto ok = r.server->handle_notification(e.install_result(true));
  ASSERT_TRUE(ok) << ok.error().message << " " << r.catalog->last_error();
  EXPECT_TRUE(ok->install_success);
  EXPECT_EQ(w.state(test_iccid(1)), S::Installed);
  // Replayed: nothing left to complete.
  auto again = r.server->handle_notification(e.install_result(true));
  ASSERT_FALSE(again);
  EXPECT_TRUE(is(again.error(), codes::kUnknownTransactionId));
  EXPECT_EQ(w.state(test_iccid(1)), S::Installed);
}

TEST(SqlCatalog, LostBppIsRetriedOnlyByTheSameEuicc) {
  CatalogWorld w;
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.order(1, std::nullopt, std::nullopt);
  const std::string iccid = test_iccid(1);
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_TRUE(auth);
  ASSERT_TRUE(w.server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt)));
  // The answer never reached the eUICC, and the server restarted.
  Restarted r(w);
  const std::string other_eid = "89049032123451234512345678901243";
  auto for_other = r.catalog->find(mid, other_eid);
  ASSERT_TRUE(for_other);
  EXPECT_FALSE(*for_other);
  auto stolen = r.catalog->record_bpp_issued(IssuedDownload{mid, other_eid, Bytes(16, 1), crypto::Curve::NistP256, {}});
  ASSERT_FALSE(stolen);
  EXPECT_TRUE(is(stolen.error(), codes::kProfileNotReleased));

  init = r.server->initiate_authentication(e.initiate(kAddress));
  auth = r.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_TRUE(auth) << auth.error().message << " " << r.catalog->last_error();
  auto bpp = r.server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt));
  ASSERT_TRUE(bpp) << bpp.error().message;
  auto loaded = e.load_bpp(bpp->boundProfilePackage);
  ASSERT_TRUE(loaded) << loaded.error();
  ASSERT_TRUE(r.server->handle_notification(e.install_result(true)));
  EXPECT_EQ(w.state(iccid), S::Installed);
  auto hist = w.inv->history(iccid);
  ASSERT_TRUE(hist);
  int downloaded = 0;
  for (const auto& t : *hist) downloaded += t.to == S::Downloaded;
  EXPECT_EQ(downloaded, 1);
}

TEST(SqlCatalog, AnEuiccHoldingTheOrdersIccidAlreadyMeansInstalled) {
  using sg = asn1::sgp22::ErrorReason_values;
  using cmd = asn1::sgp22::BppCommandId_values;
  const Bytes mine = *messages::iccid_from_digits(test_iccid(1));
  const Bytes other = *messages::iccid_from_digits(test_iccid(9));
  struct Case {
    const char* name;
    std::int64_t reason;
    std::optional<Bytes> iccid;
    S expected;
  };
  for (const Case& c : {Case{"the order's ICCID", sg::installFailedDueToIccidAlreadyExistsOnEuicc, mine, S::Installed},
                        Case{"another ICCID", sg::installFailedDueToIccidAlreadyExistsOnEuicc, other, S::Error},
                        Case{"no ICCID", sg::installFailedDueToIccidAlreadyExistsOnEuicc, std::nullopt, S::Error},
                        Case{"another reason", sg::installFailedDueToIccidMismatch, mine, S::Error}}) {
    SCOPED_TRACE(c.name);
    CatalogWorld w;
    TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
    const std::string mid = w.order(1, e.eid(), std::nullopt);
    auto init = w.server->initiate_authentication(e.initiate(kAddress));
    ASSERT_TRUE(init);
    auto auth = w.server->authenticate_client(*e.authenticate_server(*init, mid));
    ASSERT_TRUE(auth);
    ASSERT_TRUE(w.server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt)));
    auto n = w.server->handle_notification(e.install_error(cmd::storeMetadata, c.reason, c.iccid));
    ASSERT_TRUE(n) << n.error().message;
    EXPECT_FALSE(n->install_success);
    EXPECT_EQ(n->already_on_euicc, c.expected == S::Installed);
    EXPECT_EQ(w.state(test_iccid(1)), c.expected);
    auto out = w.outbox();
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[1]["notificationPointId"], 4);
    EXPECT_EQ(out[1]["notificationPointStatus"]["status"], c.expected == S::Installed ? "Executed-Success" : "Failed");
    // resultData: the eUICC's result as it came, errorResult included.
    EXPECT_TRUE(out[1].contains("resultData"));
  }
}

TEST(SqlCatalog, AnAlreadyExistsResultAfterARestartIsVerifiedWithTheIssuedEuiccsKey) {
  CatalogWorld w;
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.order(1, e.eid(), std::nullopt);
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_TRUE(auth);
  ASSERT_TRUE(w.server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt)));
  Restarted r(w);
  auto refusal = e.install_error(asn1::sgp22::BppCommandId_values::storeMetadata,
                                 asn1::sgp22::ErrorReason_values::installFailedDueToIccidAlreadyExistsOnEuicc,
                                 *messages::iccid_from_digits(test_iccid(1)));
  // Signed by another key: refused, nothing recorded.
  auto forged = refusal;
  auto pir = *forged.profileInstallationResult();
  pir.euiccSignPIR = Bytes(64, 0x01);
  forged.set_profileInstallationResult(pir);
  auto bad = r.server->handle_notification(forged);
  ASSERT_FALSE(bad);
  EXPECT_TRUE(is(bad.error(), codes::kEuiccSignatureInvalid));
  EXPECT_EQ(w.state(test_iccid(1)), S::Downloaded);
  auto ok = r.server->handle_notification(refusal);
  ASSERT_TRUE(ok) << ok.error().message << " " << r.catalog->last_error();
  EXPECT_TRUE(ok->already_on_euicc);
  EXPECT_EQ(w.state(test_iccid(1)), S::Installed);
}

TEST(SqlCatalog, AnInstallationResultThatCannotBeStoredIsAServerErrorSoTheLpaKeepsIt) {
  // The storage failure is a trigger that aborts the write of the installed
  // state: the reads before it work and only the recording fails, as when
  // the disk is full or PostgreSQL fails over in the middle of the
  // transaction. (A read-only file would not do: the connection is open
  // already, and root writes anyway.)
  CatalogWorld w;
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.order(1, e.eid(), std::nullopt);
  const std::string iccid = test_iccid(1);
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  ASSERT_TRUE(init);
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_TRUE(auth);
  auto bpp = w.server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt));
  ASSERT_TRUE(bpp);
  ASSERT_TRUE(e.load_bpp(bpp->boundProfilePackage));
  ASSERT_TRUE(w.db->execute("CREATE TRIGGER test_storage_failure BEFORE UPDATE OF state ON profiles"
                            " WHEN NEW.state = 'installed' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"));
  asn1::sgp22::HandleNotification hn;
  hn.pendingNotification = e.install_result(true);
  const std::string body = messages::es9::encode_request(hn);
  const std::string path(messages::es9::path(messages::es9::Function::HandleNotification));

  // Not recorded: a server error, never the 204 after which the LPA deletes
  // the notification from the eUICC.
  auto failed = handle_es9(*w.server, path, body);
  EXPECT_EQ(failed.status, 500);
  EXPECT_TRUE(failed.error);
  EXPECT_EQ(w.state(iccid), S::Downloaded);

  // The storage works again: the LPA's next attempt completes the order.
  ASSERT_TRUE(w.db->execute("DROP TRIGGER test_storage_failure"));
  auto delivered = handle_es9(*w.server, path, body);
  EXPECT_EQ(delivered.status, 204);
  EXPECT_FALSE(delivered.error) << delivered.error->message;
  EXPECT_EQ(w.state(iccid), S::Installed);
  // A forged result is still answered 204 (nothing to keep it for).
  auto forged_pn = e.install_result(true);
  auto pir = *forged_pn.profileInstallationResult();
  pir.euiccSignPIR = Bytes(64, 0x01);
  forged_pn.set_profileInstallationResult(pir);
  hn.pendingNotification = forged_pn;
  EXPECT_EQ(handle_es9(*w.server, path, messages::es9::encode_request(hn)).status, 204);
}

// progress_payload writes the JSON text itself: byte for byte what a
// nlohmann::ordered_json document with the same members dumps, escapes and
// UTF-8 included; bytes that are not UTF-8 (which dump() refuses) still give
// The installation result of a session still open records against its
// order only while that order is active: a profile the operator took back
// (reinstated) and ordered again is not marked installed by the first
// session's late result, also when the catalog kept that order's facts
// from issuing its BPP; the new order's own result installs it.
TEST(SqlCatalog, ALateResultOfAnEndedOrderLeavesTheProfilesNewDownloadAlone) {
  CatalogWorld w;
  TestEuicc first(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.order(1, first.eid(), std::nullopt);
  const std::string iccid = test_iccid(1);
  auto init = w.server->initiate_authentication(first.initiate(kAddress));
  ASSERT_TRUE(init);
  auto auth = w.server->authenticate_client(*first.authenticate_server(*init, mid));
  ASSERT_TRUE(auth) << auth.error().message;
  auto bpp = w.server->get_bound_profile_package(*first.prepare_download(*auth, std::nullopt));
  ASSERT_TRUE(bpp) << bpp.error().message;
  ASSERT_TRUE(first.load_bpp(bpp->boundProfilePackage));
  const auto late = first.install_result(true);

  ASSERT_TRUE(w.inv->reinstate_profile(iccid, "the card was destroyed"));
  ASSERT_TRUE(w.es2->download_order("op1", {first.eid(), iccid, std::nullopt}));
  ConfirmOrderRequest cr;
  cr.iccid = iccid;
  cr.release_flag = true;
  auto confirmed = w.es2->confirm_order("op1", cr);
  ASSERT_TRUE(confirmed);
  TestEuicc second(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  auto init2 = w.server->initiate_authentication(second.initiate(kAddress));
  ASSERT_TRUE(init2);
  auto auth2 = w.server->authenticate_client(*second.authenticate_server(*init2, confirmed->matching_id));
  ASSERT_TRUE(auth2) << auth2.error().message;
  auto bpp2 = w.server->get_bound_profile_package(*second.prepare_download(*auth2, std::nullopt));
  ASSERT_TRUE(bpp2) << bpp2.error().message;
  ASSERT_TRUE(second.load_bpp(bpp2->boundProfilePackage));
  ASSERT_EQ(w.state(iccid), S::Downloaded);

  EXPECT_FALSE(w.server->handle_notification(late));
  EXPECT_EQ(w.state(iccid), S::Downloaded);
  auto order = w.inv->active_order(iccid);
  ASSERT_TRUE(order && *order);
  EXPECT_EQ((*order)->matching_id, confirmed->matching_id);

  auto n = w.server->handle_notification(second.install_result(true));
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(w.state(iccid), S::Installed);
  const auto history = w.inv->history(iccid);
  ASSERT_TRUE(history);
  EXPECT_EQ(std::count_if(history->begin(), history->end(), [](const TransitionRecord& t) { return t.to == S::Installed; }),
            1);
}

// valid JSON.
TEST(ProgressPayload, IsWhatAJsonDocumentDumps) {
  const std::string odd = std::string("q\"b\\s/\b\f\n\r\t") + '\x01' + '\x1f' + '\x7f' + "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  const Bytes pir = {0xBF, 0x37, 0x00, 0xFF};
  for (int variant = 0; variant < 4; ++variant) {
    const bool with_eid = variant & 1, failed = variant & 2;
    const std::optional<std::string> eid = with_eid ? std::optional<std::string>("89049032" + odd) : std::nullopt;
    const std::optional<SmdppError> failure =
        failed ? std::optional<SmdppError>(SmdppError{"8.2", "4.2", "failed: " + odd}) : std::nullopt;
    const std::string text = progress_payload(eid, "8949" + odd, "gold " + odd, 1764892800 + variant, 3 + variant,
                                              failure, failed ? &pir : nullptr);
    nlohmann::ordered_json j;
    if (eid) j["eid"] = *eid;
    j["iccid"] = "8949" + odd;
    j["profileType"] = "gold " + odd;
    j["timestamp"] = utc_timestamp(1764892800 + variant);
    j["notificationPointId"] = 3 + variant;
    nlohmann::ordered_json status;
    status["status"] = failed ? "Failed" : "Executed-Success";
    if (failure)
      status["statusCodeData"] = {{"subjectCode", "8.2"}, {"reasonCode", "4.2"}, {"message", failure->message}};
    j["notificationPointStatus"] = std::move(status);
    if (failed) j["resultData"] = base64_encode(pir);
    EXPECT_EQ(text, j.dump()) << variant;
  }
  EXPECT_EQ(utc_timestamp(1764892800), "2025-12-05T00:00:00Z");
  // Not UTF-8: an overlong form, a surrogate, a lone continuation byte, a cut sequence.
  const std::string bad = std::string("a\xC0\xAF") + "\xED\xA0\x80" + "\x80" + "\xE2\x82";
  const std::string text = progress_payload(std::nullopt, bad, "t", 0, 3, std::nullopt);
  const auto parsed = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << text;
  EXPECT_EQ(parsed["iccid"], "a\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD");
}

}  // namespace
}  // namespace rsp::smdpp::testing
