// The type table and input recognition used by `rsp asn1 decode`.

#include <set>

#include "samples.hpp"
#include "rsp/asn1/inspect.hpp"
#include "rsp/asn1/pkix.hpp"
#include "rsp/asn1/saip.hpp"
#include "rsp/asn1/text.hpp"

namespace rsp::asn1 {
namespace {

using namespace test;

TEST(Asn1Registry, EveryModuleTypeIsReachableByName) {
  std::set<std::string> units;
  for (const auto& t : all_types()) {
    units.insert(t.unit);
    const TypeEntry* found = find_type(std::string(t.unit) + "." + t.name);
    ASSERT_NE(found, nullptr) << t.name;
    EXPECT_EQ(found, &t);
    // Garbage never crashes a decoder; it is a typed error.
    auto r = t.to_json(hex("BF2003020100"), {}, nullptr);
    (void)r;
  }
  EXPECT_EQ(units, (std::set<std::string>{"sgp22", "saip", "pkix"}));
  EXPECT_GT(all_types().size(), 150u);
  ASSERT_NE(find_type("EUICCInfo2"), nullptr);
  EXPECT_EQ(find_type("EUICCInfo2")->tag, tlv::Tag::context(34, true));
  EXPECT_EQ(find_type("Iccid")->tag, tlv::Tag::application(26));
  EXPECT_FALSE(find_type("ProfileElement")->tag.has_value());  // an untagged CHOICE
  EXPECT_EQ(find_type("NoSuchType"), nullptr);
}

TEST(Asn1Registry, RecognisesSgp22MessagesByTag) {
  auto empty = inspect(hex("BF2000"));
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->type, "GetEuiccInfo1Request");
  auto info = inspect(encode(euicc_info1()));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->type, "EUICCInfo1");
  EXPECT_EQ(info->value.at("svn").get<std::string>(), "020200");
  sgp22::ProfileInfoListResponse list;
  list.set_profileInfoListOk({sgp22::ProfileInfo{}});
  auto pil = inspect(encode(list));
  ASSERT_TRUE(pil);
  EXPECT_EQ(pil->type, "ProfileInfoListResponse");
  auto asr = inspect(encode(authenticate_server_response_ok()));
  ASSERT_TRUE(asr);
  EXPECT_EQ(asr->type, "AuthenticateServerResponse");
  auto other = inspect(hex("3003020101"));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->type, "TLV");
  EXPECT_EQ(to_text(other->value), "[0]:\n  tag: 30\n  children:\n    [0]:\n      tag: 2\n      value: 01\n");
}

TEST(Asn1Registry, JsonAndTextForms) {
  sgp22::GetEuiccDataResponse r;
  r.eidValue = hex("89049032123451234512345678901235");
  Json j = to_json(r);
  EXPECT_EQ(j.dump(), R"({"eidValue":"89049032123451234512345678901235"})");
  EXPECT_EQ(to_text(j), "eidValue: 89049032123451234512345678901235\n");
  auto named = decode_named("GetEuiccDataResponse", encode(r));
  ASSERT_TRUE(named);
  EXPECT_EQ(*named, j);
  Json info2 = to_json(euicc_info2());
  EXPECT_EQ(info2.at("rspCapability").dump(), R"(["additionalProfile","testProfileSupport"])");
  EXPECT_EQ(info2.begin().key(), "profileVersion");  // definition order
}

}  // namespace
}  // namespace rsp::asn1

namespace rsp::asn1 {
namespace {

TEST(Asn1Defaults, AbsentDefaultsReadAsTheirValue) {
  sgp22::ProfileInfo info;
  EXPECT_EQ(info.profileClass_or_default(), sgp22::ProfileClass_values::operational);
  info.profileClass = sgp22::ProfileClass_values::test;
  EXPECT_EQ(info.profileClass_or_default(), 0);
  saip::Fcp fcp;
  EXPECT_EQ(fcp.lcsi_or_default(), Bytes{0x05});
  saip::PINConfiguration pin;
  EXPECT_EQ(pin.pinAttributes_or_default(), 7);
  pkix::Extension ext;
  EXPECT_FALSE(ext.critical_or_default());
  pkix::TBSCertificate tbs;
  EXPECT_EQ(tbs.version_or_default(), 0);  // v1
}

}  // namespace
}  // namespace rsp::asn1
