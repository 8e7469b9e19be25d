// Profile packages at rest: what the inventory's profile_packages rows hold.
#include <gtest/gtest.h>

#include <algorithm>

#include "rsp/crypto/random.hpp"
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

Bytes stored_row(store::Database& db, const std::string& iccid) {
  auto row = db.query_one("SELECT upp FROM profile_packages WHERE iccid = $1", {store::value(iccid)});
  EXPECT_TRUE(row && *row);
  return row && *row ? (*row)->blob(0) : Bytes{};
}

// Whoever reads the database file (or a backup of it) finds neither the
// package nor the subscriber's K and OPc in it.
TEST(PackagesAtRest, TheStoredRowHoldsNoSubscriberKeyInClear) {
  StoreWorld w;
  const std::string iccid = w.add(1);
  const Bytes upp = test_upp(1);
  const auto keys = test_upp_keys();
  ASSERT_TRUE(contains(upp, keys.k) && contains(upp, keys.opc));  // the search finds them in clear
  const Bytes stored = stored_row(*w.db, iccid);
  ASSERT_FALSE(stored.empty());
  EXPECT_FALSE(contains(stored, upp));
  EXPECT_FALSE(contains(stored, keys.k));
  EXPECT_FALSE(contains(stored, keys.opc));
  EXPECT_EQ(*w.inv->profile_package(iccid), upp);  // and it still reads back whole
}

}  // namespace
}  // namespace rsp::smdpp::testing
