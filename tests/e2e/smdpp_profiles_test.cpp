// `rsp smdpp profiles import|list`, `rsp smdpp order` and `rsp profile
// inspect` as an operator runs them, on a fresh SM-DP+ database.

#include <gtest/gtest.h>

#include <fstream>

#include "rsp/common/bytes.hpp"
#include "rsp/common/file.hpp"
#include "run_tool.hpp"

namespace rsp::e2e {
namespace {

namespace fs = std::filesystem;

/// A minimal SAIP package: ProfileHeader (version 2.3, profileType "e2e",
/// the given 10-byte ICCID, USIM service, no GFSTE) then End.
Bytes minimal_upp(const std::string& iccid_hex) {
  return *from_hex("A01D 800102 810103 8203653265 830A" + iccid_hex + " A5028100 A600  AA05A003810163");
}

void write(const fs::path& p, const Bytes& b) { ASSERT_TRUE(write_file_atomic(p, b)); }

class SmdppProfilesCli : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(upps());
    write(upps() / "one.der", minimal_upp("98940000000000001002"));
    write(upps() / "two.der", minimal_upp("989400000000000020F4"));
  }
  fs::path upps() const { return dir_.path() / "upp"; }
  std::string db() const { return (dir_.path() / "smdpp.db").string(); }
  TempDir dir_;
};

TEST_F(SmdppProfilesCli, ImportListOrder) {
  auto imp = rsp({"smdpp", "profiles", "import", upps().string(), "--operator", "op1", "--db", db()});
  ASSERT_EQ(imp.exit_code, 0) << imp.output;
  EXPECT_NE(imp.output.find("imported ICCID 89490000000000000120 type e2e"), std::string::npos) << imp.output;
  EXPECT_NE(imp.output.find("2 imported, 0 duplicate, 0 rejected"), std::string::npos) << imp.output;

  auto again = rsp({"smdpp", "profiles", "import", (upps() / "one.der").string(), "--operator", "op1", "--db", db()});
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("duplicate"), std::string::npos) << again.output;

  auto list = rsp({"smdpp", "profiles", "list", "--db", db()});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("89490000000000000120"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("8949000000000000024"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("available"), std::string::npos);
  EXPECT_NE(list.output.find("op1"), std::string::npos);
  auto other = rsp({"smdpp", "profiles", "list", "--db", db(), "--operator", "op2"});
  EXPECT_NE(other.output.find("0 profile(s)"), std::string::npos) << other.output;

  const fs::path png = dir_.path() / "ac.png";
  auto order = rsp({"smdpp", "order", "--db", db(), "--operator", "op1", "--type", "e2e", "--address",
                    "smdp.example.com", "--qr-png", png.string()});
  ASSERT_EQ(order.exit_code, 0) << order.output;
  EXPECT_NE(order.output.find("LPA:1$smdp.example.com$"), std::string::npos) << order.output;
  EXPECT_NE(order.output.find("\u2580"), std::string::npos);  // the terminal QR
  auto bytes = read_file(png);
  ASSERT_TRUE(bytes);
  ASSERT_GT(bytes->size(), 8u);
  EXPECT_EQ((*bytes)[1], 'P');
  EXPECT_EQ((*bytes)[2], 'N');
  EXPECT_EQ((*bytes)[3], 'G');

  // The confirmation code comes from a file, never from the command line.
  const fs::path cc_file = dir_.path() / "cc.txt";
  write(cc_file, to_bytes("cc-Wombat-8365\n"));
  auto cc = rsp({"smdpp", "order", "--db", db(), "--operator", "op1", "--iccid", "8949000000000000024", "--cc-file",
                 cc_file.string(), "--address", "smdp.example.com"});
  ASSERT_EQ(cc.exit_code, 0) << cc.output;
  EXPECT_NE(cc.output.find("$$1"), std::string::npos) << cc.output;  // confirmation code flag
  EXPECT_EQ(cc.output.find("Wombat"), std::string::npos);  // the code itself is never shown

  auto none = rsp({"smdpp", "order", "--db", db(), "--operator", "op1", "--type", "e2e", "--address", "smdp.example.com"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.output.find("8.2.5/3.7"), std::string::npos) << none.output;

  list = rsp({"smdpp", "profiles", "list", "--db", db()});
  EXPECT_NE(list.output.find("released"), std::string::npos) << list.output;
}

TEST_F(SmdppProfilesCli, MalformedFileGivesTheReasonAndExit1) {
  const fs::path bad = dir_.path() / "bad.der";
  write(bad, to_bytes("this is not a profile package"));
  auto r = rsp({"smdpp", "profiles", "import", bad.string(), (upps() / "one.der").string(), "--operator", "op1",
                "--db", db()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("bad.der: rejected: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 imported, 0 duplicate, 1 rejected"), std::string::npos) << r.output;
  auto insp = rsp({"profile", "inspect", bad.string()});
  EXPECT_EQ(insp.exit_code, 1);
  EXPECT_NE(insp.output.find("not a SAIP profile package"), std::string::npos) << insp.output;
}

TEST_F(SmdppProfilesCli, InspectSummarisesThePackage) {
  auto r = rsp({"profile", "inspect", (upps() / "one.der").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ICCID:              89490000000000000120"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Profile type:       e2e"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("usim"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Profile elements (2)"), std::string::npos) << r.output;
}

TEST_F(SmdppProfilesCli, ImportsTheTs48Profiles) {
  const fs::path ts48 = reference_dir().empty() ? fs::path{} : reference_dir() / "upp";
  if (ts48.empty() || !fs::is_directory(ts48)) GTEST_SKIP() << "TS.48 profiles not present (reference upp/ folder)";
  auto r = rsp({"smdpp", "profiles", "import", ts48.string(), "--operator", "ts48", "--db", db()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("imported ICCID"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" 0 rejected"), std::string::npos) << r.output;
  auto list = rsp({"smdpp", "profiles", "list", "--db", db(), "--operator", "ts48"});
  EXPECT_EQ(list.exit_code, 0);
  for (const auto& e : fs::directory_iterator(ts48)) {
    if (e.path().extension() != ".der") continue;
    auto insp = rsp({"profile", "inspect", e.path().string()});
    EXPECT_EQ(insp.exit_code, 0) << e.path() << "\n" << insp.output;
    EXPECT_NE(insp.output.find("NAAs: "), std::string::npos);
  }
}

}  // namespace
}  // namespace rsp::e2e
