// The M2M SM-DP's HTTP routes with the SM-SR's ES3 port faked
// (es2_service_fixture.hpp): the ES2 routes check the caller and the body;
// the ES3 results route delivers results to the waiting calls, and the ES3
// results are kept bounded.

#include <gtest/gtest.h>

#include <chrono>
#include <iterator>

#include "es2_service_fixture.hpp"

namespace rsp::smdp::testing {
namespace {

TEST_F(Es2ServiceTest, Es2RoutesCheckTheCallerAndTheBody) {
  std::shared_ptr<Es2Service> svc(std::move(svc_));
  auto routes = es2_routes(svc, {"mno-a", "mno-b"});
  ASSERT_EQ(routes.size(), std::size(es2::kFunctions));
  const auto& dl = routes[static_cast<std::size_t>(es2::Function::DownloadProfile)];
  EXPECT_EQ(dl.path, "/gsma/m2m/es2/downloadProfile");
  EXPECT_TRUE(dl.authenticated);
  const std::string body = es2::encode_request(download(kIccidA));
  const service::Caller mno_a{"mno-a", service::CallerProof::ApiKey};

  auto r = dl.handler(post(body), service::Caller{"smsr-x", service::CallerProof::ApiKey});
  EXPECT_EQ(r.subject_code, codes::kRequesterNotAllowed.subject);
  EXPECT_EQ(r.reason_code, codes::kRequesterNotAllowed.reason);
  r = dl.handler(post(R"({"smsrId":"smsr-1"})"), mno_a);
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(r.subject_code, codes::kMandatoryMissing.subject);
  EXPECT_EQ(r.reason_code, codes::kMandatoryMissing.reason);
  EXPECT_EQ(decode_answer_or_empty(r.response.body).status, "Failed");
  auto plain = post(body);
  plain.headers.clear();
  EXPECT_EQ(dl.handler(plain, mno_a).subject_code, codes::kInvalidRequest.subject);
  r = dl.handler(post(body), mno_a);
  EXPECT_EQ(r.response.status, 202);
  EXPECT_TRUE(decode_answer_or_empty(r.response.body).accepted());
  // mno-b's call for mno-a's profile.
  r = dl.handler(post(es2::encode_request(download(kIccidA2))), service::Caller{"mno-b", service::CallerProof::ApiKey});
  EXPECT_EQ(r.subject_code, codes::kIccidUnknown.subject);
  EXPECT_EQ(es2_unauthenticated_reply().response.status, 401);
  svc->stop();
}

TEST(Es3ResultsRoute, DeliversResultsAndRefusesTheRest) {
  auto results = std::make_shared<Es3Results>();
  auto route = es3_results_route(results);
  EXPECT_EQ(route.path, kEs3ResultsPath);
  EXPECT_FALSE(route.authenticated);
  EXPECT_EQ(route.handler(post("{}"), std::nullopt).response.status, 400);
  es3::Result r = ok();
  r.call_id = "op-4";
  r.function = es3::Function::EnableProfile;
  r.operation_id = 4;
  r.eid = kEid;
  EXPECT_EQ(route.handler(post(es3::encode_result(r)), std::nullopt).response.status, 200);
  auto got = results->wait(4, std::chrono::milliseconds(0));
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, r);
}

TEST(Es3Results, KeepsABoundedNumberDroppingTheOldest) {
  Es3Results results(2);
  for (std::int64_t id : {7, 3, 9}) {
    es3::Result r = ok();
    r.call_id = "op-" + std::to_string(id);
    r.function = es3::Function::SendData;
    r.operation_id = id;
    r.eid = kEid;
    results.deliver(r);
  }
  EXPECT_EQ(results.size(), 2u);
  EXPECT_EQ(results.dropped(), 1u);
  EXPECT_FALSE(results.wait(3, std::chrono::milliseconds(0)));
  EXPECT_TRUE(results.wait(7, std::chrono::milliseconds(0)));
  EXPECT_TRUE(results.wait(9, std::chrono::milliseconds(0)));
  // A repeated result is kept once.
  es3::Result r = ok();
  r.call_id = "op-11";
  r.function = es3::Function::SendData;
  r.operation_id = 11;
  r.eid = kEid;
  results.deliver(r);
  results.deliver(r);
  EXPECT_EQ(results.size(), 1u);
}

}  // namespace
}  // namespace rsp::smdp::testing
