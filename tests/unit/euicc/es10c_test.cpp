// ES10a / ES10c through Card::transmit (SGP.22 §5.7.3-§5.7.4, §5.7.15-§5.7.21).

#include "euicc_fixture.hpp"
#include "rsp/common/file.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/pki/eid.hpp"

namespace rsp::euicc::test {
namespace {

using namespace asn1::sgp22;

EnableProfileRequest enable_iccid(const Bytes& iccid) {
  EnableProfileRequest r;
  r.profileIdentifier.set_iccid(iccid);
  r.refreshFlag = true;
  return r;
}

DisableProfileRequest disable_aid(const Bytes& aid) {
  DisableProfileRequest r;
  r.profileIdentifier.set_isdpAid(aid);
  return r;
}

DeleteProfileRequest delete_iccid(const Bytes& iccid) {
  DeleteProfileRequest r;
  r.set_iccid(iccid);
  return r;
}

TEST_F(EuiccTest, GetEidAnswersTheCertificateEid) {
  GetEuiccDataRequest req;
  req.tagList = {0x5A};
  auto r = call<GetEuiccDataResponse>(req);
  auto eid = store_->eid();
  ASSERT_TRUE(eid.has_value());
  EXPECT_TRUE(pki::is_valid_eid(*eid));
  EXPECT_EQ(to_hex(r.eidValue), *eid);
  req.tagList = {0x5B};
  EXPECT_EQ(es10_sw(asn1::encode(req)), apdu::sw::kWrongData);
}

TEST_F(EuiccTest, ConfiguredAddressesPersistAcrossRestart) {
  auto r = call<EuiccConfiguredAddressesResponse>(EuiccConfiguredAddressesRequest{});
  EXPECT_EQ(r.defaultDpAddress, std::optional<std::string>("smdp.example.com"));
  EXPECT_EQ(r.rootDsAddress, "lpa.ds.gsma.com");
  SetDefaultDpAddressRequest set;
  set.defaultDpAddress = "dp.other.example";
  EXPECT_EQ(call<SetDefaultDpAddressResponse>(set).setDefaultDpAddressResult, 0);
  reopen();
  r = call<EuiccConfiguredAddressesResponse>(EuiccConfiguredAddressesRequest{});
  EXPECT_EQ(r.defaultDpAddress, std::optional<std::string>("dp.other.example"));
}

TEST_F(EuiccTest, ProfilesInfoFiltersBySearchCriteriaAndTagList) {
  auto list = call<ProfileInfoListResponse>(ProfileInfoListRequest{});
  ASSERT_NE(list.profileInfoListOk(), nullptr);
  EXPECT_TRUE(list.profileInfoListOk()->empty());

  auto a = sample_profile(1);
  auto b = sample_profile(2);
  b.profile_class = 0;
  b.ppr = 0x06;
  add_profiles({a, b});
  list = call<ProfileInfoListResponse>(ProfileInfoListRequest{});
  ASSERT_EQ(list.profileInfoListOk()->size(), 2u);
  const auto& first = list.profileInfoListOk()->front();
  EXPECT_EQ(first.iccid, std::optional<Bytes>(a.iccid));
  EXPECT_EQ(first.profileName, std::optional<std::string>("Profile 1"));
  EXPECT_EQ(first.profileState, std::optional<std::int64_t>(0));

  ProfileInfoListRequest req;
  req.searchCriteria.emplace().set_iccid(b.iccid);
  req.tagList = Bytes{0x5A, 0x9F, 0x70, 0x99};
  list = call<ProfileInfoListResponse>(req);
  ASSERT_EQ(list.profileInfoListOk()->size(), 1u);
  const auto& only = list.profileInfoListOk()->front();
  EXPECT_EQ(only.iccid, std::optional<Bytes>(b.iccid));
  EXPECT_TRUE(only.profileState.has_value());
  EXPECT_FALSE(only.profileName.has_value());
  EXPECT_FALSE(only.isdpAid.has_value());
  ASSERT_TRUE(only.profilePolicyRules.has_value());
  EXPECT_TRUE(only.profilePolicyRules->test(1));
  EXPECT_TRUE(only.profilePolicyRules->test(2));

  ProfileInfoListRequest by_class;
  by_class.searchCriteria.emplace().set_profileClass(0);
  list = call<ProfileInfoListResponse>(by_class);
  ASSERT_EQ(list.profileInfoListOk()->size(), 1u);
  EXPECT_EQ(list.profileInfoListOk()->front().isdpAid, std::optional<Bytes>(b.isdp_aid));

  ProfileInfoListRequest bad;
  bad.tagList = Bytes{0x9F};  // a truncated multi-byte tag
  list = call<ProfileInfoListResponse>(bad);
  ASSERT_NE(list.profileInfoListError(), nullptr);
  EXPECT_EQ(*list.profileInfoListError(), ProfileInfoListError_values::incorrectInputValues);
}

TEST_F(EuiccTest, EnableSwitchesTheSingleEnabledProfileAndNotifies) {
  auto a = sample_profile(1);
  auto b = sample_profile(2);
  add_profiles({a, b});
  using V = EnableProfileResponse::enableResult_values;
  EXPECT_EQ(call<EnableProfileResponse>(enable_iccid(a.iccid)).enableResult, V::ok);
  EXPECT_EQ(call<EnableProfileResponse>(enable_iccid(a.iccid)).enableResult, V::profileNotInDisabledState);
  EXPECT_EQ(call<EnableProfileResponse>(enable_iccid(b.iccid)).enableResult, V::ok);
  EXPECT_EQ(call<EnableProfileResponse>(enable_iccid(*messages::iccid_from_digits("89000000000000000001"))).enableResult,
            V::iccidOrAidNotFound);
  auto s = state();
  EXPECT_FALSE(s.find_by_iccid(a.iccid)->enabled);
  EXPECT_TRUE(s.find_by_iccid(b.iccid)->enabled);
  // enable a, disable a, enable b: three notifications with rising sequence numbers
  ASSERT_EQ(s.notifications.size(), 3u);
  EXPECT_EQ(s.notifications[0].event, NotificationEvent::kEnable);
  EXPECT_EQ(s.notifications[1].event, NotificationEvent::kDisable);
  EXPECT_EQ(s.notifications[2].event, NotificationEvent::kEnable);
  EXPECT_LT(s.notifications[0].seq_number, s.notifications[1].seq_number);
  EXPECT_LT(s.notifications[1].seq_number, s.notifications[2].seq_number);
}

TEST_F(EuiccTest, NoNotificationWithoutConfiguration) {
  auto a = sample_profile(1, false);
  add_profiles({a});
  EXPECT_EQ(call<EnableProfileResponse>(enable_iccid(a.iccid)).enableResult, 0);
  EXPECT_TRUE(state().notifications.empty());
}

TEST_F(EuiccTest, Ppr1ForbidsDisablingAndSwitching) {
  auto a = sample_profile(1);
  a.ppr = 0x02;
  auto b = sample_profile(2);
  add_profiles({a, b});
  using D = DisableProfileResponse::disableResult_values;
  EXPECT_EQ(call<DisableProfileResponse>(disable_aid(a.isdp_aid)).disableResult, D::profileNotInEnabledState);
  EXPECT_EQ(call<EnableProfileResponse>(enable_iccid(a.iccid)).enableResult, 0);
  EXPECT_EQ(call<DisableProfileResponse>(disable_aid(a.isdp_aid)).disableResult, D::disallowedByPolicy);
  EXPECT_EQ(call<EnableProfileResponse>(enable_iccid(b.iccid)).enableResult,
            EnableProfileResponse::enableResult_values::disallowedByPolicy);
  EXPECT_TRUE(state().find_by_iccid(a.iccid)->enabled);
  EXPECT_FALSE(state().find_by_iccid(b.iccid)->enabled);
  EXPECT_EQ(call<DisableProfileResponse>(disable_aid({0xA0, 0x01})).disableResult, D::iccidOrAidNotFound);
}

TEST_F(EuiccTest, DeleteHonoursStateAndPpr2AndRemovesContent) {
  auto a = sample_profile(1);
  auto b = sample_profile(2);
  b.ppr = 0x04;
  a.content_file = "a.upp";
  ASSERT_TRUE(store_->write_content("a.upp", Bytes{1, 2, 3}).has_value());
  add_profiles({a, b});
  using V = DeleteProfileResponse::deleteResult_values;
  EXPECT_EQ(call<DeleteProfileResponse>(delete_iccid(b.iccid)).deleteResult, V::disallowedByPolicy);
  EXPECT_EQ(call<EnableProfileResponse>(enable_iccid(a.iccid)).enableResult, 0);
  EXPECT_EQ(call<DeleteProfileResponse>(delete_iccid(a.iccid)).deleteResult, V::profileNotInDisabledState);
  EXPECT_EQ(call<DisableProfileResponse>(disable_aid(a.isdp_aid)).disableResult, 0);
  EXPECT_EQ(call<DeleteProfileResponse>(delete_iccid(a.iccid)).deleteResult, V::ok);
  EXPECT_EQ(call<DeleteProfileResponse>(delete_iccid(a.iccid)).deleteResult, V::iccidOrAidNotFound);
  auto s = state();
  ASSERT_EQ(s.profiles.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(store_->dir() / "profiles" / "a.upp"));
  EXPECT_EQ(s.notifications.back().event, NotificationEvent::kDelete);
}

TEST_F(EuiccTest, MemoryResetDeletesByClassIgnoringPprs) {
  auto a = sample_profile(1);
  a.ppr = 0x06;
  a.enabled = true;
  auto t = sample_profile(2);
  t.profile_class = 0;
  add_profiles({a, t});
  EuiccMemoryResetRequest req;
  req.resetOptions = asn1::BitString::from_bits({0});
  using V = EuiccMemoryResetResponse::resetResult_values;
  EXPECT_EQ(call<EuiccMemoryResetResponse>(req).resetResult, V::ok);
  EXPECT_EQ(call<EuiccMemoryResetResponse>(req).resetResult, V::nothingToDelete);
  ASSERT_EQ(state().profiles.size(), 1u);
  req.resetOptions = asn1::BitString::from_bits({1, 2});
  EXPECT_EQ(call<EuiccMemoryResetResponse>(req).resetResult, V::ok);
  EXPECT_TRUE(state().profiles.empty());
  EXPECT_TRUE(state().default_dp_address.empty());
}

TEST_F(EuiccTest, SetNickname) {
  auto a = sample_profile(1);
  add_profiles({a});
  SetNicknameRequest req;
  req.iccid = a.iccid;
  req.profileNickname = "work";
  EXPECT_EQ(call<SetNicknameResponse>(req).setNicknameResult, 0);
  reopen();
  EXPECT_EQ(state().profiles.front().nickname, "work");
  req.iccid = *messages::iccid_from_digits("89000000000000000001");
  EXPECT_EQ(call<SetNicknameResponse>(req).setNicknameResult, 1);
}

TEST_F(EuiccTest, MalformedAndUnknownCommandsLeaveStateUnchanged) {
  auto a = sample_profile(1);
  add_profiles({a});
  auto slots = [&] {
    return to_hex(read_file(store_->dir() / "state.0").value_or(Bytes{})) + "/" +
           to_hex(read_file(store_->dir() / "state.1").value_or(Bytes{}));
  };
  const auto before = slots();
  EXPECT_EQ(es10_sw(Bytes{0xBF, 0x7F, 0x00}), apdu::sw::kReferencedDataNotFound);
  EXPECT_EQ(es10_sw(Bytes{0xBF, 0x31, 0x03, 0x01, 0x01, 0xFF}), apdu::sw::kWrongData);
  EXPECT_EQ(es10_sw(Bytes{0xBF, 0x31, 0x05, 0xA0}), apdu::sw::kWrongData);  // truncated
  EXPECT_EQ(es10_sw(Bytes{0x30, 0x00}), apdu::sw::kReferencedDataNotFound);
  auto enable = asn1::encode(enable_iccid(a.iccid));
  enable.push_back(0x00);  // trailing byte
  EXPECT_EQ(es10_sw(enable), apdu::sw::kWrongData);
  EXPECT_EQ(slots(), before);
}

}  // namespace
}  // namespace rsp::euicc::test
