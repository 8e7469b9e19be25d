// ES2+ service and its JSON binding.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "rsp/smdpp/es2_codes.hpp"
#include "rsp/smdpp/es2_json.hpp"
#include "rsp/smdpp/sql_catalog.hpp"
#include "world.hpp"

namespace rsp::smdpp::testing {
namespace {

using S = ProfileState;
namespace c = es2codes;

#define EXPECT_CODE(result, code)                                                             \
  do {                                                                                         \
    ASSERT_FALSE(result);                                                                      \
    EXPECT_TRUE(is((result).error(), code))                                                    \
        << (result).error().subject_code << "/" << (result).error().reason_code << " "        \
        << (result).error().message;                                                           \
  } while (0)

TEST(Es2, DownloadConfirmReleaseByIccid) {
  StoreWorld w;
  const std::string iccid = w.add(1);
  auto d = w.es2->download_order("op1", {std::nullopt, iccid, std::nullopt});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, iccid);
  EXPECT_EQ(w.state(iccid), S::Allocated);
  ConfirmOrderRequest cr;
  cr.iccid = iccid;
  cr.confirmation_code = "1234";
  cr.release_flag = false;
  auto conf = w.es2->confirm_order("op1", cr);
  ASSERT_TRUE(conf) << conf.error().message;
  EXPECT_TRUE(is_valid_matching_id(conf->matching_id));
  EXPECT_EQ(conf->matching_id.size(), 23u);
  EXPECT_EQ(conf->smdp_address, "smdp.test.example");
  EXPECT_FALSE(conf->eid);
  EXPECT_EQ(w.state(iccid), S::Confirmed);
  ASSERT_TRUE(w.es2->release_profile("op1", iccid));
  EXPECT_EQ(w.state(iccid), S::Released);
  // Only the hash of the confirmation code is stored.
  auto order = *w.inv->active_order(iccid);
  ASSERT_TRUE(order);
  EXPECT_EQ(order->cc_hash, sha256(as_bytes("1234")));
  EXPECT_EQ(order->cc_attempts_left, 3);
  auto stored = w.db->query("SELECT * FROM orders");
  for (const auto& row : *stored)
    for (std::size_t i = 0; i < row.size(); ++i) EXPECT_NE(row.opt_text(i), std::optional<std::string>("1234"));
  auto h = *w.inv->history(iccid);
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[1].cause, "ES2+ DownloadOrder");
  EXPECT_EQ(h[3].cause, "ES2+ ReleaseProfile");
  EXPECT_EQ(h[3].order_id, order->id);
}

TEST(Es2, DownloadByTypeWithEidLinksAndReleases) {
  StoreWorld w;
  w.add(1, "op1", "gold");
  w.add(2, "op1", "gold");
  w.add(3, "op1", "silver");
  auto d = w.es2->download_order("op1", {std::string(kEid), std::nullopt, std::string("gold")});
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, test_iccid(1));
  EXPECT_EQ(w.state(*d), S::Linked);
  ConfirmOrderRequest cr;
  cr.iccid = *d;
  cr.matching_id = "MY-MATCHING-ID-1";
  cr.release_flag = true;
  auto conf = w.es2->confirm_order("op1", cr);
  ASSERT_TRUE(conf) << conf.error().message;
  EXPECT_EQ(conf->matching_id, "MY-MATCHING-ID-1");
  EXPECT_EQ(conf->eid, std::optional<std::string>(kEid));
  EXPECT_EQ(w.state(*d), S::Released);

  auto d2 = w.es2->download_order("op1", {std::nullopt, std::nullopt, std::string("gold")});
  ASSERT_TRUE(d2);
  EXPECT_EQ(*d2, test_iccid(2));
  auto none = w.es2->download_order("op1", {std::nullopt, std::nullopt, std::string("gold")});
  EXPECT_CODE(none, c::kProfileTypeUnavailable);
  auto unknown = w.es2->download_order("op1", {std::nullopt, std::nullopt, std::string("platinum")});
  EXPECT_CODE(unknown, c::kProfileTypeUnknown);
}

TEST(Es2, ParameterAndStateErrors) {
  StoreWorld w;
  const std::string iccid = w.add(1);
  EXPECT_CODE(w.es2->download_order("op1", {}), c::kConditionalMissing);
  EXPECT_CODE(w.es2->download_order("op1", {std::string("123"), iccid, std::nullopt}), c::kEidInvalid);
  EXPECT_CODE(w.es2->download_order("op1", {std::nullopt, test_iccid(9), std::nullopt}), c::kIccidUnknown);
  EXPECT_CODE(w.es2->download_order("nobody", {std::nullopt, iccid, std::nullopt}), c::kRequesterUnknown);
  ConfirmOrderRequest cr;
  cr.iccid = iccid;
  EXPECT_CODE(w.es2->confirm_order("op1", cr), c::kIccidInvalidTransition);  // not ordered yet
  EXPECT_CODE(w.es2->release_profile("op1", iccid), c::kIccidInvalidTransition);
  CancelOrderRequest cancel;
  cancel.iccid = iccid;
  EXPECT_CODE(w.es2->cancel_order("op1", cancel), c::kIccidInvalidTransition);

  ASSERT_TRUE(w.es2->download_order("op1", {std::string(kEid), iccid, std::nullopt}));
  EXPECT_CODE(w.es2->download_order("op1", {std::nullopt, iccid, std::nullopt}), c::kIccidInUse);
  cr.eid = "89049032123451234512345678900000";
  EXPECT_CODE(w.es2->confirm_order("op1", cr), c::kEidInvalidAssociation);
  cr.eid.reset();
  cr.matching_id = "bad$id";
  EXPECT_CODE(w.es2->confirm_order("op1", cr), c::kMatchingIdInvalid);
  cr.matching_id.reset();
  cr.release_flag = true;
  ASSERT_TRUE(w.es2->confirm_order("op1", cr));
  EXPECT_CODE(w.es2->release_profile("op1", iccid), c::kIccidInvalidTransition);  // already released
  EXPECT_EQ(w.state(iccid), S::Released);
}

TEST(Es2, MatchingIdsAreUnique) {
  StoreWorld w;
  for (int i = 1; i <= 2; ++i) ASSERT_TRUE(w.es2->download_order("op1", {std::nullopt, w.add(i), std::nullopt}));
  ConfirmOrderRequest cr;
  cr.iccid = test_iccid(1);
  cr.matching_id = "SAME-ID";
  ASSERT_TRUE(w.es2->confirm_order("op1", cr));
  cr.iccid = test_iccid(2);
  EXPECT_CODE(w.es2->confirm_order("op1", cr), c::kMatchingIdInUse);
  cr.matching_id.reset();
  auto generated = w.es2->confirm_order("op1", cr);
  ASSERT_TRUE(generated);
  EXPECT_NE(generated->matching_id, "SAME-ID");
}

// An operator choosing a matchingId learns nothing of the others': the same
// one is accepted for another operator's order.
TEST(Es2, MatchingIdsAreUniquePerOperator) {
  StoreWorld w;
  const std::string mine = w.add(1, "op1"), theirs = w.add(2, "op2"), second = w.add(3, "op2");
  ASSERT_TRUE(w.es2->download_order("op1", {std::nullopt, mine, std::nullopt}));
  ASSERT_TRUE(w.es2->download_order("op2", {std::nullopt, theirs, std::nullopt}));
  ASSERT_TRUE(w.es2->download_order("op2", {std::nullopt, second, std::nullopt}));
  ConfirmOrderRequest cr;
  cr.iccid = mine;
  cr.matching_id = "SHARED-ID";
  ASSERT_TRUE(w.es2->confirm_order("op1", cr));
  cr.iccid = theirs;
  auto other = w.es2->confirm_order("op2", cr);
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ(other->matching_id, "SHARED-ID");
  cr.iccid = second;  // but twice for the same operator: in use
  EXPECT_CODE(w.es2->confirm_order("op2", cr), c::kMatchingIdInUse);
}

TEST(Es2, CancelOrderMakesTheProfileAvailableOrUnavailable) {
  StoreWorld w;
  const std::string a = w.add(1), b = w.add(2);
  ASSERT_TRUE(w.es2->download_order("op1", {std::string(kEid), a, std::nullopt}));
  ConfirmOrderRequest cr;
  cr.iccid = a;
  cr.release_flag = true;
  auto conf = w.es2->confirm_order("op1", cr);
  ASSERT_TRUE(conf);
  CancelOrderRequest cancel{a, std::nullopt, std::string("OTHER"), FinalProfileStatus::Available};
  EXPECT_CODE(w.es2->cancel_order("op1", cancel), c::kMatchingIdInvalidAssociation);
  cancel.matching_id = conf->matching_id;
  cancel.eid = "89049032123451234512345678900000";
  EXPECT_CODE(w.es2->cancel_order("op1", cancel), c::kEidInvalidAssociation);
  cancel.eid = kEid;
  ASSERT_TRUE(w.es2->cancel_order("op1", cancel));
  EXPECT_EQ(w.state(a), S::Available);
  EXPECT_FALSE(*w.inv->active_order(a));
  // Available again: a new order works and the old matchingId is not reused.
  ASSERT_TRUE(w.es2->download_order("op1", {std::nullopt, a, std::nullopt}));
  cr.matching_id = conf->matching_id;
  cr.release_flag = false;
  EXPECT_CODE(w.es2->confirm_order("op1", cr), c::kMatchingIdInUse);

  ASSERT_TRUE(w.es2->download_order("op1", {std::nullopt, b, std::nullopt}));
  ASSERT_TRUE(w.es2->cancel_order("op1", {b, std::nullopt, std::nullopt, FinalProfileStatus::Unavailable}));
  EXPECT_EQ(w.state(b), S::Unavailable);
  EXPECT_CODE(w.es2->download_order("op1", {std::nullopt, b, std::nullopt}), c::kIccidInUse);
}

TEST(Es2, CancelOrderCannotMakeAProfileAvailableOnceItsBppWasIssued) {
  // A profile whose Bound Profile Package went to an eUICC may be on that
  // card: CancelOrder(Available) would let its ICCID be ordered for another.
  StoreWorld w;
  SqlProfileCatalog catalog(w.inv, w.rng);
  const std::string a = w.add(1), b = w.add(2);
  std::map<std::string, std::string> mid;
  for (const auto& iccid : {a, b}) {
    ASSERT_TRUE(w.es2->download_order("op1", {std::string(kEid), iccid, std::nullopt}));
    ConfirmOrderRequest cr;
    cr.iccid = iccid;
    cr.release_flag = true;
    auto conf = w.es2->confirm_order("op1", cr);
    ASSERT_TRUE(conf);
    mid[iccid] = conf->matching_id;
    ASSERT_TRUE(catalog.record_bpp_issued(IssuedDownload{conf->matching_id, kEid, Bytes(16, 1), crypto::Curve::NistP256,
                                                         Bytes{}}));
  }
  // a: downloaded, no installation result yet.
  EXPECT_EQ(w.state(a), S::Downloaded);
  EXPECT_CODE(w.es2->cancel_order("op1", {a, std::nullopt, std::nullopt, FinalProfileStatus::Available}),
              c::kIccidInvalidTransition);
  EXPECT_EQ(w.state(a), S::Downloaded);
  ASSERT_TRUE(*w.inv->active_order(a));
  // b: the eUICC reported a failed installation; still not made available.
  ASSERT_TRUE(catalog.record(mid[b], OrderEvent::InstallFailed));
  EXPECT_EQ(w.state(b), S::Error);
  EXPECT_CODE(w.es2->cancel_order("op1", {b, std::nullopt, std::nullopt, FinalProfileStatus::Available}),
              c::kIccidInvalidTransition);
  EXPECT_EQ(w.state(b), S::Error);
  // Unavailable stays allowed for both.
  ASSERT_TRUE(w.es2->cancel_order("op1", {a, std::nullopt, std::nullopt, FinalProfileStatus::Unavailable}));
  ASSERT_TRUE(w.es2->cancel_order("op1", {b, std::nullopt, std::nullopt, FinalProfileStatus::Unavailable}));
  EXPECT_EQ(w.state(a), S::Unavailable);
  EXPECT_EQ(w.state(b), S::Unavailable);
  for (const auto& iccid : {a, b}) {
    auto h = w.inv->history(iccid);
    ASSERT_TRUE(h);
    for (const auto& t : *h)
      if (t.from) {
        EXPECT_NE(t.to, S::Available) << t.cause;
      }
  }
}

TEST(Es2, OnlyTheOperatorsRecordedStatementReturnsAProfileWithAnIssuedBppToThePool) {
  StoreWorld w;
  SqlProfileCatalog catalog(w.inv, w.rng);
  const std::string a = w.add(1);
  // Nothing issued yet: CancelOrder is the way back, reinstating is refused.
  EXPECT_CODE(w.inv->reinstate_profile(a, "never ordered"), c::kIccidInvalidTransition);
  ASSERT_TRUE(w.es2->download_order("op1", {std::string(kEid), a, std::nullopt}));
  ConfirmOrderRequest cr;
  cr.iccid = a;
  cr.release_flag = true;
  auto conf = w.es2->confirm_order("op1", cr);
  ASSERT_TRUE(conf);
  EXPECT_CODE(w.inv->reinstate_profile(a, "not downloaded yet"), c::kIccidInvalidTransition);
  ASSERT_TRUE(catalog.record_bpp_issued(
      IssuedDownload{conf->matching_id, kEid, Bytes(16, 1), crypto::Curve::NistP256, Bytes{}}));
  ASSERT_EQ(w.state(a), S::Downloaded);
  // A reason is required, on one line.
  EXPECT_CODE(w.inv->reinstate_profile(a, ""), c::kMandatoryMissing);
  EXPECT_CODE(w.inv->reinstate_profile(a, "two\nlines"), c::kInvalidParameter);
  EXPECT_EQ(w.state(a), S::Downloaded);

  auto t = w.inv->reinstate_profile(a, "eUICC returned to the vendor and destroyed, ticket 4711");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->from, S::Downloaded);
  EXPECT_EQ(t->to, S::Available);
  EXPECT_EQ(w.state(a), S::Available);
  EXPECT_FALSE(*w.inv->active_order(a));
  // Logged in the history: the statement, the eUICC the package went to and the reason.
  auto h = w.inv->history(a);
  ASSERT_TRUE(h);
  ASSERT_FALSE(h->empty());
  const auto& last = h->back();
  EXPECT_EQ(last.from, S::Downloaded);
  EXPECT_EQ(last.to, S::Available);
  EXPECT_EQ(last.cause, t->cause);
  EXPECT_EQ(last.order_id, t->order_id);
  EXPECT_NE(last.cause.find("not on any eUICC"), std::string::npos) << last.cause;
  EXPECT_NE(last.cause.find(kEid), std::string::npos) << last.cause;
  EXPECT_NE(last.cause.find("ticket 4711"), std::string::npos) << last.cause;

  // A new order starts afresh: before its own BPP, CancelOrder(Available) works.
  ASSERT_TRUE(w.es2->download_order("op1", {std::nullopt, a, std::nullopt}));
  ASSERT_TRUE(w.es2->cancel_order("op1", {a, std::nullopt, std::nullopt, FinalProfileStatus::Available}));
  EXPECT_EQ(w.state(a), S::Available);
}

TEST(Es2, OperatorsAreIsolated) {
  StoreWorld w;
  const std::string mine = w.add(1, "op1", "gold");
  w.add(2, "op2", "gold");
  // op2 cannot see or touch op1's profile: reported as unknown.
  EXPECT_CODE(w.es2->download_order("op2", {std::nullopt, mine, std::nullopt}), c::kIccidUnknown);
  ASSERT_TRUE(w.es2->download_order("op1", {std::nullopt, mine, std::nullopt}));
  ConfirmOrderRequest cr;
  cr.iccid = mine;
  EXPECT_CODE(w.es2->confirm_order("op2", cr), c::kIccidUnknown);
  EXPECT_CODE(w.es2->cancel_order("op2", {mine, std::nullopt, std::nullopt, FinalProfileStatus::Available}),
              c::kIccidUnknown);
  EXPECT_CODE(w.es2->release_profile("op2", mine), c::kIccidUnknown);
  // By type, each operator draws from its own profiles only.
  auto d = w.es2->download_order("op2", {std::nullopt, std::nullopt, std::string("gold")});
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, test_iccid(2));
  EXPECT_CODE(w.es2->download_order("op2", {std::nullopt, std::nullopt, std::string("gold")}),
              c::kProfileTypeUnavailable);
  EXPECT_EQ(w.state(mine), S::Allocated);
}

nlohmann::json call(StoreWorld& w, const std::string& function, nlohmann::json body) {
  auto r = handle_es2_request(*w.es2, "/gsma/rsp2/es2plus/" + function, body.dump());
  EXPECT_EQ(r.http_status, 200);
  return nlohmann::json::parse(r.body);
}

nlohmann::json header(const std::string& op) {
  return {{"functionRequesterIdentifier", op}, {"functionCallIdentifier", "call-1"}};
}

TEST(Es2Json, FullOrderOverJson) {
  StoreWorld w;
  const std::string iccid = w.add(1);
  auto d = call(w, "downloadOrder", {{"header", header("op1")}, {"profileType", "gold"}});
  EXPECT_EQ(d["header"]["functionExecutionStatus"]["status"], "Executed-Success");
  EXPECT_EQ(d["iccid"], iccid);
  auto c = call(w, "confirmOrder",
                {{"header", header("op1")}, {"iccid", iccid}, {"eid", kEid}, {"releaseFlag", false}});
  EXPECT_EQ(c["header"]["functionExecutionStatus"]["status"], "Executed-Success") << c.dump();
  EXPECT_EQ(c["eid"], kEid);
  EXPECT_EQ(c["smdpAddress"], "smdp.test.example");
  EXPECT_TRUE(c["matchingId"].is_string());
  auto r = call(w, "releaseProfile", {{"header", header("op1")}, {"iccid", iccid}});
  EXPECT_EQ(r["header"]["functionExecutionStatus"]["status"], "Executed-Success");
  EXPECT_EQ(w.state(iccid), S::Released);
  auto x = call(w, "cancelOrder",
                {{"header", header("op1")}, {"iccid", iccid}, {"finalProfileStatusIndicator", "Unavailable"}});
  EXPECT_EQ(x["header"]["functionExecutionStatus"]["status"], "Executed-Success");
  EXPECT_EQ(w.state(iccid), S::Unavailable);
}

TEST(Es2Json, FailuresCarryStatusCodeData) {
  StoreWorld w;
  w.add(1);
  auto f = call(w, "downloadOrder", {{"header", header("op1")}, {"iccid", test_iccid(7)}});
  const auto& st = f["header"]["functionExecutionStatus"];
  EXPECT_EQ(st["status"], "Failed");
  EXPECT_EQ(st["statusCodeData"]["subjectCode"], "8.2.1");
  EXPECT_EQ(st["statusCodeData"]["reasonCode"], "3.9");
  EXPECT_FALSE(f.contains("iccid"));
}

TEST(Es2Json, DecoderIsStrict) {
  const std::string h = R"("header":{"functionRequesterIdentifier":"op1","functionCallIdentifier":"1"})";
  auto ok = decode_es2_request("/gsma/rsp2/es2plus/confirmOrder",
                               "{" + h + R"(,"iccid":"1","releaseFlag":true,"confirmationCode":"12"})");
  ASSERT_TRUE(ok) << ok.error().message;
  const auto& cr = std::get<Es2ConfirmOrder>(ok->function).request;
  EXPECT_TRUE(cr.release_flag);
  EXPECT_EQ(cr.confirmation_code, std::optional<std::string>("12"));
  EXPECT_EQ(ok->header.function_requester_identifier, "op1");

  struct Case {
    std::string path, body;
  };
  const Case bad[] = {
      {"/gsma/rsp2/es2plus/confirmOrder", "{" + h + R"(,"iccid":"1"})"},                       // no releaseFlag
      {"/gsma/rsp2/es2plus/confirmOrder", "{" + h + R"(,"iccid":"1","releaseFlag":"yes"})"},   // wrong type
      {"/gsma/rsp2/es2plus/downloadOrder", "{" + h + R"(,"iccid":1})"},                        // wrong type
      {"/gsma/rsp2/es2plus/downloadOrder", "{" + h + R"(,"extra":"x"})"},                      // unknown member
      {"/gsma/rsp2/es2plus/downloadOrder", R"({"iccid":"1"})"},                                // no header
      {"/gsma/rsp2/es2plus/cancelOrder", "{" + h + R"(,"iccid":"1","finalProfileStatusIndicator":"Gone"})"},
      {"/gsma/rsp2/es2plus/releaseProfile", "{" + h + "}"},
      {"/gsma/rsp2/es2plus/noSuchFunction", "{" + h + "}"},
      {"/gsma/rsp2/es2plus/downloadOrder", "[1,2]"},
      {"/gsma/rsp2/es2plus/downloadOrder", "{"},
      {"/other", "{}"},
  };
  for (const auto& b : bad) EXPECT_FALSE(decode_es2_request(b.path, b.body)) << b.path << " " << b.body;
}

TEST(Es2Json, AuthenticatedCallerMustMatchTheHeader) {
  StoreWorld w;
  const std::string iccid = w.add(1);
  nlohmann::json body = {{"header", header("op1")}, {"iccid", iccid}};
  auto r = handle_es2_request(*w.es2, "/gsma/rsp2/es2plus/downloadOrder", body.dump(), std::string("op2"));
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["header"]["functionExecutionStatus"]["statusCodeData"]["subjectCode"], "1.1");
  EXPECT_EQ(w.state(iccid), S::Available);
  auto nf = handle_es2_request(*w.es2, "/elsewhere", "{}");
  EXPECT_EQ(nf.http_status, 404);
}

}  // namespace
}  // namespace rsp::smdpp::testing
