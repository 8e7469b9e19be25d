// SAIP: the TS.48 test profiles (unprotected profile packages) decode into
// their profile elements and re-encode to identical bytes.

#include <filesystem>
#include <map>

#include "asn1_test_util.hpp"
#include "rsp/asn1/inspect.hpp"
#include "rsp/asn1/upp.hpp"
#include "rsp/common/file.hpp"

namespace rsp::asn1 {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> upp_files() {
  std::vector<fs::path> out;
  fs::path dir = fs::path(RSP_REFERENCE_DIR) / "upp";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".der") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Asn1Saip, Ts48ProfilesDecodeAndReencodeIdentically) {
  auto files = upp_files();
  if (files.empty()) GTEST_SKIP() << "reference TS.48 profiles not present (" << RSP_REFERENCE_DIR << "/upp)";
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    auto data = read_file(path);
    ASSERT_TRUE(data);
    auto pes = decode_profile_package(*data);
    ASSERT_TRUE(pes) << pes.error().to_string();
    ASSERT_GT(pes->size(), 5u);
    EXPECT_EQ(to_hex(encode_profile_package(*pes)), to_hex(*data));

    // The first element is the ProfileHeader with the ICCID as in EF.ICCID
    // (TS.48 generic test profiles: 89 44 ... stored nibble-swapped).
    const saip::ProfileHeader* header = pes->front().header();
    ASSERT_NE(header, nullptr);
    EXPECT_EQ(header->major_version, 2);
    EXPECT_EQ(header->iccid.size(), 10u);
    EXPECT_EQ(to_hex(header->iccid).substr(0, 6), "894944");
    // ... and the last one is the End element; no unknown alternatives.
    EXPECT_NE(pes->back().end(), nullptr);
    for (const auto& pe : *pes) EXPECT_EQ(pe.unknown(), nullptr) << pe.alternative_name();

    // Each element on its own through the type table, as `rsp asn1 decode --type` does.
    const TypeEntry* entry = find_type("saip.ProfileElement");
    ASSERT_NE(entry, nullptr);
    tlv::Reader r(*data);
    while (!r.empty()) {
      auto e = r.next();
      ASSERT_TRUE(e);
      auto again = entry->reencode(e->encoded, {});
      ASSERT_TRUE(again) << again.error().to_string();
      EXPECT_EQ(to_hex(*again), to_hex(e->encoded));
    }

    // Recognised without a type name.
    auto seen = inspect(*data);
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->type, "ProfileElement*");
    EXPECT_EQ(seen->value.at(0).at("header").at("iccid").get<std::string>(), to_hex(header->iccid));
  }
}

TEST(Asn1Saip, ProfileElementNamesAndTags) {
  saip::ProfileElement pe;
  auto& end = pe.set_end();
  end.end_header.identification = 42;
  Bytes der = test::roundtrip(pe, "saip");
  // ProfileElement alternatives are automatically tagged: end is [10].
  EXPECT_EQ(to_hex(der), "AA05A00381012A");
  EXPECT_STREQ(pe.alternative_name(), "end");
}

}  // namespace
}  // namespace rsp::asn1
