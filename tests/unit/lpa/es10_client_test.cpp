// The typed ES10 client against a simulated eUICC over APDUs: every function
// answers its typed response, and a channel failure, an error status word or
// an answer of the wrong shape come back as typed errors.
#include <gtest/gtest.h>

#include <deque>

#include "rsp/lpa/es10_client.hpp"
#include "sim_euicc.hpp"

namespace rsp::lpa {
namespace {

namespace sg = asn1::sgp22;
namespace st = smdpp::testing;

TEST(Es10Client, Es10aAndEs10cAgainstTheSimulatedEuicc) {
  SimEuicc euicc(st::test_pki_dir());
  Es10Client es10(euicc.channel);

  auto addresses = es10.get_euicc_configured_addresses();
  ASSERT_TRUE(addresses) << addresses.error().message;
  EXPECT_EQ(addresses->defaultDpAddress, std::optional<std::string>(st::kAddress));

  sg::SetDefaultDpAddressRequest set;
  set.defaultDpAddress = "other.example";
  auto set_r = es10.set_default_dp_address(set);
  ASSERT_TRUE(set_r);
  EXPECT_EQ(set_r->setDefaultDpAddressResult, sg::SetDefaultDpAddressResponse::setDefaultDpAddressResult_values::ok);
  EXPECT_EQ(es10.get_euicc_configured_addresses()->defaultDpAddress, std::optional<std::string>("other.example"));

  auto eid = es10.get_eid();
  ASSERT_TRUE(eid) << eid.error().message;
  EXPECT_EQ(to_hex(eid->eidValue), euicc.eid());

  auto profiles = es10.get_profiles_info();
  ASSERT_TRUE(profiles);
  ASSERT_NE(profiles->profileInfoListOk(), nullptr);
  EXPECT_TRUE(profiles->profileInfoListOk()->empty());

  sg::EnableProfileRequest enable;
  enable.profileIdentifier.set_iccid(Bytes{0x98, 0x94, 0, 0, 0, 0, 0, 0, 0x10, 0xF2});
  auto en = es10.enable_profile(enable);
  ASSERT_TRUE(en);
  EXPECT_EQ(en->enableResult, sg::EnableProfileResponse::enableResult_values::iccidOrAidNotFound);

  sg::DisableProfileRequest disable;
  disable.profileIdentifier.set_iccid(Bytes{0x98, 0x94, 0, 0, 0, 0, 0, 0, 0x10, 0xF2});
  auto dis = es10.disable_profile(disable);
  ASSERT_TRUE(dis);
  EXPECT_EQ(dis->disableResult, sg::DisableProfileResponse::disableResult_values::iccidOrAidNotFound);

  sg::DeleteProfileRequest del;
  del.set_iccid(Bytes{0x98, 0x94, 0, 0, 0, 0, 0, 0, 0x10, 0xF2});
  auto d = es10.delete_profile(del);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->deleteResult, sg::DeleteProfileResponse::deleteResult_values::iccidOrAidNotFound);

  sg::SetNicknameRequest nick;
  nick.iccid = Bytes{0x98, 0x94, 0, 0, 0, 0, 0, 0, 0x10, 0xF2};
  nick.profileNickname = "mine";
  auto n = es10.set_nickname(nick);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->setNicknameResult, sg::SetNicknameResponse::setNicknameResult_values::iccidNotFound);

  sg::EuiccMemoryResetRequest reset;
  reset.resetOptions = asn1::BitString{Bytes{0x20}, 5};  // resetDefaultSmdpAddress
  auto mr = es10.euicc_memory_reset(reset);
  ASSERT_TRUE(mr) << mr.error().message;
}

TEST(Es10Client, Es10bSimpleFunctions) {
  SimEuicc euicc(st::test_pki_dir());
  Es10Client es10(euicc.channel);

  auto challenge = es10.get_euicc_challenge();
  ASSERT_TRUE(challenge);
  EXPECT_EQ(challenge->euiccChallenge.size(), 16u);
  auto again = es10.get_euicc_challenge();
  ASSERT_TRUE(again);
  EXPECT_NE(again->euiccChallenge, challenge->euiccChallenge);

  auto info1 = es10.get_euicc_info1();
  ASSERT_TRUE(info1);
  EXPECT_FALSE(info1->euiccCiPKIdListForVerification.empty());
  auto info2 = es10.get_euicc_info2();
  ASSERT_TRUE(info2) << info2.error().message;
  EXPECT_EQ(info2->svn, (Bytes{0x02, 0x02, 0x02}));

  auto list = es10.list_notification();
  ASSERT_TRUE(list);
  ASSERT_NE(list->notificationMetadataList(), nullptr);
  EXPECT_TRUE(list->notificationMetadataList()->empty());
  auto all = es10.retrieve_notifications_list();
  ASSERT_TRUE(all);
  auto removed = es10.remove_notification_from_list(42);
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->deleteNotificationStatus,
            sg::NotificationSentResponse::deleteNotificationStatus_values::nothingToDelete);

  auto rat = es10.get_rat();
  ASSERT_TRUE(rat) << rat.error().message;

  sg::CancelSessionRequest cancel;
  cancel.transactionId = Bytes(16, 0x11);
  cancel.reason = 127;
  auto c = es10.cancel_session(cancel);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->cancelSessionResponseOk(), nullptr);  // no session to cancel

  // Outside a session PrepareDownload and a BPP are refused by the card.
  auto pd = es10.prepare_download(sg::PrepareDownloadRequest{});
  EXPECT_FALSE(pd.has_value());
}

/// A channel answering from a script, recording what it was sent.
class ScriptedChannel final : public Es10Channel {
 public:
  expected<Bytes, Es10Error> send(ByteView command) override {
    sent.emplace_back(command.begin(), command.end());
    if (answers.empty()) return unexpected(Es10Error{Es10Error::Kind::Transport, 0, "no answer scripted"});
    auto a = std::move(answers.front());
    answers.pop_front();
    return a;
  }
  std::deque<expected<Bytes, Es10Error>> answers;
  std::vector<Bytes> sent;
};

TEST(Es10Client, TypedErrors) {
  ScriptedChannel ch;
  Es10Client es10(ch);
  ch.answers.push_back(unexpected(Es10Error{Es10Error::Kind::Status, 0x6A88, "status"}));
  auto r = es10.get_eid();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, Es10Error::Kind::Status);
  EXPECT_EQ(r.error().sw, 0x6A88);
  EXPECT_EQ(to_hex(ch.sent.at(0)), "BF3E035C015A");  // GetEuiccDataRequest { tagList 5A }

  ch.answers.push_back(Bytes{0xBF, 0x2E, 0x03, 0x80, 0x01});  // truncated
  auto c = es10.get_euicc_challenge();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, Es10Error::Kind::Format);

  ch.answers.push_back(asn1::encode(sg::GetEuiccChallengeResponse{Bytes(16, 1)}));  // the wrong response
  auto e = es10.get_eid();
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind, Es10Error::Kind::Format);

  auto t = es10.get_euicc_info1();
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, Es10Error::Kind::Transport);
}

TEST(Es10Client, LoadBoundProfilePackageStopsAtTheFirstAnswer) {
  ScriptedChannel ch;
  Es10Client es10(ch);
  const std::vector<Bytes> segments{{0xBF, 0x36, 0x01}, {0xA0, 0x01}, {0xA1, 0x01}};
  for (int i = 0; i < 3; ++i) ch.answers.push_back(Bytes{});
  auto none = es10.load_bound_profile_package(segments);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, Es10Error::Kind::NoAnswer);
  EXPECT_EQ(ch.sent.size(), 3u);

  ch.sent.clear();
  ch.answers.push_back(Bytes{});
  ch.answers.push_back(Bytes{0xBF, 0x37, 0x00});  // an early (empty, undecodable) result
  auto early = es10.load_bound_profile_package(segments);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().kind, Es10Error::Kind::Format);
  EXPECT_EQ(ch.sent.size(), 2u);

  auto bad = es10.load_bound_profile_package(sg::BoundProfilePackage{});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, Es10Error::Kind::Request);
}

}  // namespace
}  // namespace rsp::lpa
