// Subscriber keys at rest, as an operator meets them with the real `rsp`:
// owner-only files (sample packages, the database, key files), packages
// encrypted under the key beside the database, `rsp smdpp keys init|rotate`,
// the warning for a database others can read, and a server refusing to
// start with a key that opens none of the stored packages.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "rsp/common/file.hpp"
#include "rsp/smdpp/inventory.hpp"
#include "rsp/service/kek_file.hpp"
#include "rsp/store/sqlite.hpp"
#include "run_tool.hpp"
#include "serve_process.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;

int mode_of(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

bool contains(ByteView haystack, ByteView needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

/// The child processes inherit a umask that would leave files readable by
/// others unless the commands set the mode themselves.
class SmdppKeys : public ::testing::Test {
 protected:
  void SetUp() override {
    old_umask_ = ::umask(022);
    auto r = rsp({"profile", "sample", "--out", profiles().string(), "--count", "2", "--type", "keys"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  void TearDown() override { ::umask(old_umask_); }
  fs::path profiles() const { return dir_.path() / "profiles"; }
  std::string db() const { return (dir_.path() / "smdpp.db").string(); }
  std::vector<fs::path> packages() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(profiles())) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }
  RunResult import(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"smdpp", "profiles", "import", profiles().string(), "--operator", "op1", "--db", db()};
    args.insert(args.end(), extra.begin(), extra.end());
    return rsp(args);
  }
  /// The package of `iccid` as an inventory opened with the key in `kek_file` reads it.
  expected<Bytes, smdpp::SmdppError> read_package(const std::string& iccid, const fs::path& kek_file) {
    auto kek = service::load_kek_file(kek_file);
    EXPECT_TRUE(kek) << kek.error();
    auto opened = store::open_sqlite(db());
    EXPECT_TRUE(opened);
    auto inv = smdpp::Inventory::open(std::shared_ptr<store::Database>(std::move(*opened)), clock_,
                                      {std::make_shared<const smdpp::KeyEncryptionKey>(std::move(*kek)), nullptr});
    EXPECT_TRUE(inv);
    return (*inv)->profile_package(iccid);
  }

  TempDir dir_;
  mode_t old_umask_ = 0;
  smdpp::SystemClock clock_;
};

TEST_F(SmdppKeys, SamplePackagesAreForTheOwnerOnly) {
  const auto files = packages();
  ASSERT_EQ(files.size(), 2u);
  for (const auto& f : files) EXPECT_EQ(mode_of(f), 0600) << f;
}

TEST_F(SmdppKeys, ImportEncryptsThePackagesUnderAKeyBesideTheDatabase) {
  auto r = import();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path kek = db() + ".kek";
  EXPECT_NE(r.output.find("created the key-encryption key file " + kek.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("back it up apart from the database"), std::string::npos) << r.output;
  EXPECT_EQ(mode_of(kek), 0600);
  EXPECT_EQ(mode_of(db()), 0600);
  // The -wal/-shm files are removed when the last connection closes; any left are the database's mode.
  for (const char* suffix : {"-wal", "-shm"})
    if (fs::exists(db() + suffix)) {
      EXPECT_EQ(mode_of(db() + suffix), 0600) << suffix;
    }

  // Neither the database nor its log holds a package in clear.
  for (const char* suffix : {"", "-wal"}) {
    if (!fs::exists(db() + suffix)) continue;
    auto bytes = read_file(db() + suffix);
    ASSERT_TRUE(bytes);
    for (const auto& f : packages()) EXPECT_FALSE(contains(*bytes, *read_file(f))) << f << " in " << suffix;
  }
  const std::string iccid = packages().front().stem().string();
  auto upp = read_package(iccid, kek);
  ASSERT_TRUE(upp) << upp.error().message;
  EXPECT_EQ(*upp, *read_file(packages().front()));

  // The key is made once; a later import uses it without a notice.
  fs::remove(packages().front());
  auto again = rsp({"profile", "sample", "--out", profiles().string(), "--count", "1", "--first", "7"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  auto second = import();
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(second.output.find("created the key-encryption key"), std::string::npos) << second.output;
}

TEST_F(SmdppKeys, InitWritesANewKeyAndNeverReplacesOne) {
  const fs::path kek = dir_.path() / "operator.kek";
  auto r = rsp({"smdpp", "keys", "init", "--out", kek.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("key id "), std::string::npos) << r.output;
  EXPECT_EQ(mode_of(kek), 0600);
  const auto before = read_file(kek);
  auto again = rsp({"smdpp", "keys", "init", "--out", kek.string()});
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;
  EXPECT_EQ(*read_file(kek), *before);
  EXPECT_EQ(again.output.find(to_string(*before).substr(0, 64)), std::string::npos);  // never printed

  // A named key is used as it is; one others can read is refused.
  auto imp = import({"--kek-file", kek.string()});
  ASSERT_EQ(imp.exit_code, 0) << imp.output;
  EXPECT_FALSE(fs::exists(db() + ".kek"));
  fs::permissions(kek, fs::perms(0644));
  auto refused = rsp({"smdpp", "profiles", "import", profiles().string(), "--operator", "op1", "--db", db(),
                      "--kek-file", kek.string()});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("chmod 600"), std::string::npos) << refused.output;
}

TEST_F(SmdppKeys, RotateMovesEveryPackageToTheNewKey) {
  ASSERT_EQ(import().exit_code, 0);
  const fs::path old_kek = db() + ".kek", new_kek = dir_.path() / "new.kek";
  ASSERT_EQ(rsp({"smdpp", "keys", "init", "--out", new_kek.string()}).exit_code, 0);
  auto r = rsp({"smdpp", "keys", "rotate", "--db", db(), "--new-kek-file", new_kek.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 package keys re-wrapped"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("no longer opens any package"), std::string::npos) << r.output;
  for (const auto& f : packages()) {
    const std::string iccid = f.stem().string();
    auto with_new = read_package(iccid, new_kek);
    ASSERT_TRUE(with_new) << with_new.error().message;
    EXPECT_EQ(*with_new, *read_file(f));
    auto with_old = read_package(iccid, old_kek);
    ASSERT_FALSE(with_old);
    EXPECT_NE(with_old.error().message.find("not under the given one"), std::string::npos) << with_old.error().message;
  }
  // With the old key named, a second rotation finds nothing it can open.
  auto stale = rsp({"smdpp", "keys", "rotate", "--db", db(), "--kek-file", old_kek.string(), "--new-kek-file",
                    (dir_.path() / "missing.kek").string()});
  EXPECT_EQ(stale.exit_code, 1) << stale.output;
  const fs::path third = dir_.path() / "third.kek";
  ASSERT_EQ(rsp({"smdpp", "keys", "init", "--out", third.string()}).exit_code, 0);
  stale = rsp({"smdpp", "keys", "rotate", "--db", db(), "--kek-file", old_kek.string(), "--new-kek-file",
               third.string()});
  EXPECT_EQ(stale.exit_code, 1) << stale.output;
  EXPECT_NE(stale.output.find("nothing was changed"), std::string::npos) << stale.output;
}

// The server warns about a database others can read, and does not start
// with a key that opens none of its packages.
TEST_F(SmdppKeys, ServeWarnsAboutAReadableDatabaseAndRefusesAnotherKey) {
  ASSERT_EQ(import().exit_code, 0);
  const fs::path new_kek = dir_.path() / "new.kek";
  ASSERT_EQ(rsp({"smdpp", "keys", "init", "--out", new_kek.string()}).exit_code, 0);
  ASSERT_EQ(rsp({"smdpp", "keys", "rotate", "--db", db(), "--new-kek-file", new_kek.string()}).exit_code, 0);
  fs::permissions(db(), fs::perms(0644));
  auto listed = rsp({"smdpp", "profiles", "list", "--db", db()});
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("WARNING: " + db() + " is mode 0644"), std::string::npos) << listed.output;

  const fs::path pki = dir_.path() / "pki";
  auto init = rsp({"pki", "init", "--out", pki.string(), "--curves", "nist"});
  ASSERT_EQ(init.exit_code, 0) << init.output;
  const fs::path config = dir_.path() / "smdpp.json";
  // No kek_file: the old key beside the database, which opens nothing now.
  std::ofstream(config) << R"({"listen": "127.0.0.1:0", "pki": ")" << pki.string() << R"(", "database": ")" << db()
                        << R"("})";
  ServeProcess serve({"--config", config.string()});
  ASSERT_TRUE(serve.started());
  // Signal 0 sends nothing: this waits for the exit (-1 when the server kept running instead).
  EXPECT_EQ(serve.signal_and_wait(0, std::chrono::seconds(60)), 1) << serve.output();
  EXPECT_NE(serve.output().find("WARNING: " + db() + " is mode 0644"), std::string::npos) << serve.output();
  EXPECT_NE(serve.output().find("encrypted under another key-encryption key (2 under key id "), std::string::npos)
      << serve.output();
}

TEST_F(SmdppKeys, APostgresqlDatabaseNeedsAKeyFile) {
  auto r = rsp({"smdpp", "profiles", "import", profiles().string(), "--operator", "op1", "--db",
                "postgresql://rsp@127.0.0.1:1/smdpp"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("needs a key-encryption key file"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace rsp::e2e
