// Issue 16, speed: a whole download on SQLite costs one disk flush, taken by
// GetBoundProfilePackage before its answer (BPP issued, attempt counted, the
// one-time keys sealed, the outbox entry); the installation result commits
// without a flush of its own. A refused confirmation code is flushed before
// the refusal leaves, so crashing the server wins no extra guess.
#include <gtest/gtest.h>

#include "catalog_world.hpp"
#include "fixture.hpp"
#include "rsp/store/sqlite.hpp"

namespace rsp::smdpp::testing {
namespace {

using S = ProfileState;

store::SqliteCommitStats since(store::Database& db, const store::SqliteCommitStats& before) {
  const auto now = store::sqlite_commit_stats(db);
  return {now.commits - before.commits, now.flushes - before.flushes, now.deferred - before.deferred};
}

TEST(OneFlush, ADownloadFlushesOnceAtGetBoundProfilePackage) {
  CatalogWorld w;
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.order(1, e.eid(), std::nullopt);
  const std::string iccid = test_iccid(1);
  const auto start = store::sqlite_commit_stats(*w.db);
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  ASSERT_TRUE(init);
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_TRUE(auth) << auth.error().message << " " << w.catalog->last_error();
  auto before_bpp = since(*w.db, start);
  EXPECT_EQ(before_bpp.commits, 0u);  // the session lives in memory
  EXPECT_EQ(before_bpp.flushes, 0u);
  auto bpp = w.server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt));
  ASSERT_TRUE(bpp) << bpp.error().message;
  auto at_bpp = since(*w.db, start);
  EXPECT_EQ(at_bpp.flushes, 1u);
  EXPECT_EQ(at_bpp.deferred, 0u);
  ASSERT_TRUE(e.load_bpp(bpp->boundProfilePackage));
  ASSERT_TRUE(w.server->handle_notification(e.install_result(true)));
  auto whole = since(*w.db, start);
  EXPECT_EQ(whole.commits, 2u);
  EXPECT_EQ(whole.flushes, 1u);
  EXPECT_EQ(whole.deferred, 1u);
  EXPECT_EQ(w.state(iccid), S::Installed);
  EXPECT_EQ(w.outbox().size(), 2u);  // both progress callbacks are queued
  // Closed and opened again (the file as a restarted server finds it).
  w.reopen();
  EXPECT_EQ(w.state(iccid), S::Installed);
}

TEST(OneFlush, ARefusedConfirmationCodeIsFlushedBeforeTheAnswer) {
  CatalogWorld w;  // three attempts per order
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.order(1, std::nullopt, std::string("1234"));
  const std::string iccid = test_iccid(1);
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_TRUE(auth) << auth.error().message;
  const auto start = store::sqlite_commit_stats(*w.db);
  auto refused = w.server->get_bound_profile_package(*e.prepare_download(*auth, std::string("0000")));
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), codes::kConfirmationCodeRefused));
  const auto d = since(*w.db, start);
  EXPECT_EQ(d.flushes, 1u);
  EXPECT_EQ(d.deferred, 0u);
  EXPECT_EQ((*w.inv->active_order(iccid))->cc_attempts_left, 2);
}

TEST(OneFlush, AFailedInstallationResultAlsoTakesNoFlushOfItsOwn) {
  CatalogWorld w;
  TestEuicc e(test_euicc_credentials(crypto::Curve::NistP256), w.rng);
  const std::string mid = w.order(1, e.eid(), std::nullopt);
  const std::string iccid = test_iccid(1);
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, mid));
  ASSERT_TRUE(auth) << auth.error().message;
  auto bpp = w.server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt));
  ASSERT_TRUE(bpp) << bpp.error().message;
  const auto start = store::sqlite_commit_stats(*w.db);
  ASSERT_TRUE(w.server->handle_notification(e.install_result(false)));
  const auto d = since(*w.db, start);
  EXPECT_EQ(d.commits, 1u);
  EXPECT_EQ(d.flushes, 0u);
  EXPECT_EQ(w.state(iccid), S::Error);
}

}  // namespace
}  // namespace rsp::smdpp::testing
