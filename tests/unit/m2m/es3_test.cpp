// The ES3 JSON binding: every request survives a round trip, each malformed
// member is refused by name (missing vs invalid), unknown members and other
// functions' members are refused; the SM-SR's result decodes strictly.
#include "rsp/m2m/es3.hpp"

#include <gtest/gtest.h>

#include "rsp/m2m/eis_json.hpp"
#include "test_support/sample_eis.hpp"

namespace rsp::m2m::es3 {
namespace {

using nlohmann::json;

const std::string kEid = "89049032123451234512345678901235";
const std::string kIccid = "8900100000000000001";

Request round_trip(const Request& r) {
  auto back = decode_request(function_of(r), encode_request(r, "call-1"));
  EXPECT_TRUE(back) << (back ? "" : back.error().message);
  return back ? *back : Request{};
}

Error refused(Function f, const json& body) {
  auto r = decode_request(f, body.dump());
  EXPECT_FALSE(r) << body.dump();
  return r ? Error{} : r.error();
}

json create_body() {
  return json{{"eid", kEid}, {"iccid", kIccid}, {"mnoId", "mno-a"}, {"requiredMemory", 65536}, {"moreToDo", true}};
}
json send_body() { return json{{"eid", kEid}, {"sdAid", "A0000005591010FFFFFFFF8900001000"}, {"data", "AA0422020000"}}; }

TEST(Es3, EveryRequestRoundTrips) {
  const std::vector<Request> all = {
      GetEis{kEid},
      AuditEis{kEid, 600},
      CreateIsdp{kEid, kIccid, "mno-a", 65536, true, std::nullopt},
      SendData{kEid, from_hex("A0000005591010FFFFFFFF8900001000").value(), from_hex("AA03220100").value(), true, 60},
      ProfileDownloadCompleted{kEid, kIccid, "m2m-data", SubscriptionAddress{"491701234567", "262011234567890"},
                               {PolicyRule{PolicyAction::Delete, PolicyQualification::AutoDelete}}},
      ProfileDownloadCompleted{kEid, kIccid, "", std::nullopt, {}},
      EnableProfile{kEid, kIccid, std::nullopt},
      DisableProfile{kEid, kIccid, 30},
      DeleteIsdp{kEid, kIccid, std::nullopt},
      UpdatePolicyRules{kEid, kIccid, {PolicyRule{PolicyAction::Disable, PolicyQualification::NotAllowed}}},
      UpdatePolicyRules{kEid, kIccid, {}},
      UpdateSubscriptionAddress{kEid, kIccid, SubscriptionAddress{"491701234567", "262011234567890"}},
      UpdateConnectivityParameters{kEid, kIccid, from_hex("A00A8008" "0891214365870900").value(), 120},
      UpdateConnectivityParameters{kEid, kIccid, from_hex("A0038001FF").value(), std::nullopt},
  };
  for (const auto& r : all) {
    EXPECT_EQ(round_trip(r), r) << encode_request(r);
    EXPECT_EQ(function_of(round_trip(r)), function_of(r));
  }
}

TEST(Es3, PathsAndNames) {
  EXPECT_EQ(function(Function::SendData).name, "ES3.SendData");
  EXPECT_EQ(function(Function::DeleteIsdp).path, "/gsma/m2m/es3/deleteISDP");
  EXPECT_EQ(function_named("ES3.CreateISDP"), Function::CreateIsdp);
  EXPECT_FALSE(function_named("ES4.EnableProfile"));
  EXPECT_EQ(std::size(kFunctions), std::variant_size_v<Request>);
}

TEST(Es3, MissingMembersAreNamed) {
  for (const char* member : {"eid", "iccid", "mnoId", "requiredMemory"}) {
    json b = create_body();
    b.erase(member);
    auto e = refused(Function::CreateIsdp, b);
    EXPECT_EQ(e.kind, Error::Kind::Missing) << member;
    EXPECT_EQ(e.message, std::string(member) + " is missing");
  }
  for (const char* member : {"eid", "sdAid", "data"}) {
    json b = send_body();
    b.erase(member);
    EXPECT_EQ(refused(Function::SendData, b).kind, Error::Kind::Missing) << member;
  }
  // moreToDo is optional (false).
  json b = create_body();
  b.erase("moreToDo");
  auto r = decode_request(Function::CreateIsdp, b.dump());
  ASSERT_TRUE(r);
  EXPECT_FALSE(std::get<CreateIsdp>(*r).more_to_do);
}

TEST(Es3, MalformedValuesAreRefusedWithoutQuotingThem) {
  const std::vector<std::pair<const char*, json>> bad_create = {
      {"eid", "8904903212345123451234567890123"},      // 31 digits
      {"eid", "8904903212345123451234567890123X"},
      {"eid", 12},
      {"iccid", "89001"},
      {"mnoId", ""},
      {"mnoId", std::string(300, 'm')},
      {"requiredMemory", -1},
      {"requiredMemory", 4294967296LL},
      {"requiredMemory", 1.5},
      {"requiredMemory", "12"},
      {"moreToDo", "yes"},
      {"validityPeriod", 0},
      {"validityPeriod", 18446744073709551615ULL},
      {"functionCallIdentifier", 7},
  };
  for (const auto& [member, value] : bad_create) {
    json b = create_body();
    b[member] = value;
    auto e = refused(Function::CreateIsdp, b);
    EXPECT_EQ(e.kind, Error::Kind::Invalid) << member;
    EXPECT_EQ(e.message.rfind(member, 0), 0U) << e.message;
    if (value.is_string() && value.get<std::string>().size() > 3)
      EXPECT_EQ(e.message.find(value.get<std::string>()), std::string::npos) << e.message;
  }
  const std::vector<std::pair<const char*, json>> bad_send = {
      {"sdAid", "A000000559"},                              // fine length, see below
      {"sdAid", "A0000005"},                                // 4 bytes
      {"sdAid", "A0000005591010FFFFFFFF890000100000"},      // 17 bytes
      {"sdAid", "A00000055Z"},
      {"data", ""},
      {"data", "AAA"},
      {"data", std::string(2 * kMaxScript + 2, 'A')},
  };
  for (std::size_t i = 1; i < bad_send.size(); ++i) {
    json b = send_body();
    b[bad_send[i].first] = bad_send[i].second;
    EXPECT_EQ(refused(Function::SendData, b).kind, Error::Kind::Invalid) << i;
  }
  json ok = send_body();
  ok["sdAid"] = bad_send[0].second;
  EXPECT_TRUE(decode_request(Function::SendData, ok.dump()));
}

TEST(Es3, UnknownAndForeignMembersAreRefused) {
  json b = create_body();
  b["sdAid"] = "A000000559";  // a SendData member on CreateISDP
  EXPECT_EQ(refused(Function::CreateIsdp, b).message, "unknown member sdAid");
  json g{{"eid", kEid}, {"validityPeriod", 10}};  // GetEIS is not executed by the eUICC
  EXPECT_EQ(refused(Function::GetEis, g).message, "unknown member validityPeriod");
  json p{{"eid", kEid}, {"iccid", kIccid}, {"pol2", json::array({{{"subject", "PROFILE"}, {"action", "DISABLE"},
                                                                 {"qualification", "Auto-delete"}}})}};
  EXPECT_EQ(refused(Function::ProfileDownloadCompleted, p).kind, Error::Kind::Invalid);
  p["pol2"] = json::array();
  p["subscriptionAddress"] = json::object();
  EXPECT_EQ(refused(Function::ProfileDownloadCompleted, p).kind, Error::Kind::Invalid);
}

json pol2_body() {
  return json{{"eid", kEid}, {"iccid", kIccid},
              {"pol2", json::array({{{"subject", "PROFILE"}, {"action", "DISABLE"}, {"qualification", "Not allowed"}}})}};
}
json address_body() {
  return json{{"eid", kEid}, {"iccid", kIccid}, {"subscriptionAddress", {{"msisdn", "491701234567"}}}};
}
json connectivity_body() { return json{{"eid", kEid}, {"iccid", kIccid}, {"connectivityParameters", "A0038001FF"}}; }

TEST(Es3, UpdateBodiesDecode) {
  auto p = decode_request(Function::UpdatePolicyRules, pol2_body().dump());
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(std::get<UpdatePolicyRules>(*p).pol2.size(), 1u);
  auto a = decode_request(Function::UpdateSubscriptionAddress, address_body().dump());
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(std::get<UpdateSubscriptionAddress>(*a).subscription_address.msisdn, "491701234567");
  auto c = decode_request(Function::UpdateConnectivityParameters, connectivity_body().dump());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(std::get<UpdateConnectivityParameters>(*c).connectivity_parameters, from_hex("A0038001FF").value());
  EXPECT_EQ(function(Function::UpdateConnectivityParameters).name, "ES3.UpdateConnectivityParameters");
  EXPECT_EQ(function_named("ES3.UpdatePolicyRules"), Function::UpdatePolicyRules);
  // Executed at once: none has an ES4 counterpart the eUICC runs.
  EXPECT_FALSE(es4_counterpart(Function::UpdatePolicyRules));
  EXPECT_FALSE(es4_counterpart(Function::UpdateConnectivityParameters));
}

TEST(Es3, UpdateBodiesAreStrict) {
  // Every member missing in turn: refused as missing, by name.
  const std::vector<std::tuple<Function, json, std::vector<const char*>>> bodies = {
      {Function::UpdatePolicyRules, pol2_body(), {"eid", "iccid", "pol2"}},
      {Function::UpdateSubscriptionAddress, address_body(), {"eid", "iccid", "subscriptionAddress"}},
      {Function::UpdateConnectivityParameters, connectivity_body(), {"eid", "iccid", "connectivityParameters"}},
  };
  for (const auto& [f, body, members] : bodies) {
    for (const char* member : members) {
      json b = body;
      b.erase(member);
      auto e = refused(f, b);
      EXPECT_EQ(e.kind, Error::Kind::Missing) << member;
      EXPECT_EQ(e.message, std::string(member) + " is missing");
    }
    json unknown = body;
    unknown["extra"] = 1;
    EXPECT_EQ(refused(f, unknown).message, "unknown member extra");
  }
  // Another function's members, wrong shapes and sizes.
  json b = pol2_body();
  b["validityPeriod"] = 60;  // executed by the SM-SR at once, no validity
  EXPECT_EQ(refused(Function::UpdatePolicyRules, b).message, "unknown member validityPeriod");
  b = pol2_body();
  b["pol2"] = json::object();
  EXPECT_EQ(refused(Function::UpdatePolicyRules, b).kind, Error::Kind::Invalid);
  b = pol2_body();
  b["pol2"][0]["action"] = "EXPLODE";
  EXPECT_EQ(refused(Function::UpdatePolicyRules, b).kind, Error::Kind::Invalid);
  b = address_body();
  b["subscriptionAddress"] = json::object();
  EXPECT_EQ(refused(Function::UpdateSubscriptionAddress, b).kind, Error::Kind::Invalid);
  b = address_body();
  b["pol2"] = json::array();
  EXPECT_EQ(refused(Function::UpdateSubscriptionAddress, b).message, "unknown member pol2");
  for (const json& value : {json(""), json("A00"), json("ZZ"), json(7),
                            json(std::string(2 * (kMaxConnectivityParameters + 1), 'A'))}) {
    b = connectivity_body();
    b["connectivityParameters"] = value;
    auto e = refused(Function::UpdateConnectivityParameters, b);
    EXPECT_EQ(e.kind, Error::Kind::Invalid) << value.dump();
    EXPECT_EQ(e.message.rfind("connectivityParameters", 0), 0U) << e.message;
  }
  b = connectivity_body();
  b["connectivityParameters"] = std::string(2 * kMaxConnectivityParameters, 'A');
  EXPECT_TRUE(decode_request(Function::UpdateConnectivityParameters, b.dump()));
  b["validityPeriod"] = 0;
  EXPECT_EQ(refused(Function::UpdateConnectivityParameters, b).kind, Error::Kind::Invalid);
}

TEST(Es3, NotAnObject) {
  for (const char* text : {"", "[]", "\"x\"", "{", "null", "{\"eid\":"}) {
    auto r = decode_request(Function::GetEis, text);
    EXPECT_FALSE(r) << text;
  }
}

TEST(Es3, ResultRoundTripsAndIsStrict) {
  Result r;
  r.call_id = "op-7";
  r.function = Function::SendData;
  r.operation_id = 7;
  r.eid = kEid;
  r.status = "Executed-Success";
  r.euicc_response_data = from_hex("AB0780010123029000").value();
  auto back = decode_result(encode_result(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, r);

  r.function = Function::CreateIsdp;
  r.iccid = kIccid;
  r.euicc_response_data.clear();
  r.isdp_aid = from_hex("A0000005591010FFFFFFFF8900001000").value();
  r.status = "Failed";
  r.subject_code = "8.1";
  r.reason_code = "3.8";
  back = decode_result(encode_result(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);

  json j = json::parse(encode_result(r));
  j["function"] = "ES4.EnableProfile";
  EXPECT_FALSE(decode_result(j.dump()));
  j = json::parse(encode_result(r));
  j["functionExecutionStatus"]["status"] = "Done";
  EXPECT_FALSE(decode_result(j.dump()));
  j = json::parse(encode_result(r));
  j["extra"] = 1;
  EXPECT_FALSE(decode_result(j.dump()));
  j = json::parse(encode_result(r));
  j["operationId"] = 0;
  EXPECT_FALSE(decode_result(j.dump()));
  j = json::parse(encode_result(r));
  j["isdpAid"] = "A0";
  EXPECT_FALSE(decode_result(j.dump()));
}

TEST(Es3, SmsrChangeNotificationCarriesTheEisWithoutKeys) {
  const Eis e = *eis_from_json(test_support::keyless_sample_eis(kEid));
  Notification n{"es3-1", NotificationFunction::SmsrChange, kEid, "", e, "2026-12-04T17:00:00Z"};
  const std::string body = encode_notification(n);
  auto back = decode_notification(body);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, n);
  auto cb = decode_callback(body);
  ASSERT_TRUE(cb);
  EXPECT_TRUE(std::holds_alternative<Notification>(*cb));
  // The encoder never writes keys, even when given an EIS with some.
  n.eis->isd_r.scp81_psk = Scp81Psk{Bytes{1, 2}, Bytes(16, 0x33)};
  EXPECT_EQ(encode_notification(n).find("scp81Psk"), std::string::npos);
  // The decoder refuses an EIS with keys, one without smsrId, a missing
  // EIS, and an eid or iccid beside it.
  json j = json::parse(body);
  j["eis"]["isdR"]["scp80KeySets"] =
      json::array({{{"version", 1}, {"algorithm", "AES"}, {"kic", std::string(32, '1')},
                    {"kid", std::string(32, '2')}, {"counter", 0}}});
  EXPECT_FALSE(decode_notification(j.dump()));
  j = json::parse(body);
  j["eis"].erase("smsrId");
  EXPECT_FALSE(decode_notification(j.dump()));
  j = json::parse(body);
  j.erase("eis");
  EXPECT_FALSE(decode_notification(j.dump()));
  for (const char* extra : {"eid", "iccid", "smsrId"}) {
    j = json::parse(body);
    j[extra] = extra == std::string("eid") ? kEid : std::string("8900100000000000019");
    EXPECT_FALSE(decode_notification(j.dump())) << extra;
  }
  // A profile notification keeps eid and iccid, no EIS.
  Notification enabled{"es3-2", NotificationFunction::ProfileEnabled, kEid, "8900100000000000019", std::nullopt,
                       "2026-12-04T17:00:00Z"};
  back = decode_notification(encode_notification(enabled));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, enabled);
}

}  // namespace
}  // namespace rsp::m2m::es3
