// A download retried after the install notification was lost: the LPA was
// killed between the installation on the card and ES9+ HandleNotification, so
// the card holds the profile and its pending notification while the SM-DP+
// (SQLite inventory, SQL catalog) still has the profile `downloaded`. The
// same activation code is then used again. The profile must end `installed`
// on the SM-DP+, stay on that one card, and never become available for
// another eUICC through ES2+ CancelOrder.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fixture.hpp"
#include "rsp/crypto/ec_key.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/service/package_envelope.hpp"
#include "rsp/smdpp/es2_codes.hpp"
#include "rsp/smdpp/es2_service.hpp"
#include "rsp/smdpp/sql_catalog.hpp"
#include "rsp/store/sqlite.hpp"
#include "sim_euicc.hpp"
#include "test_support/download_faults.hpp"
#include "test_support/in_process_es9.hpp"

namespace rsp::lpa {
namespace {

namespace sg = asn1::sgp22;
namespace st = smdpp::testing;
using test_support::DroppingChannel;
using test_support::KeyWatchingEs9;
namespace es2c = smdpp::es2codes;
using smdpp::ProfileState;

const std::string kIccidDigits = "8949000000000000017";

/// The SM-DP+ as deployed, in process: inventory, ES2+ service, SQL catalog
/// under the ES9+ core, reached by the LPA through the in-process transport.
struct SqlSmdpp {
  test_support::TempDir dir;
  smdpp::ManualClock clock{std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now())};
  crypto::DeterministicRandom rng{Bytes{3, 9}};
  std::shared_ptr<smdpp::Inventory> inv;
  std::unique_ptr<smdpp::Es2Service> es2;
  std::shared_ptr<smdpp::SqlProfileCatalog> catalog;
  std::unique_ptr<smdpp::Server> server;
  std::unique_ptr<test_support::InProcessEs9Transport> transport;

  SqlSmdpp() {
    auto db = store::open_sqlite(dir.path() / "smdpp.db");
    if (!db) std::abort();
    auto kek = smdpp::KeyEncryptionKey::make(Bytes(32, 0x4B));
    if (!kek) std::abort();
    auto i = smdpp::Inventory::open(std::shared_ptr<store::Database>(std::move(*db)), clock,
                                    {std::make_shared<const smdpp::KeyEncryptionKey>(std::move(*kek)), &rng});
    if (!i) std::abort();
    inv = *i;
    es2 = std::make_unique<smdpp::Es2Service>(inv, smdpp::Es2Config{st::kAddress, 3}, rng);
    catalog = std::make_shared<smdpp::SqlProfileCatalog>(inv, rng);
    auto ids = smdpp::IdentitySet::load_directory(st::test_pki_dir());
    if (!ids) std::abort();
    smdpp::ServerConfig cfg;
    cfg.address = st::kAddress;
    server = std::make_unique<smdpp::Server>(cfg, std::make_shared<smdpp::IdentitySet>(std::move(*ids)), catalog,
                                             clock, rng);
    transport = std::make_unique<test_support::InProcessEs9Transport>(*server, st::kAddress);
  }

  /// Imports the profile, orders it for `eid` and releases it; the activation code.
  std::string order(const std::string& eid) {
    smdpp::ImportProfile p;
    p.operator_name = "op1";
    p.profile_type = "gold";
    p.upp = st::make_test_upp(*messages::iccid_from_digits(kIccidDigits), 2000);
    auto imported = inv->import_profile(p);
    EXPECT_TRUE(imported) << imported.error().message;
    EXPECT_TRUE(es2->download_order("op1", {eid, kIccidDigits, std::nullopt}));
    smdpp::ConfirmOrderRequest cr;
    cr.iccid = kIccidDigits;
    cr.release_flag = true;
    auto c = es2->confirm_order("op1", cr);
    EXPECT_TRUE(c);
    return c ? "LPA:1$" + st::kAddress + "$" + c->matching_id : std::string();
  }

  ProfileState state() {
    auto p = inv->profile(kIccidDigits);
    return p && *p ? (**p).state : ProfileState::Available;
  }

  std::vector<nlohmann::json> callbacks() {
    std::vector<nlohmann::json> out;
    auto due = inv->due_outbox();
    EXPECT_TRUE(due);
    if (due)
      for (const auto& e : *due) out.push_back(nlohmann::json::parse(e.payload));
    return out;
  }
};

TEST(DownloadRetry, AProfileTheCardAlreadyHoldsEndsInstalledAndIsNeverReleasedAgain) {
  SqlSmdpp smdp;
  SimEuicc card(st::test_pki_dir());
  const std::string ac = smdp.order(card.eid());

  // 1. Installed on the card; the LPA dies before HandleNotification.
  DownloadOptions killed;
  killed.skip_notification = true;
  auto first = download_profile(ac, std::nullopt, card.channel, *smdp.transport, killed);
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(card.profiles().size(), 1u);
  EXPECT_EQ(card.notifications().size(), 1u);
  EXPECT_EQ(smdp.state(), ProfileState::Downloaded);

  // 2. The same activation code again, by an LPA that does not send the
  // pending notification first: the SM-DP+ issues a new BPP to the same
  // eUICC, which refuses it because it holds the ICCID already, and the LPA
  // reports that signed refusal.
  DownloadOptions old_lpa;
  old_lpa.send_pending_notifications = false;
  auto retry = download_profile(ac, std::nullopt, card.channel, *smdp.transport, old_lpa);
  ASSERT_FALSE(retry);
  EXPECT_EQ(retry.error().step, Step::LoadBoundProfilePackage) << retry.error().to_string();
  EXPECT_EQ(retry.error().euicc_code, sg::ErrorReason_values::installFailedDueToIccidAlreadyExistsOnEuicc)
      << retry.error().to_string();

  // 3. That refusal, signed by the eUICC the BPP went to, for this very ICCID,
  // says the profile is on that card: installed, not error.
  EXPECT_EQ(smdp.state(), ProfileState::Installed) << smdp.catalog->last_error();
  auto history = smdp.inv->history(kIccidDigits);
  ASSERT_TRUE(history);
  ASSERT_FALSE(history->empty());
  EXPECT_EQ(history->back().to, ProfileState::Installed);
  EXPECT_NE(history->back().cause.find("already"), std::string::npos) << history->back().cause;
  for (const auto& t : *history) EXPECT_NE(t.to, ProfileState::Error) << t.cause;
  // The operator hears of the installation (HandleDownloadProgressInfo point 4).
  const auto calls = smdp.callbacks();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back()["notificationPointId"], 4);
  EXPECT_EQ(calls.back()["notificationPointStatus"]["status"], "Executed-Success");

  // 4. CancelOrder(Available) cannot put it back into the pool, so the
  // ICCID is never ordered for another eUICC.
  auto cancel = smdp.es2->cancel_order(
      "op1", {kIccidDigits, std::nullopt, std::nullopt, smdpp::FinalProfileStatus::Available});
  ASSERT_FALSE(cancel);
  EXPECT_TRUE(smdpp::is(cancel.error(), es2c::kIccidInvalidTransition)) << cancel.error().message;
  EXPECT_EQ(smdp.state(), ProfileState::Installed);
  auto other = smdp.es2->download_order("op1", {std::string("89049032123451234512345678901243"), kIccidDigits,
                                                std::nullopt});
  ASSERT_FALSE(other);
  EXPECT_TRUE(smdpp::is(other.error(), es2c::kIccidInUse)) << other.error().message;

  // Still exactly one copy, on the first card.
  EXPECT_EQ(card.profiles().size(), 1u);
}

TEST(DownloadRetry, TheLpaSendsThePendingInstallResultBeforeItRetries) {
  SqlSmdpp smdp;
  SimEuicc card(st::test_pki_dir());
  const std::string ac = smdp.order(card.eid());
  DownloadOptions killed;
  killed.skip_notification = true;
  auto first = download_profile(ac, std::nullopt, card.channel, *smdp.transport, killed);
  ASSERT_TRUE(first) << first.error().to_string();
  ASSERT_EQ(card.notifications().size(), 1u);
  ASSERT_EQ(smdp.state(), ProfileState::Downloaded);

  // The retry delivers the success result the card kept: the order is
  // complete before the activation code is used again, so no second BPP.
  auto retry = download_profile(ac, std::nullopt, card.channel, *smdp.transport);
  const auto& sent = retry ? retry->pending_notifications : retry.error().pending_notifications;
  ASSERT_EQ(sent.notifications.size(), 1u) << sent.error;
  EXPECT_TRUE(sent.notifications[0].install_result);
  EXPECT_TRUE(sent.notifications[0].delivered) << sent.notifications[0].error;
  EXPECT_TRUE(sent.notifications[0].removed) << sent.notifications[0].error;
  EXPECT_EQ(smdp.state(), ProfileState::Installed) << smdp.catalog->last_error();
  // Nothing left to download: the SM-DP+ refuses the matchingId of a done order.
  ASSERT_FALSE(retry);
  EXPECT_EQ(retry.error().step, Step::AuthenticateClient) << retry.error().to_string();
  EXPECT_EQ(retry.error().subject_code + "/" + retry.error().reason_code, "8.2.6/3.8") << retry.error().to_string();
  auto history = smdp.inv->history(kIccidDigits);
  ASSERT_TRUE(history);
  int downloaded = 0;
  for (const auto& t : *history) downloaded += t.to == ProfileState::Downloaded;
  EXPECT_EQ(downloaded, 1);
  EXPECT_EQ(history->back().cause, "installation result: success");
  EXPECT_EQ(card.profiles().size(), 1u);
  EXPECT_TRUE(card.notifications().empty());
}

/// What the SM-DP+ keeps of the order's one-time keys.
struct KeptKeys {
  std::optional<Bytes> euicc_otpk, sealed_otsk;
};
KeptKeys kept_keys(smdpp::Inventory& inv) {
  auto row = inv.db().query_one("SELECT bpp_euicc_otpk, bpp_smdp_otsk FROM orders WHERE iccid = $1 AND active = 1",
                                {store::value(kIccidDigits)});
  EXPECT_TRUE(row && *row);
  if (!row || !*row) return {};
  return {(*row)->opt_blob(0), (*row)->opt_blob(1)};
}

/// A download whose load into the card is cut once, after the card agreed the
/// session keys (the third command), watched at the ES9+ transport.
struct InterruptedLoad {
  SqlSmdpp smdp;
  SimEuicc card{st::test_pki_dir()};
  std::string ac = smdp.order(card.eid());
  DroppingChannel link{card.channel, 3, false};
  KeyWatchingEs9 es9{*smdp.transport};
};

// SGP.22 v2.2.2 §5.6.2 / §5.7.5: the load into the card is interrupted after
// the card agreed the session keys; the LPA starts again in a new session,
// the SM-DP+ names the otPK.EUICC.ECKA it bound the first package with, the
// card uses that key pair again, and so does the SM-DP+ (same smdpOtpk, so
// the same session keys). The profile installs once; the kept keys go.
TEST(DownloadRetry, AnInterruptedLoadIsBoundAgainWithTheSameOneTimeKeys) {
  InterruptedLoad load;
  KeptKeys while_downloaded;
  load.es9.after_bpp = [&] {
    if (!while_downloaded.sealed_otsk) while_downloaded = kept_keys(*load.smdp.inv);
  };

  auto r = download_profile(load.ac, std::nullopt, load.link, load.es9);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(load.link.dropped());
  EXPECT_EQ(r->load_retries, 1);
  ASSERT_EQ(load.es9.smdp_otpk.size(), 2u);
  ASSERT_EQ(load.es9.bpp_euicc_otpk.size(), 2u);
  EXPECT_FALSE(load.es9.bpp_euicc_otpk[0].has_value());
  EXPECT_EQ(load.es9.bpp_euicc_otpk[1], std::optional<Bytes>(load.es9.euicc_otpk[0]));
  EXPECT_EQ(load.es9.euicc_otpk[1], load.es9.euicc_otpk[0]);
  EXPECT_EQ(load.es9.smdp_otpk[1], load.es9.smdp_otpk[0]);

  // While downloaded, the SM-DP+'s one-time private key was kept sealed
  // under the key-encryption key, never in clear.
  ASSERT_TRUE(while_downloaded.sealed_otsk);
  EXPECT_TRUE(service::is_sealed_package(*while_downloaded.sealed_otsk));
  const std::string sealed_text(while_downloaded.sealed_otsk->begin(), while_downloaded.sealed_otsk->end());
  EXPECT_EQ(sealed_text.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(while_downloaded.euicc_otpk, std::optional<Bytes>(load.es9.euicc_otpk[0]));

  // Installed once; neither end keeps the one-time keys any longer.
  EXPECT_EQ(load.smdp.state(), ProfileState::Installed) << load.smdp.catalog->last_error();
  EXPECT_EQ(load.card.profiles().size(), 1u);
  const auto after = kept_keys(*load.smdp.inv);
  EXPECT_FALSE(after.euicc_otpk);
  EXPECT_FALSE(after.sealed_otsk);
  auto card_state = load.card.store->load();
  ASSERT_TRUE(card_state);
  EXPECT_FALSE(card_state->ot_key.has_value());
  auto history = load.smdp.inv->history(kIccidDigits);
  ASSERT_TRUE(history);
  int downloaded = 0;
  for (const auto& t : *history) downloaded += t.to == ProfileState::Downloaded;
  EXPECT_EQ(downloaded, 1);
}

/// Seals the order's kept one-time private key again as the SM-DP+ sealed it
/// before it kept the raw scalar: its PKCS#8 PEM, under the same label (the
/// order and the ICCID, as sql_catalog.cpp names it).
void reseal_kept_key_as_pem(smdpp::Inventory& inv) {
  auto row = inv.db().query_one("SELECT id, bpp_smdp_otsk FROM orders WHERE iccid = $1 AND active = 1",
                                {store::value(kIccidDigits)});
  ASSERT_TRUE(row && *row);
  ASSERT_FALSE((*row)->is_null(1));
  const std::int64_t order_id = (*row)->int64(0);
  const std::string label = "smdpp-otsk/" + std::to_string(order_id) + "/" + kIccidDigits;
  auto plain = inv.open_secret(label, (*row)->blob(1));
  ASSERT_TRUE(plain) << plain.error().message;
  // Today's form: a curve tag (0x01 NIST P-256, 0x02 brainpoolP256r1) and the scalar.
  ASSERT_EQ(plain->size(), 33u);
  ASSERT_TRUE((*plain)[0] == 0x01 || (*plain)[0] == 0x02);
  const auto curve = (*plain)[0] == 0x02 ? crypto::Curve::BrainpoolP256r1 : crypto::Curve::NistP256;
  auto key = crypto::EcKey::from_private_scalar(curve, ByteView(*plain).subspan(1));
  wipe(*plain);
  ASSERT_TRUE(key);
  auto pem = key->private_pem();
  ASSERT_TRUE(pem);
  ASSERT_NE(pem->find("BEGIN PRIVATE KEY"), std::string::npos);
  auto sealed = inv.seal_secret(label, as_bytes(*pem));
  ASSERT_TRUE(sealed) << sealed.error().message;
  ASSERT_TRUE(inv.db().execute("UPDATE orders SET bpp_smdp_otsk = $2 WHERE id = $1",
                               {store::value(order_id), store::value(*sealed)}));
}

// Orders sealed by an earlier version keep the one-time private key as PKCS#8
// PEM, which the SM-DP+ still reads (sql_catalog.cpp, kept_key_from_plain):
// the row the first BPP left is sealed again that way, and the retry after
// the interrupted load binds with that same key pair (same smdpOtpk, so the
// same session keys: the card, which uses its kept key pair again, installs
// the package). Were the PEM not read, the SM-DP+ would make a fresh key pair.
TEST(DownloadRetry, AKeyKeptAsPemByAnEarlierVersionIsUsedAgainOnRetry) {
  InterruptedLoad load;
  int resealed = 0;
  load.es9.after_bpp = [&] {
    if (resealed++ == 0) reseal_kept_key_as_pem(*load.smdp.inv);
  };

  auto r = download_profile(load.ac, std::nullopt, load.link, load.es9);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(resealed, 2);
  EXPECT_EQ(r->load_retries, 1);
  ASSERT_EQ(load.es9.smdp_otpk.size(), 2u);
  ASSERT_EQ(load.es9.bpp_euicc_otpk.size(), 2u);
  EXPECT_EQ(load.es9.bpp_euicc_otpk[1], std::optional<Bytes>(load.es9.euicc_otpk[0]));
  EXPECT_EQ(load.es9.euicc_otpk[1], load.es9.euicc_otpk[0]);
  EXPECT_EQ(load.es9.smdp_otpk[1], load.es9.smdp_otpk[0]);
  EXPECT_EQ(load.smdp.state(), ProfileState::Installed) << load.smdp.catalog->last_error();
  EXPECT_EQ(load.card.profiles().size(), 1u);
  EXPECT_FALSE(kept_keys(*load.smdp.inv).sealed_otsk);
}

// A card that no longer holds the key pair bppEuiccOtpk names makes a fresh
// one; the SM-DP+ then binds with a fresh key pair of its own too.
TEST(DownloadRetry, ACardWithoutTheKeptKeyGetsFreshKeysOnBothSides) {
  SqlSmdpp smdp;
  SimEuicc card(st::test_pki_dir());
  const std::string ac = smdp.order(card.eid());
  DroppingChannel link(card.channel, 2, true);
  KeyWatchingEs9 es9(*smdp.transport);
  DownloadOptions no_retry;
  no_retry.load_retries = 0;
  auto first = download_profile(ac, std::nullopt, link, es9, no_retry);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().step, Step::LoadBoundProfilePackage) << first.error().to_string();
  EXPECT_FALSE(first.error().session_cancelled);  // the card could not be reached to cancel
  EXPECT_EQ(smdp.state(), ProfileState::Downloaded);

  auto card_state = card.store->load();
  ASSERT_TRUE(card_state);
  ASSERT_TRUE(card_state->ot_key.has_value());
  EXPECT_EQ(card_state->ot_key->public_point, es9.euicc_otpk.at(0));
  card_state->ot_key.reset();  // as a card that lost it
  ASSERT_TRUE(card.store->save(*card_state));

  link.reconnect();
  auto retry = download_profile(ac, std::nullopt, link, es9);
  ASSERT_TRUE(retry) << retry.error().to_string();
  ASSERT_EQ(es9.smdp_otpk.size(), 2u);
  EXPECT_EQ(es9.bpp_euicc_otpk.at(1), std::optional<Bytes>(es9.euicc_otpk[0]));
  EXPECT_NE(es9.euicc_otpk[1], es9.euicc_otpk[0]);
  EXPECT_NE(es9.smdp_otpk[1], es9.smdp_otpk[0]);
  EXPECT_EQ(smdp.state(), ProfileState::Installed) << smdp.catalog->last_error();
}

}  // namespace
}  // namespace rsp::lpa
