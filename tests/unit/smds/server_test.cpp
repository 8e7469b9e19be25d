// The SM-DS core: ES12 registration and deletion by their registrar, ES11
// discovery with the eUICC authentication of ES9+, and the refusals of
// SGP.22 v2.2.2 §5.7 / §5.8.

#include <gtest/gtest.h>

#include "world.hpp"

namespace rsp::smds {
namespace {

using testing::kSmdsAddress;
using testing::SmdsWorld;
namespace sg = asn1::sgp22;
using messages::es12::DeleteEventRequest;
using messages::es12::RegisterEventRequest;

#define EXPECT_CODE(result, code)                                                                      \
  do {                                                                                                 \
    ASSERT_FALSE(result.has_value());                                                                  \
    EXPECT_TRUE(is(result.error(), code)) << result.error().subject_code << "/" << result.error().reason_code \
                                          << " " << result.error().message;                          \
  } while (0)

const std::string kOtherEid = "89049032123451234512345678901235";

RegisterEventRequest reg(const std::string& eid, const std::string& event_id, bool forward = false) {
  return RegisterEventRequest{std::nullopt, eid, "smdp.test.example", event_id, forward};
}

/// ES11 with `euicc` up to AuthenticateClient, the eUICC's matchingId `matching`.
SmdsResult<sg::AuthenticateClientOkEs11> discover(SmdsWorld& w, smdpp::testing::TestEuicc& euicc,
                                                  const std::optional<std::string>& matching = std::nullopt) {
  auto init = w.server->initiate_authentication(euicc.initiate(kSmdsAddress));
  if (!init) return unexpected(init.error());
  auto client = euicc.authenticate_server(*init, matching);
  if (!client) return smds_error(codes::kExecutionError, "test eUICC: " + client.error());
  return w.server->authenticate_client(*client);
}

TEST(SmdsServer, RegisteredEventsAreDiscoveredByTheirEuiccOnly) {
  SmdsWorld w;
  auto euicc = w.euicc();
  ASSERT_TRUE(w.server->register_event("dp1", reg(euicc.eid(), "E1")));
  ASSERT_TRUE(w.server->register_event("dp2", reg(euicc.eid(), "E2")));
  ASSERT_NE(euicc.eid(), kOtherEid);
  ASSERT_TRUE(w.server->register_event("dp1", reg(kOtherEid, "E3")));
  auto found = discover(w, euicc);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->eventEntries.size(), 2u);  // E3 is another eUICC's
  EXPECT_EQ(found->eventEntries[0].eventId, "E1");  // first in, first out
  EXPECT_EQ(found->eventEntries[1].eventId, "E2");
  EXPECT_EQ(found->eventEntries[0].rspServerAddress, "smdp.test.example");
}

TEST(SmdsServer, AnEuiccWithoutEventsGetsAnEmptyList) {
  SmdsWorld w;
  auto euicc = w.euicc(crypto::Curve::BrainpoolP256r1);
  ASSERT_TRUE(w.server->register_event("dp1", reg(kOtherEid, "E3")));
  auto found = discover(w, euicc);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_TRUE(found->eventEntries.empty());
}

TEST(SmdsServer, AMatchingIdNamesOneEvent) {
  SmdsWorld w;
  auto euicc = w.euicc();
  ASSERT_TRUE(w.server->register_event("dp1", reg(euicc.eid(), "E1")));
  ASSERT_TRUE(w.server->register_event("dp1", reg(euicc.eid(), "E2")));
  auto one = discover(w, euicc, "E2");
  ASSERT_TRUE(one) << one.error().message;
  ASSERT_EQ(one->eventEntries.size(), 1u);
  EXPECT_EQ(one->eventEntries[0].eventId, "E2");
  ASSERT_TRUE(w.server->register_event("dp1", reg(kOtherEid, "E9")));
  auto other = discover(w, euicc, "E9");  // another eUICC's event is unknown to this one
  EXPECT_CODE(other, codes::kEventUnknown);
}

TEST(SmdsServer, OnlyTheRegistrarDeletesItsEvent) {
  SmdsWorld w;
  auto euicc = w.euicc();
  ASSERT_TRUE(w.server->register_event("dp1", reg(euicc.eid(), "E1")));
  auto by_other = w.server->delete_event("dp2", DeleteEventRequest{std::nullopt, euicc.eid(), "E1"});
  EXPECT_CODE(by_other, codes::kEventUnknown);
  EXPECT_EQ(*w.events->count(), 1);
  auto wrong_eid = w.server->delete_event("dp1", DeleteEventRequest{std::nullopt, kOtherEid, "E1"});
  EXPECT_CODE(wrong_eid, codes::kEventUnknown);
  ASSERT_TRUE(w.server->delete_event("dp1", DeleteEventRequest{std::nullopt, euicc.eid(), "E1"}));
  EXPECT_EQ(*w.events->count(), 0);
  auto again = w.server->delete_event("dp1", DeleteEventRequest{std::nullopt, euicc.eid(), "E1"});
  EXPECT_CODE(again, codes::kEventUnknown);
  auto found = discover(w, euicc);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->eventEntries.empty());
}

TEST(SmdsServer, ARegistrarCannotRegisterAnEventIdTwice) {
  SmdsWorld w;
  ASSERT_TRUE(w.server->register_event("dp1", reg(kOtherEid, "E1")));
  auto twice = w.server->register_event("dp1", reg(kOtherEid, "E1"));
  EXPECT_CODE(twice, codes::kEventAlreadyInUse);
  EXPECT_TRUE(w.server->register_event("dp2", reg(kOtherEid, "E1")));  // another registrar's namespace
}

TEST(SmdsServer, AReplayedChallengeIsRefused) {
  SmdsWorld w;
  auto euicc = w.euicc();
  auto init = w.server->initiate_authentication(euicc.initiate(kSmdsAddress));
  ASSERT_TRUE(init);
  auto client = euicc.authenticate_server(*init, std::nullopt);
  ASSERT_TRUE(client);
  ASSERT_TRUE(w.server->authenticate_client(*client));
  auto replay = w.server->authenticate_client(*client);
  EXPECT_CODE(replay, codes::kUnknownTransactionId);
}

TEST(SmdsServer, AnExpiredSessionIsRefused) {
  SmdsWorld w;
  auto euicc = w.euicc();
  auto init = w.server->initiate_authentication(euicc.initiate(kSmdsAddress));
  ASSERT_TRUE(init);
  auto client = euicc.authenticate_server(*init, std::nullopt);
  ASSERT_TRUE(client);
  w.clock.advance(std::chrono::seconds(31));
  auto late = w.server->authenticate_client(*client);
  EXPECT_CODE(late, codes::kUnknownTransactionId);
}

TEST(SmdsServer, AnotherSmdsAddressIsRefused) {
  SmdsWorld w;
  auto euicc = w.euicc();
  auto init = w.server->initiate_authentication(euicc.initiate("smdp.test.example"));
  EXPECT_CODE(init, codes::kInvalidSmdsAddress);
  // A challenge answered for another SM-DS: the eUICC signed that one's address.
  SmdsWorld other(std::string{}, "other.smds.example");
  auto elsewhere = other.server->initiate_authentication(euicc.initiate("other.smds.example"));
  ASSERT_TRUE(elsewhere);
  auto client = euicc.authenticate_server(*elsewhere, std::nullopt);
  ASSERT_TRUE(client);
  auto here = w.server->authenticate_client(*client);
  EXPECT_CODE(here, codes::kUnknownTransactionId);  // not a session of this SM-DS
}

TEST(SmdsServer, AForgedSignatureIsRefused) {
  SmdsWorld w;
  auto euicc = w.euicc();
  auto init = w.server->initiate_authentication(euicc.initiate(kSmdsAddress));
  ASSERT_TRUE(init);
  auto client = euicc.authenticate_server(*init, std::nullopt);
  ASSERT_TRUE(client);
  auto* ok = std::get_if<sg::AuthenticateResponseOk>(&client->authenticateServerResponse.alternative);
  ASSERT_NE(ok, nullptr);
  ok->euiccSignature1.back() ^= 1;
  auto forged = w.server->authenticate_client(*client);
  EXPECT_CODE(forged, codes::kEuiccSignatureInvalid);
}

TEST(SmdsServer, SessionsAreBounded) {
  SmdsWorld w;  // max_sessions 8
  auto euicc = w.euicc();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(w.server->initiate_authentication(euicc.initiate(kSmdsAddress)));
  EXPECT_LE(w.server->session_count(), 8u);
}

TEST(SmdsServer, ForwardingNeedsANextSmds) {
  SmdsWorld w;
  auto refused = w.server->register_event("dp1", reg(kOtherEid, "E1", true));
  EXPECT_CODE(refused, codes::kInvalidRequest);
  EXPECT_EQ(*w.events->count(), 0);
}

TEST(SmdsServer, AForwardedEventAndItsDeletionGoThroughTheOutbox) {
  SmdsWorld w("https://root.smds.example");
  ASSERT_TRUE(w.server->register_event("dp1", reg(kOtherEid, "E1", true)));
  ASSERT_TRUE(w.server->register_event("dp1", reg(kOtherEid, "E2", false)));
  auto due = w.outbox->due();
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);  // E2 was not to be forwarded
  EXPECT_EQ((*due)[0].destination, "https://root.smds.example");
  EXPECT_NE((*due)[0].body.find("registerEvent"), std::string::npos);
  EXPECT_NE((*due)[0].body.find(kSmdsAddress), std::string::npos);  // the next SM-DS points here
  ASSERT_TRUE(w.server->delete_event("dp1", DeleteEventRequest{std::nullopt, kOtherEid, "E1"}));
  ASSERT_TRUE(w.server->delete_event("dp1", DeleteEventRequest{std::nullopt, kOtherEid, "E2"}));
  due = w.outbox->due();
  ASSERT_EQ(due->size(), 2u);
  EXPECT_NE((*due)[1].body.find("deleteEvent"), std::string::npos);
}

}  // namespace
}  // namespace rsp::smds
