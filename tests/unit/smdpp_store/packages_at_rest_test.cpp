// Profile packages at rest, on both engines (PostgreSQL skipped with a
// message when no private server can start): what the rows hold, what the
// wrong key or a changed row gives, key rotation, and packages stored in
// clear by older versions.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "rsp/crypto/random.hpp"
#include "rsp/smdpp/es2_codes.hpp"
#include "rsp/store/migrate.hpp"
#include "rsp/store/open.hpp"
#include "test_support/pg_server.hpp"
#include "world.hpp"

namespace rsp::smdpp::testing {
namespace {

bool contains(ByteView haystack, ByteView needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

/// The K and OPc make_test_upp writes (its fixed random source, in that order).
struct SubscriberKeys {
  Bytes k, opc;
};
SubscriberKeys test_upp_keys() {
  crypto::DeterministicRandom rng(Bytes{0x5A});
  SubscriberKeys s;
  s.k = rng.bytes(16);
  s.opc = rng.bytes(16);
  return s;
}

/// The engine's name is the parameter; every test gets a database of its own.
class PackagesAtRest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const std::string name = "at_rest" + std::to_string(++counter);
    auto made = test_support::engine_database(GetParam(), dir_.path(), name);
    if (!made.skip.empty()) GTEST_SKIP() << made.skip;
    ASSERT_TRUE(made.error.empty()) << made.error;
    location_ = made.location;
    auto opened = store::open_database(location_);
    ASSERT_TRUE(opened) << opened.error().message;
    db_ = std::shared_ptr<store::Database>(std::move(*opened));
  }

  std::shared_ptr<Inventory> inventory(std::shared_ptr<const KeyEncryptionKey> kek) {
    auto inv = Inventory::open(db_, clock_, {std::move(kek), &rng_});
    EXPECT_TRUE(inv) << inv.error().message;
    return inv ? *inv : nullptr;
  }
  std::string import(Inventory& inv, int n) {
    auto r = inv.import_profile(ImportProfile{"op1", "gold", test_upp(n), {}, "{}"});
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : std::string();
  }
  Bytes stored(const std::string& iccid) {
    auto row = db_->query_one("SELECT upp FROM profile_packages WHERE iccid = $1", {store::value(iccid)});
    EXPECT_TRUE(row && *row);
    return row && *row ? (*row)->blob(0) : Bytes{};
  }
  void store_raw(const std::string& iccid, const Bytes& upp) {
    ASSERT_TRUE(db_->execute("UPDATE profile_packages SET upp = $2 WHERE iccid = $1",
                             {store::value(iccid), store::value(upp)}));
  }
  /// The message of a read that must fail, checked to carry no key.
  std::string read_error(Inventory& inv, const std::string& iccid) {
    auto r = inv.profile_package(iccid);
    EXPECT_FALSE(r);
    if (r) return {};
    EXPECT_TRUE(is(r.error(), es2codes::kExecutionError)) << r.error().subject_code << "/" << r.error().reason_code;
    for (std::uint8_t fill : {0xA1, 0xB2}) EXPECT_EQ(r.error().message.find(to_hex(Bytes(32, fill))), std::string::npos);
    return r.error().message;
  }

  test_support::TempDir dir_;
  ManualClock clock_{TimePoint{std::chrono::seconds(1'800'000'000)}};
  crypto::DeterministicRandom rng_{Bytes{0x52, 0x45}};
  std::string location_;
  std::shared_ptr<store::Database> db_;
  std::shared_ptr<const KeyEncryptionKey> kek_a = test_kek(0xA1), kek_b = test_kek(0xB2);
};

// Whoever reads the database (a file, a dump, a backup) finds neither the
// package nor the subscriber's K and OPc in it.
TEST_P(PackagesAtRest, TheStoredRowHoldsNoSubscriberKeyInClear) {
  auto inv = inventory(kek_a);
  const std::string iccid = import(*inv, 1);
  const Bytes upp = test_upp(1);
  const auto keys = test_upp_keys();
  ASSERT_TRUE(contains(upp, keys.k) && contains(upp, keys.opc));  // the search finds them in clear
  const Bytes row = stored(iccid);
  ASSERT_FALSE(row.empty());
  EXPECT_FALSE(contains(row, upp));
  EXPECT_FALSE(contains(row, keys.k));
  EXPECT_FALSE(contains(row, keys.opc));
  EXPECT_EQ(*inv->profile_package(iccid), upp);  // and it reads back whole
  const auto count = inv->package_keys();
  ASSERT_TRUE(count);
  EXPECT_EQ(count->under_kek, 1u);
  EXPECT_EQ(count->in_clear, 0u);
}

TEST_P(PackagesAtRest, AnotherKeyEncryptionKeyOpensNothing) {
  const std::string iccid = import(*inventory(kek_a), 1);
  auto with_b = inventory(kek_b);
  const std::string other = read_error(*with_b, iccid);
  EXPECT_NE(other.find(kek_a->id_hex()), std::string::npos) << other;
  EXPECT_NE(other.find(kek_b->id_hex()), std::string::npos) << other;
  const auto count = with_b->package_keys();
  ASSERT_TRUE(count);
  EXPECT_EQ(count->under_kek, 0u);
  EXPECT_EQ(count->under_other.at(kek_a->id_hex()), 1u);

  auto without = inventory(nullptr);
  EXPECT_NE(read_error(*without, iccid).find("no key-encryption key"), std::string::npos);
  auto refused = without->import_profile(ImportProfile{"op1", "gold", test_upp(2), {}, "{}"});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("no key-encryption key"), std::string::npos);
  EXPECT_EQ(without->list_profiles()->size(), 1u);  // everything but the packages still works
}

TEST_P(PackagesAtRest, AChangedOrMovedRowIsAnErrorNotACrash) {
  auto inv = inventory(kek_a);
  const std::string one = import(*inv, 1), two = import(*inv, 2);
  const Bytes first = stored(one);
  Bytes changed = first;
  changed[changed.size() / 2] ^= 0x01;
  store_raw(one, changed);
  EXPECT_NE(read_error(*inv, one).find("does not open"), std::string::npos);
  store_raw(two, first);  // profile one's package in profile two's row
  EXPECT_NE(read_error(*inv, two).find("does not open"), std::string::npos);
  store_raw(one, Bytes(40, 0x55));
  EXPECT_FALSE(inv->profile_package(one));
}

// The catalog reads a package with the order that names it
// (Inventory::StoredPackage) and opens it as profile_package() would: the
// same package, bound to its own ICCID, an error without one.
TEST_P(PackagesAtRest, APackageReadWithItsOrderOpensAsProfilePackage) {
  auto inv = inventory(kek_a);
  const std::string one = import(*inv, 1), two = import(*inv, 2);
  auto opened = inv->open_stored_package(one, Inventory::StoredPackage{stored(one), std::nullopt});
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(*opened, test_upp(1));
  auto moved = inv->open_stored_package(two, Inventory::StoredPackage{stored(one), std::nullopt});
  ASSERT_FALSE(moved);
  EXPECT_TRUE(is(moved.error(), es2codes::kExecutionError));
  EXPECT_NE(moved.error().message.find("does not open"), std::string::npos) << moved.error().message;
  auto none = inv->open_stored_package(one, Inventory::StoredPackage{});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("profile without a package"), std::string::npos) << none.error().message;
}

TEST_P(PackagesAtRest, RotationRewrapsEveryPackageKeyAndTheOldKeyOpensNothing) {
  auto with_a = inventory(kek_a);
  std::vector<std::string> iccids;
  for (int n = 1; n <= 3; ++n) iccids.push_back(import(*with_a, n));
  std::vector<Bytes> before;
  for (const auto& i : iccids) before.push_back(stored(i));

  auto done = with_a->rewrap_packages(*kek_b);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->rewrapped, 3u);
  EXPECT_EQ(done->encrypted, 0u);
  EXPECT_EQ(done->unchanged, 0u);

  auto with_b = inventory(kek_b);
  for (std::size_t i = 0; i < iccids.size(); ++i) {
    EXPECT_EQ(*with_b->profile_package(iccids[i]), test_upp(static_cast<int>(i) + 1));
    EXPECT_NE(read_error(*with_a, iccids[i]).find(kek_b->id_hex()), std::string::npos);
    // The package's own nonce and ciphertext were not touched, only the wrapped data key.
    const Bytes after = stored(iccids[i]);
    EXPECT_EQ(Bytes(after.begin() + 73, after.end()), Bytes(before[i].begin() + 73, before[i].end()));
  }
  EXPECT_EQ(with_b->package_keys()->under_kek, 3u);
  // Run again: nothing left to change.
  auto again = with_b->rewrap_packages(*kek_b);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->rewrapped, 0u);
  EXPECT_EQ(again->unchanged, 3u);
}

TEST_P(PackagesAtRest, RotationChangesNothingWhenOnePackageDoesNotOpen) {
  auto with_a = inventory(kek_a);
  const std::string one = import(*with_a, 1), two = import(*with_a, 2), three = import(*with_a, 3);
  Bytes changed = stored(two);
  changed.back() ^= 0x01;
  store_raw(two, changed);
  auto failed = with_a->rewrap_packages(*kek_b);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find(two), std::string::npos) << failed.error().message;
  EXPECT_EQ(*with_a->profile_package(one), test_upp(1));  // rolled back: still under the old key
  EXPECT_EQ(*with_a->profile_package(three), test_upp(3));
  EXPECT_EQ(with_a->package_keys()->under_kek, 3u);
}

// A database of a version before encryption at rest: its packages are still
// read, and a rotation encrypts them.
TEST_P(PackagesAtRest, PackagesInClearFromOlderVersionsAreReadAndRotationEncryptsThem) {
  ASSERT_TRUE(store::migrate(*db_, kSchemaComponent, inventory_migrations().first(5)));
  ASSERT_TRUE(db_->execute("INSERT INTO operators (name, created_at) VALUES ('op1', 1)"));
  for (int n : {1, 2}) {
    ASSERT_TRUE(db_->execute("INSERT INTO profiles (iccid, operator_id, profile_type, state, upp, created_at, updated_at)"
                             " VALUES ($1, 1, 'gold', 'available', $2, 1, 1)",
                             {store::value(test_iccid(n)), store::value(Bytes{})}));
    ASSERT_TRUE(db_->execute("INSERT INTO profile_packages (iccid, upp) VALUES ($1, $2)",
                             {store::value(test_iccid(n)), store::value(test_upp(n))}));
  }
  auto inv = inventory(kek_a);
  EXPECT_EQ(*store::schema_version(*db_, kSchemaComponent), inventory_migrations().back().version);
  EXPECT_EQ(*inv->profile_package(test_iccid(1)), test_upp(1));
  EXPECT_EQ(inv->package_keys()->in_clear, 2u);
  const std::string three = import(*inv, 3);  // new imports are encrypted meanwhile

  auto done = inv->rewrap_packages(*kek_a);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->encrypted, 2u);
  EXPECT_EQ(done->rewrapped, 0u);
  EXPECT_EQ(done->unchanged, 1u);
  const auto keys = test_upp_keys();
  for (int n : {1, 2}) {
    const Bytes row = stored(test_iccid(n));
    EXPECT_FALSE(contains(row, test_upp(n)));
    EXPECT_FALSE(contains(row, keys.k));
    EXPECT_EQ(*inv->profile_package(test_iccid(n)), test_upp(n));
  }
  const auto count = inv->package_keys();
  EXPECT_EQ(count->in_clear, 0u);
  EXPECT_EQ(count->under_kek, 3u);
}

INSTANTIATE_TEST_SUITE_P(Engines, PackagesAtRest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& test_info) { return test_info.param; });

}  // namespace
}  // namespace rsp::smdpp::testing
