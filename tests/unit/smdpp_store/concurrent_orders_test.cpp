// The inventory used by several threads and several connections at once, on
// both engines (PostgreSQL skipped with a message when no private server can
// start). On PostgreSQL nothing serialises the transactions as a whole: what
// keeps two of them apart are the row locks and conditional updates, and
// these tests fail when one of those is missing.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "rsp/crypto/random.hpp"
#include "rsp/smdpp/es2_codes.hpp"
#include "rsp/smdpp/es2_service.hpp"
#include "rsp/smdpp/sql_catalog.hpp"
#include "rsp/store/open.hpp"
#include "test_support/pg_server.hpp"
#include "world.hpp"

namespace rsp::smdpp::testing {
namespace {

class ConcurrentOrders : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const std::string name = "concurrent" + std::to_string(++counter);
    auto made = test_support::engine_database(GetParam(), dir_.path(), name);
    if (!made.skip.empty()) GTEST_SKIP() << made.skip;
    ASSERT_TRUE(made.error.empty()) << made.error;
    location_ = made.location;
  }
  /// An instance's inventory: a database object (pool) of its own.
  std::shared_ptr<Inventory> instance() {
    auto opened = store::open_database(location_, store::OpenOptions{4});
    EXPECT_TRUE(opened) << opened.error().message;
    if (!opened) return nullptr;
    auto inv = Inventory::open(std::shared_ptr<store::Database>(std::move(*opened)), clock_, {test_kek(), &rng_});
    EXPECT_TRUE(inv) << inv.error().message;
    return inv ? *inv : nullptr;
  }

  test_support::TempDir dir_;
  std::string location_;
  ManualClock clock_{TimePoint{std::chrono::seconds(1'800'000'000)}};
  crypto::DeterministicRandom rng_{Bytes{0x43, 0x4F}};
};

/// DownloadOrder by profile type from two instances and four threads each:
/// every order gets a profile of its own, none is refused while profiles are
/// left, and the one too many is told the type is used up.
TEST_P(ConcurrentOrders, DownloadOrdersByTypeEachGetTheirOwnProfile) {
  constexpr int kProfiles = 24;
  auto a = instance();
  auto b = instance();
  ASSERT_TRUE(a && b);
  for (int i = 0; i < kProfiles; ++i)
    ASSERT_TRUE(a->import_profile(ImportProfile{"op1", "gold", test_upp(i), {}, "{}"}));
  Es2Service es2_a(a, Es2Config{"smdp.example", 3}, crypto::system_random());
  Es2Service es2_b(b, Es2Config{"smdp.example", 3}, crypto::system_random());
  std::mutex mu;
  std::multiset<std::string> taken;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      Es2Service& es2 = t % 2 ? es2_b : es2_a;
      for (int i = 0; i < kProfiles / 8; ++i) {
        auto r = es2.download_order("op1", {std::nullopt, std::nullopt, std::string("gold")});
        std::lock_guard lock(mu);
        if (r)
          taken.insert(*r);
        else
          failures.push_back(r.error().subject_code + "/" + r.error().reason_code + " " + r.error().message);
      }
    });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(failures.empty()) << failures.size() << " refused, first: " << failures.front();
  EXPECT_EQ(taken.size(), static_cast<std::size_t>(kProfiles));
  EXPECT_EQ(std::set<std::string>(taken.begin(), taken.end()).size(), static_cast<std::size_t>(kProfiles));
  auto extra = es2_a.download_order("op1", {std::nullopt, std::nullopt, std::string("gold")});
  ASSERT_FALSE(extra);
  EXPECT_TRUE(is(extra.error(), es2codes::kProfileTypeUnavailable)) << extra.error().message;
}

/// Wrong confirmation codes reported by two instances at once each count:
/// the attempts left go down by exactly the number of refusals (a lost
/// update would leave more).
TEST_P(ConcurrentOrders, ConfirmationCodeFailuresOfTwoInstancesAllCount) {
  constexpr int kThreads = 4, kEach = 5, kAttempts = 30;
  auto a = instance();
  auto b = instance();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->import_profile(ImportProfile{"op1", "gold", test_upp(1), {}, "{}"}));
  Es2Service es2(a, Es2Config{"smdp.example", kAttempts}, crypto::system_random());
  auto iccid = es2.download_order("op1", {std::nullopt, std::nullopt, std::string("gold")});
  ASSERT_TRUE(iccid) << iccid.error().message;
  ConfirmOrderRequest cr;
  cr.iccid = *iccid;
  cr.confirmation_code = "1234";
  cr.release_flag = true;
  ASSERT_TRUE(es2.confirm_order("op1", cr));
  auto order = a->active_order(*iccid);
  ASSERT_TRUE(order && *order);
  const std::string key = "#" + std::to_string((*order)->id);
  SqlProfileCatalog cat_a(a, crypto::system_random());
  SqlProfileCatalog cat_b(b, crypto::system_random());
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        if (!(t % 2 ? cat_b : cat_a).record_cc_failure(key)) ++errors;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  order = a->active_order(*iccid);
  ASSERT_TRUE(order && *order);
  EXPECT_EQ((*order)->cc_attempts_left, kAttempts - kThreads * kEach);
}

INSTANTIATE_TEST_SUITE_P(Engines, ConcurrentOrders, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& test_info) { return test_info.param; });

}  // namespace
}  // namespace rsp::smdpp::testing
