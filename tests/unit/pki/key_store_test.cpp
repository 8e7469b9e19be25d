// FileKeyStore: PEM files with mode 0600, safe names.

#include "rsp/pki/key_store.hpp"

#include <gtest/gtest.h>

#include "pki_test_util.hpp"

namespace rsp::pki {
namespace {

TEST(PkiFileKeyStore, StoresAndLoadsWithOwnerOnlyMode) {
  testing::TempDir dir;
  FileKeyStore store(dir.path());
  auto key = crypto::EcKey::generate(crypto::Curve::BrainpoolP256r1);
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(store.contains("SK_TEST"));
  ASSERT_TRUE(store.store("SK_TEST", *key).has_value());
  EXPECT_TRUE(store.contains("SK_TEST"));
  const auto file = dir.path() / "SK_TEST.pem";
  ASSERT_TRUE(std::filesystem::exists(file));
  const auto perms = std::filesystem::status(file).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto loaded = store.load("SK_TEST");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_TRUE(loaded->has_private());
  EXPECT_EQ(loaded->curve(), crypto::Curve::BrainpoolP256r1);
  EXPECT_EQ(loaded->public_point(), key->public_point());
}

TEST(PkiFileKeyStore, RejectsNamesThatLeaveTheDirectory) {
  testing::TempDir dir;
  FileKeyStore store(dir.path());
  auto key = crypto::EcKey::generate(crypto::Curve::NistP256);
  ASSERT_TRUE(key.has_value());
  for (const char* bad : {"", "../x", "a/b", ".hidden", "x y"}) {
    auto r = store.store(bad, *key);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, PkiError::Code::InvalidArgument);
    EXPECT_FALSE(store.load(bad).has_value());
  }
}

TEST(PkiFileKeyStore, MissingKeyIsAnIoError) {
  testing::TempDir dir;
  FileKeyStore store(dir.path());
  auto r = store.load("SK_NONE");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, PkiError::Code::Io);
}

}  // namespace
}  // namespace rsp::pki
