// Key-encryption key files: written 0600 and never replaced, refused when
// others can read them or when they hold no key; the default beside a SQLite
// database, and none for a PostgreSQL one.
#include "rsp/service/kek_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "rsp/common/file.hpp"
#include "rsp/crypto/random.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::service {
namespace {

namespace fs = std::filesystem;

int mode_of(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

class KekFile : public ::testing::Test {
 protected:
  test_support::TempDir dir;
  crypto::DeterministicRandom rng{Bytes{0x4B, 0x46}};
  fs::path file = dir.path() / "smdpp.kek";
};

TEST_F(KekFile, CreatedOwnerOnlyAndReadBack) {
  auto made = create_kek_file(file, rng);
  ASSERT_TRUE(made) << made.error();
  EXPECT_EQ(mode_of(file), 0600);
  const auto text = read_file(file);
  ASSERT_TRUE(text);
  EXPECT_EQ(text->size(), 65u);  // 64 hex digits and a newline
  auto loaded = load_kek_file(file);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->id(), made->id());

  auto again = create_kek_file(file, rng);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().find("already exists"), std::string::npos) << again.error();
  EXPECT_EQ(*read_file(file), *text);  // untouched
}

TEST_F(KekFile, AFileOthersCanAccessIsRefused) {
  ASSERT_TRUE(create_kek_file(file, rng));
  const std::string key_text = to_string(*read_file(file));
  for (int mode : {0644, 0640, 0604, 0620}) {
    fs::permissions(file, fs::perms(mode));
    auto r = load_kek_file(file);
    ASSERT_FALSE(r) << mode;
    EXPECT_NE(r.error().find("chmod 600"), std::string::npos) << r.error();
    EXPECT_EQ(r.error().find(key_text.substr(0, 64)), std::string::npos);
  }
  fs::permissions(file, fs::perms(0400));
  EXPECT_TRUE(load_kek_file(file));
  EXPECT_FALSE(load_kek_file(dir.path() / "missing.kek"));
}

TEST_F(KekFile, RawOrHexKeysAndNothingElse) {
  const Bytes raw(32, 0x33);
  ASSERT_TRUE(write_file_atomic(file, raw, fs::perms(0600)));
  auto from_raw = load_kek_file(file);
  ASSERT_TRUE(from_raw) << from_raw.error();
  EXPECT_EQ(from_raw->id(), KeyEncryptionKey::make(raw)->id());
  ASSERT_TRUE(write_file_atomic(file, to_bytes(std::string(64, '3') + "\r\n"), fs::perms(0600)));
  EXPECT_EQ(load_kek_file(file)->id(), KeyEncryptionKey::make(Bytes(32, 0x33))->id());
  for (const std::string& bad : {std::string(62, 'a'), std::string(66, 'a'), std::string(63, 'a') + "g", std::string()}) {
    ASSERT_TRUE(write_file_atomic(file, to_bytes(bad), fs::perms(0600)));
    auto r = load_kek_file(file);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().find("does not hold a key"), std::string::npos) << r.error();
  }
}

TEST_F(KekFile, ASqliteDatabaseGetsOneBesideItAPostgresqlOneNeedsItNamed) {
  const std::string db = (dir.path() / "smdpp.db").string();
  auto first = kek_for_database("", db, rng);
  ASSERT_TRUE(first) << first.error();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->file, fs::path(db + ".kek"));
  EXPECT_EQ(mode_of(db + ".kek"), 0600);
  auto second = kek_for_database("", db, rng);
  ASSERT_TRUE(second) << second.error();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->kek->id(), first->kek->id());

  auto pg = kek_for_database("", "postgresql://rsp@localhost/smdpp", rng);
  ASSERT_FALSE(pg);
  EXPECT_NE(pg.error().find("kek_file"), std::string::npos) << pg.error();
  ASSERT_TRUE(create_kek_file(file, rng));
  auto named = kek_for_database(file.string(), "postgresql://rsp@localhost/smdpp", rng);
  ASSERT_TRUE(named) << named.error();
  EXPECT_FALSE(named->created);
  EXPECT_EQ(named->kek->id(), load_kek_file(file)->id());
  // A named file is never made.
  EXPECT_FALSE(kek_for_database((dir.path() / "none.kek").string(), db, rng));
}

}  // namespace
}  // namespace rsp::service
