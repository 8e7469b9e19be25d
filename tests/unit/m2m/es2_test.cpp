// The ES2 JSON binding (MNO -> SM-DP): every request survives a round trip,
// DownloadProfile takes exactly one of iccid and profileType, malformed and
// unknown members are refused by name; the SM-DP's answers and the callbacks
// to the MNO decode strictly.
#include "rsp/m2m/es2.hpp"

#include <gtest/gtest.h>

#include "rsp/m2m/eis_json.hpp"
#include "test_support/sample_eis.hpp"

namespace rsp::m2m::es2 {
namespace {

using nlohmann::json;

const std::string kEid = "89049032123451234512345678901235";
const std::string kIccid = "8900100000000000001";

Error refused(Function f, const json& body) {
  auto r = decode_request(f, body.dump());
  EXPECT_FALSE(r) << body.dump();
  return r ? Error{} : r.error();
}

json download_body() {
  return json{{"eid", kEid}, {"iccid", kIccid}, {"smsrId", "smsr-1"}, {"enableProfile", true}};
}

TEST(Es2, EveryRequestRoundTrips) {
  const std::vector<Request> all = {
      GetEis{kEid, "smsr-1"},
      DownloadProfile{kEid, kIccid, "", "smsr-1", true, 600},
      DownloadProfile{kEid, "", "m2m-data", "smsr-1", false, std::nullopt},
      UpdatePolicyRules{kEid, kIccid, "smsr-1", {PolicyRule{PolicyAction::Delete, PolicyQualification::AutoDelete}}},
      UpdatePolicyRules{kEid, kIccid, "smsr-1", {}},
      UpdateSubscriptionAddress{kEid, kIccid, "smsr-1", SubscriptionAddress{"491701234567", ""}},
      AuditEis{kEid, "smsr-1", {kIccid}, 60},
      AuditEis{kEid, "smsr-1", {}, std::nullopt},
      EnableProfile{kEid, kIccid, "smsr-1", std::nullopt},
      DisableProfile{kEid, kIccid, "smsr-1", 30},
      DeleteIsdp{kEid, kIccid, "smsr-1", std::nullopt},
      UpdateConnectivityParameters{kEid, kIccid, "smsr-1", from_hex("A0038001FF").value(), 120},
  };
  for (const auto& r : all) {
    auto back = decode_request(function_of(r), encode_request(r, "call-1"));
    ASSERT_TRUE(back) << encode_request(r) << ": " << back.error().message;
    EXPECT_EQ(*back, r) << encode_request(r);
    EXPECT_EQ(eid_in(*back), kEid);
    EXPECT_EQ(smsr_in(*back), "smsr-1");
  }
}

TEST(Es2, PathsAndNames) {
  EXPECT_EQ(function(Function::DownloadProfile).name, "ES2.DownloadProfile");
  EXPECT_EQ(function(Function::DeleteIsdp).path, "/gsma/m2m/es2/deleteISDP");
  EXPECT_EQ(function_named("ES2.UpdatePolicyRules"), Function::UpdatePolicyRules);
  EXPECT_FALSE(function_named("ES3.CreateISDP"));
  EXPECT_EQ(std::size(kFunctions), std::variant_size_v<Request>);
  EXPECT_TRUE(is_async(Function::DownloadProfile));
  EXPECT_FALSE(is_async(Function::GetEis));
  EXPECT_FALSE(is_async(Function::UpdateSubscriptionAddress));
  EXPECT_TRUE(is_async(Function::UpdateConnectivityParameters));
  EXPECT_EQ(function(Function::UpdateConnectivityParameters).path, "/gsma/m2m/es2/updateConnectivityParameters");
}

TEST(Es2, ConnectivityParametersAreChecked) {
  json b{{"eid", kEid}, {"iccid", kIccid}, {"smsrId", "smsr-1"}, {"connectivityParameters", "A0038001FF"}};
  EXPECT_TRUE(decode_request(Function::UpdateConnectivityParameters, b.dump()));
  for (const char* bad : {"", "A00580", "zz", "A3038001FF", "A0038001FFA0038001FF"}) {
    b["connectivityParameters"] = bad;
    auto e = decode_request(Function::UpdateConnectivityParameters, b.dump());
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().message.rfind("connectivityParameters", 0), 0U) << e.error().message;
  }
  b.erase("connectivityParameters");
  EXPECT_FALSE(decode_request(Function::UpdateConnectivityParameters, b.dump()));
}

TEST(Es2, DownloadProfileNamesExactlyOneProfile) {
  json both = download_body();
  both["profileType"] = "m2m-data";
  EXPECT_EQ(refused(Function::DownloadProfile, both).kind, Error::Kind::Invalid);
  json neither = download_body();
  neither.erase("iccid");
  auto e = refused(Function::DownloadProfile, neither);
  EXPECT_EQ(e.kind, Error::Kind::Missing);
  EXPECT_EQ(e.message, "iccid or profileType is missing");
  json by_type = neither;
  by_type["profileType"] = "m2m-data";
  auto r = decode_request(Function::DownloadProfile, by_type.dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<DownloadProfile>(*r).profile_type, "m2m-data");
  // enableProfile is optional (false).
  json plain = download_body();
  plain.erase("enableProfile");
  r = decode_request(Function::DownloadProfile, plain.dump());
  ASSERT_TRUE(r);
  EXPECT_FALSE(std::get<DownloadProfile>(*r).enable);
}

TEST(Es2, MissingAndInvalidMembersAreNamed) {
  for (const char* member : {"eid", "smsrId"}) {
    json b = download_body();
    b.erase(member);
    auto e = refused(Function::DownloadProfile, b);
    EXPECT_EQ(e.kind, Error::Kind::Missing) << member;
    EXPECT_EQ(e.message, std::string(member) + " is missing");
  }
  const std::vector<std::pair<const char*, json>> bad = {
      {"eid", "8904903212345123451234567890123"},  // 31 digits
      {"eid", 42},
      {"iccid", "89001000000000000ab"},
      {"smsrId", ""},
      {"smsrId", std::string(300, 'x')},
      {"enableProfile", "yes"},
      {"validityPeriod", 0},
      {"validityPeriod", -5},
      {"validityPeriod", 1.5},
  };
  for (const auto& [member, value] : bad) {
    json b = download_body();
    b[member] = value;
    auto e = refused(Function::DownloadProfile, b);
    EXPECT_EQ(e.kind, Error::Kind::Invalid) << member;
    EXPECT_EQ(e.message.rfind(member, 0), 0u) << e.message;
    // The value is never quoted back.
    if (value.is_string() && !value.get<std::string>().empty()) {
      EXPECT_EQ(e.message.find(value.get<std::string>()), std::string::npos);
    }
  }
  EXPECT_EQ(refused(Function::UpdatePolicyRules, json{{"eid", kEid}, {"iccid", kIccid}, {"smsrId", "s"}}).message,
            "pol2 is missing");
  EXPECT_EQ(refused(Function::UpdatePolicyRules,
                    json{{"eid", kEid}, {"iccid", kIccid}, {"smsrId", "s"}, {"pol2", json::array({"x"})}})
                .kind,
            Error::Kind::Invalid);
  EXPECT_EQ(
      refused(Function::UpdateSubscriptionAddress, json{{"eid", kEid}, {"iccid", kIccid}, {"smsrId", "s"}}).message,
      "subscriptionAddress is missing");
  EXPECT_EQ(refused(Function::AuditEis, json{{"eid", kEid}, {"smsrId", "s"}, {"iccidList", json::array({"12"})}}).kind,
            Error::Kind::Invalid);
  EXPECT_EQ(refused(Function::AuditEis, json{{"eid", kEid}, {"smsrId", "s"}, {"iccidList", "x"}}).kind,
            Error::Kind::Invalid);
  json too_many = json::array();
  for (std::size_t i = 0; i <= kMaxIccids; ++i) too_many.push_back(kIccid);
  EXPECT_EQ(refused(Function::AuditEis, json{{"eid", kEid}, {"smsrId", "s"}, {"iccidList", too_many}}).kind,
            Error::Kind::Invalid);
}

TEST(Es2, UnknownAndForeignMembersAreRefused) {
  json b = download_body();
  b["colour"] = "red";
  EXPECT_EQ(refused(Function::DownloadProfile, b).message, "unknown member colour");
  // GetEIS takes no iccid; DeleteISDP no enableProfile.
  EXPECT_EQ(refused(Function::GetEis, json{{"eid", kEid}, {"smsrId", "s"}, {"iccid", kIccid}}).message,
            "unknown member iccid");
  EXPECT_EQ(refused(Function::DeleteIsdp, download_body()).message, "unknown member enableProfile");
  for (const char* text : {"", "[]", "null", "{", "\"x\""})
    EXPECT_FALSE(decode_request(Function::GetEis, text)) << text;
  json call = download_body();
  call["functionCallIdentifier"] = 7;
  EXPECT_FALSE(decode_request(Function::DownloadProfile, call.dump()));
}

TEST(Es2, AnswersRoundTrip) {
  const std::vector<Answer> all = {
      Answer{"Executed-Success", "", "", "", 0, std::nullopt},
      Answer{"Failed", "8.2.1", "3.9", "no such profile", 0, std::nullopt},
      Answer{"Executed-Success", "", "", "", 0, json{{"eid", kEid}}},
      Answer{"", "", "", "", 12, std::nullopt},
  };
  for (const auto& a : all) {
    auto back = decode_answer(encode_answer(a));
    ASSERT_TRUE(back) << encode_answer(a) << ": " << back.error().message;
    EXPECT_EQ(*back, a);
  }
  EXPECT_TRUE(decode_answer(encode_answer(all[3]))->accepted());
  EXPECT_FALSE(decode_answer(R"({"operationId":0,"state":"accepted"})"));
  EXPECT_FALSE(decode_answer(R"({"operationId":3,"state":"done"})"));
  EXPECT_FALSE(decode_answer(R"({"header":{"functionExecutionStatus":{"status":"Fine"}}})"));
  EXPECT_FALSE(decode_answer(R"({"header":{}})"));
  EXPECT_FALSE(decode_answer(R"({"header":{"functionExecutionStatus":{"status":"Failed"}},"x":1})"));
  EXPECT_FALSE(decode_answer(R"({"header":{"functionExecutionStatus":{"status":"Failed"}},"eis":[]})"));
}

/// The EIS an SM-SR change notification carries: no key.
Eis keyless_eis() { return *eis_from_json(test_support::keyless_sample_eis(kEid)); }

TEST(Es2, CallbacksRoundTrip) {
  const std::vector<Callback> all = {
      Result{"op-7", Function::DownloadProfile, 7, kEid, kIccid, "Executed-Success", "", "", std::nullopt},
      Result{"op-8", Function::DownloadProfile, 8, kEid, "", "Failed", "8.1", "3.8", std::nullopt},
      Result{"op-9", Function::AuditEis, 9, kEid, "", "Executed-Success", "", "", json{{"eid", kEid}}},
      Notification{"n-1", std::string(kProfileEnabledNotification), kEid, kIccid, "2026-12-04T17:00:00Z",
                   std::nullopt},
      // The SM-SR change: the EIS (its smsrId the new SM-SR) instead of eid and iccid.
      Notification{"n-2", std::string(kSmsrChangeNotification), kEid, "", "2026-12-04T17:00:00Z", keyless_eis()},
  };
  for (const auto& c : all) {
    auto back = decode_callback(encode_callback(c));
    ASSERT_TRUE(back) << encode_callback(c) << ": " << back.error().message;
    EXPECT_EQ(*back, c);
  }
  EXPECT_EQ(json::parse(encode_callback(all[4]))["eis"].value("smsrId", ""), "smsr-2");
  EXPECT_FALSE(json::parse(encode_callback(all[4])).contains("iccid"));
  EXPECT_FALSE(json::parse(encode_callback(all[4])).contains("eid"));
  // The SM-SR change without its EIS, with an iccid, or with an EIS
  // carrying the ISD-R's keys, is refused.
  json moved = json::parse(encode_callback(all[4]));
  const json eis = moved["eis"];
  moved.erase("eis");
  EXPECT_EQ(decode_callback(moved.dump()).error().message, "eis is missing");
  moved["eis"] = eis;
  moved["iccid"] = kIccid;
  EXPECT_FALSE(decode_callback(moved.dump()));
  moved.erase("iccid");
  moved["eis"]["isdR"]["scp81Psk"] = {{"identity", "0102"}, {"key", std::string(32, '3')}};
  auto keyed = decode_callback(moved.dump());
  ASSERT_FALSE(keyed);
  EXPECT_EQ(keyed.error().message.find("3333"), std::string::npos);
  moved["eis"] = eis;
  moved["eis"].erase("smsrId");
  EXPECT_FALSE(decode_callback(moved.dump()));
  // A synchronous function never calls back; nor does an unknown notification.
  json r = json::parse(encode_callback(all[0]));
  r["function"] = "ES2.GetEIS";
  EXPECT_FALSE(decode_callback(r.dump()));
  json n = json::parse(encode_callback(all[3]));
  n["function"] = "ES2.HandleSomethingNotification";
  EXPECT_FALSE(decode_callback(n.dump()));
  for (const char* when : {"2026-12-04 17:00:00Z", "2026-12-04T17:00:00", "x"}) {
    n = json::parse(encode_callback(all[3]));
    n["completionTimestamp"] = when;
    auto e = decode_callback(n.dump());
    ASSERT_FALSE(e) << when;
    EXPECT_EQ(e.error().message.rfind("completionTimestamp", 0), 0u);
  }
  r = json::parse(encode_callback(all[0]));
  r.erase("functionExecutionStatus");
  EXPECT_EQ(decode_callback(r.dump()).error().message, "functionExecutionStatus is missing");
}

}  // namespace
}  // namespace rsp::m2m::es2
