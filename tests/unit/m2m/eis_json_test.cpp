// The EIS JSON binding: a full EIS survives a round trip; keys are left out
// on request; every malformed member is refused with its path and never its
// value; POL2 helpers.
#include "rsp/m2m/eis_json.hpp"

#include <gtest/gtest.h>

#include "rsp/m2m/es_status.hpp"
#include "test_support/sample_eis.hpp"

namespace rsp::m2m {
namespace {

using nlohmann::json;

Eis parsed(const json& j = test_support::sample_eis()) {
  auto e = eis_from_json(j);
  EXPECT_TRUE(e) << (e ? "" : e.error().path + ": " + e.error().message);
  return e ? *e : Eis{};
}

/// The error of parsing `j`, which must fail.
EisJsonError refused(const json& j) {
  auto e = eis_from_json(j);
  EXPECT_FALSE(e);
  if (e) return {};
  // The message never quotes a key value.
  for (const char* secret : {"1111111111", "2222222222", "3333333333"})
    EXPECT_EQ(e.error().message.find(secret), std::string::npos) << e.error().message;
  return e.error();
}

TEST(EisJson, ParsesEveryMember) {
  const Eis e = parsed();
  EXPECT_EQ(e.eid, "89049032123451234512345678901235");
  EXPECT_EQ(e.eum_id, "EUM-TEST");
  EXPECT_EQ(e.available_memory_for_profiles, 150000);
  ASSERT_EQ(e.isd_r.scp80_key_sets.size(), 1u);
  EXPECT_EQ(e.isd_r.scp80_key_sets[0].algorithm, Scp80KeySet::Algorithm::Aes);
  EXPECT_EQ(e.isd_r.scp80_key_sets[0].counter, 5u);
  ASSERT_TRUE(e.isd_r.scp81_psk);
  EXPECT_EQ(to_hex(e.isd_r.scp81_psk->identity), "0178901235");
  ASSERT_EQ(e.profiles.size(), 3u);
  const ProfileInfo* boot = e.profile("8944000000000000011");
  ASSERT_NE(boot, nullptr);
  EXPECT_EQ(boot->state, ProfileState::Enabled);
  EXPECT_TRUE(boot->fallback_attribute);
  EXPECT_TRUE(pol2_forbids(*boot, PolicyAction::Disable));
  EXPECT_FALSE(pol2_forbids(*boot, PolicyAction::Delete));
  EXPECT_FALSE(pol2_auto_delete(*boot));
  EXPECT_TRUE(pol2_auto_delete(*e.profile("8933000000000000037")));
  EXPECT_EQ(e.profile("8933000000000000037")->subscription_address.imsi, "208011234567890");
  EXPECT_EQ(e.profile("0000000000000000000"), nullptr);
}

TEST(EisJson, RoundTripsWithKeys) {
  const Eis e = parsed();
  const json j = eis_to_json(e, Keys::Include);
  EXPECT_EQ(parsed(j), e);
  // And again through text.
  EXPECT_EQ(parsed(json::parse(j.dump())), e);
}

TEST(EisJson, LeavesKeysOutOnRequest) {
  const Eis e = parsed();
  const json j = eis_to_json(e, Keys::Omit);
  const std::string text = j.dump();
  for (const char* secret : {"11111111111111111111111111111111", "22222222222222222222222222222222",
                             "33333333333333333333333333333333", "scp80KeySets", "scp81Psk"})
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  EXPECT_EQ(j["isdR"]["aid"], "A0000005591010FFFFFFFF8900000100");
  EXPECT_EQ(j["profiles"].size(), 3u);
}

TEST(EisJson, KeysAloneRoundTrip) {
  const Eis e = parsed();
  IsdR back;
  back.aid = e.isd_r.aid;
  ASSERT_TRUE(isdr_keys_from_json(isdr_keys_to_json(e.isd_r), back));
  EXPECT_EQ(back, e.isd_r);
  EXPECT_FALSE(isdr_keys_from_json(json{{"scp80KeySets", json::array()}, {"aid", "00"}}, back));
}

TEST(EisJson, RefusesWhatIsNotAnObject) {
  EXPECT_EQ(refused(json::array()).path, "");
  EXPECT_EQ(refused(json("eis")).path, "");
  EXPECT_EQ(refused(json(nullptr)).path, "");
}

struct Case {
  const char* pointer;  ///< JSON pointer of the member to change
  json value;           ///< its new value (null with `remove`: taken out)
  bool remove;
  const char* path;     ///< the path the error must name
};

class EisJsonBad : public ::testing::TestWithParam<Case> {};

TEST_P(EisJsonBad, NamesTheMember) {
  const Case& c = GetParam();
  json j = test_support::sample_eis();
  const json::json_pointer ptr(c.pointer);
  if (c.remove) {
    j[ptr.parent_pointer()].erase(ptr.back());
  } else {
    j[ptr] = c.value;
  }
  const EisJsonError e = refused(j);
  EXPECT_EQ(e.path, c.path) << e.message;
  EXPECT_FALSE(e.message.empty());
}

const Case kBad[] = {
    {"/eid", nullptr, true, "eid"},
    {"/eid", "8904903212345123451234567890123", false, "eid"},
    {"/eid", "8904903212345123451234567890123X", false, "eid"},
    {"/eid", 89049032, false, "eid"},
    {"/eumId", "", false, "eumId"},
    {"/eumId", std::string(300, 'a'), false, "eumId"},
    {"/platformType", "a\nb", false, "platformType"},
    {"/remainingMemory", -1, false, "remainingMemory"},
    {"/remainingMemory", 1.5, false, "remainingMemory"},
    {"/remainingMemory", "12", false, "remainingMemory"},
    {"/availableMemoryForProfiles", 18446744073709551615ull, false, "availableMemoryForProfiles"},
    {"/smsrId", nullptr, true, "smsrId"},
    {"/unknown", 1, false, "unknown"},
    {"/isdR", nullptr, true, "isdR"},
    {"/isdR", "x", false, "isdR"},
    {"/isdR/aid", "A000", false, "isdR.aid"},
    {"/isdR/aid", "zz", false, "isdR.aid"},
    {"/isdR/aid", std::string(40, 'A'), false, "isdR.aid"},
    {"/isdR/extra", 1, false, "isdR.extra"},
    {"/isdR/scp80KeySets", json::object(), false, "isdR.scp80KeySets"},
    {"/isdR/scp80KeySets/0/version", 0, false, "isdR.scp80KeySets[0].version"},
    {"/isdR/scp80KeySets/0/version", 128, false, "isdR.scp80KeySets[0].version"},
    {"/isdR/scp80KeySets/0/algorithm", "DES", false, "isdR.scp80KeySets[0].algorithm"},
    {"/isdR/scp80KeySets/0/kic", "1111", false, "isdR.scp80KeySets[0].kic"},
    {"/isdR/scp80KeySets/0/kid", std::string(40, '2'), false, "isdR.scp80KeySets[0].kid"},
    {"/isdR/scp80KeySets/0/kid", nullptr, true, "isdR.scp80KeySets[0].kid"},
    {"/isdR/scp80KeySets/0/counter", 1099511627776ll, false, "isdR.scp80KeySets[0].counter"},
    {"/isdR/scp80KeySets/1", {{"version", 1}, {"algorithm", "3DES"}, {"kic", std::string(32, '4')},
                              {"kid", std::string(32, '5')}}, false, "isdR.scp80KeySets[1].version"},
    {"/isdR/scp81Psk/key", std::string(48, '3'), false, "isdR.scp81Psk.key"},
    {"/isdR/scp81Psk/identity", "", false, "isdR.scp81Psk.identity"},
    {"/ecasd", nullptr, true, "ecasd"},
    {"/ecasd/certificate", nullptr, true, "ecasd.certificate"},
    {"/ecasd/certificate", std::string(8194, 'A'), false, "ecasd.certificate"},
    {"/profiles", json::object(), false, "profiles"},
    {"/profiles/0", "x", false, "profiles[0]"},
    {"/profiles/0/iccid", "89440000", false, "profiles[0].iccid"},
    {"/profiles/0/iccid", "894400000000000001F", false, "profiles[0].iccid"},
    {"/profiles/1/iccid", "8944000000000000011", false, "profiles[1].iccid"},
    {"/profiles/1/isdpAid", "A0000005591010FFFFFFFF8900001000", false, "profiles[1].isdpAid"},
    {"/profiles/0/mnoId", nullptr, true, "profiles[0].mnoId"},
    {"/profiles/0/state", "Installed", false, "profiles[0].state"},
    {"/profiles/1/state", "Enabled", false, "profiles"},
    {"/profiles/1/fallbackAttribute", true, false, "profiles"},
    {"/profiles/0/fallbackAttribute", "yes", false, "profiles[0].fallbackAttribute"},
    {"/profiles/0/emergencyProfileAttribute", 1, false, "profiles[0].emergencyProfileAttribute"},
    {"/profiles/0/pol2/0/subject", "EUICC", false, "profiles[0].pol2[0].subject"},
    {"/profiles/0/pol2/0/action", "ENABLE", false, "profiles[0].pol2[0].action"},
    {"/profiles/0/pol2/0/qualification", "Auto-delete", false, "profiles[0].pol2[0].qualification"},
    {"/profiles/0/pol2/0/extra", 1, false, "profiles[0].pol2[0].extra"},
    {"/profiles/0/pol2/1", {{"subject", "PROFILE"}, {"action", "DISABLE"}, {"qualification", "Not allowed"}},
     false, "profiles[0].pol2[1]"},
    {"/profiles/0/subscriptionAddress", json::object(), false, "profiles[0].subscriptionAddress"},
    {"/profiles/0/subscriptionAddress/msisdn", "+4477", false, "profiles[0].subscriptionAddress.msisdn"},
    {"/profiles/0/subscriptionAddress/imsi", "123", false, "profiles[0].subscriptionAddress.imsi"},
    {"/profiles/0/connectivityParameters", "A0F", false, "profiles[0].connectivityParameters"},
    {"/profiles/0/allocatedMemory", -5, false, "profiles[0].allocatedMemory"},
};

INSTANTIATE_TEST_SUITE_P(Members, EisJsonBad, ::testing::ValuesIn(kBad));

TEST(EisJson, TooManyProfilesAreRefused) {
  json j = test_support::sample_eis();
  json many = json::array();
  for (int i = 0; i < 300; ++i) many.push_back(json::object());
  j["profiles"] = many;
  EXPECT_EQ(refused(j).path, "profiles");
}

TEST(EisJson, Pol2AloneParses) {
  auto r = pol2_from_json(json::parse(R"([{"subject":"PROFILE","action":"DELETE","qualification":"Not allowed"}])"),
                          "pol2");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].action, PolicyAction::Delete);
  EXPECT_EQ(pol2_to_json(*r)[0]["qualification"], "Not allowed");
  EXPECT_TRUE(pol2_from_json(json::array(), "pol2"));
  EXPECT_EQ(pol2_from_json(json::object(), "pol2").error().path, "pol2");
}

TEST(EsStatus, NamesAsSgp02Writes) {
  EXPECT_EQ(status_name(ExecutionStatus::ExecutedSuccess), "Executed-Success");
  EXPECT_EQ(status_name(ExecutionStatus::ExecutedWithWarning), "Executed-WithWarning");
  EXPECT_EQ(status_name(ExecutionStatus::Failed), "Failed");
  EXPECT_EQ(status_name(ExecutionStatus::Expired), "Expired");
  EXPECT_EQ(parse_status("Expired"), ExecutionStatus::Expired);
  EXPECT_EQ(parse_status("expired"), std::nullopt);
}

}  // namespace
}  // namespace rsp::m2m
