// Which CancelSessionReason the SM-DP+ receives after each kind of failure of
// a download (SGP.22 v2.2.2 §5.7.14, §5.6.5): read off the wire, from the
// ES9+ cancelSession requests the LPA sends, not from the LPA's own report.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "fixture.hpp"
#include "rsp/asn1/runtime.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/messages/es9_json.hpp"
#include "sim_euicc.hpp"
#include "test_support/in_process_es9.hpp"

namespace rsp::lpa {
namespace {

namespace sg = asn1::sgp22;
namespace st = smdpp::testing;
namespace es9 = messages::es9;
using smdpp::OrderEvent;

const Bytes kIccid{0x98, 0x94, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0xF2};

/// Passes requests on and records the reason of each cancelSession; can make
/// one path time out or spoil the SM-DP+'s signature in authenticateClient.
class RecordingTransport final : public Es9Transport {
 public:
  explicit RecordingTransport(Es9Transport& inner) : inner_(inner) {}
  expected<HttpReply, TransportError> post(std::string_view address, std::string_view path,
                                           std::string_view body) override {
    if (path == es9::path(es9::Function::CancelSession)) {
      auto req = es9::decode_cancel_session_request(body);
      const auto* ok = req ? req->cancelSessionResponse.cancelSessionResponseOk() : nullptr;
      reasons.push_back(ok ? ok->euiccCancelSessionSigned.reason : -1);
    }
    if (path == es9::path(es9::Function::GetBoundProfilePackage)) {
      auto req = es9::decode_get_bound_profile_package_request(body);
      if (req && req->prepareDownloadResponse.downloadResponseError()) ++prepare_errors_forwarded;
    }
    if (path == time_out_on) return unexpected(TransportError{"timeout: no answer (injected)", true});
    auto r = inner_.post(address, path, body);
    if (r && spoil_smdp_signature2 && path == es9::path(es9::Function::AuthenticateClient) && r->status == 200) {
      auto j = nlohmann::json::parse(r->body);
      auto sig = base64_decode(j["smdpSignature2"].get<std::string>());
      if (sig && !sig->empty()) {
        sig->back() ^= 0x01;
        j["smdpSignature2"] = base64_encode(*sig);
        r->body = j.dump();
      }
    }
    if (r && oversize_first_86 && path == es9::path(es9::Function::GetBoundProfilePackage) && r->status == 200) {
      auto j = nlohmann::json::parse(r->body);
      auto der = base64_decode(j["boundProfilePackage"].get<std::string>());
      auto bpp = der ? asn1::decode<sg::BoundProfilePackage>(*der) : tlv::Result<sg::BoundProfilePackage>(unexpected(tlv::Error{}));
      if (bpp && !bpp->sequenceOf86.empty()) {
        bpp->sequenceOf86.front() = Bytes(1032, 0x5A);  // an '86' TLV of 1036 bytes
        j["boundProfilePackage"] = base64_encode(asn1::encode(*bpp));
        r->body = j.dump();
      }
    }
    return r;
  }
  bool oversize_first_86 = false;
  std::vector<std::int64_t> reasons;
  int prepare_errors_forwarded = 0;
  std::string time_out_on;
  bool spoil_smdp_signature2 = false;

 private:
  Es9Transport& inner_;
};

class LpaCancelReason : public ::testing::Test {
 protected:
  LpaCancelReason()
      : world(st::test_pki_dir()), euicc(st::test_pki_dir()), inner(*world.server, st::kAddress), wire(inner) {}

  void add_order(const std::string& matching_id, std::optional<std::string> cc = std::nullopt) {
    auto p = smdpp::PreparedProfile::prepare(st::make_test_upp(kIccid, 3000), {"Test SP", "Test profile", 2}, false,
                                             world.rng);
    ASSERT_TRUE(p);
    std::optional<Bytes> cc_hash;
    if (cc) cc_hash = smdpp::sha256(as_bytes(*cc));
    world.catalog->add(smdpp::ProfileOrder{matching_id, std::nullopt, cc_hash, 3, *p});
  }

  expected<DownloadResult, DownloadError> download(const std::string& matching_id,
                                                   std::optional<std::string> cc = std::nullopt) {
    return download_profile(st::kAddress, matching_id, cc, euicc.channel, wire, options);
  }

  st::World world;
  SimEuicc euicc;
  test_support::InProcessEs9Transport inner;
  RecordingTransport wire;
  DownloadOptions options;
};

TEST_F(LpaCancelReason, AWrongConfirmationCodePostponesAndTheRightOneThenInstalls) {
  add_order("CC-1", "4711");
  auto r = download("CC-1", "1234");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason_code, smdpp::codes::kConfirmationCodeRefused.reason) << r.error().to_string();
  EXPECT_TRUE(r.error().session_cancelled) << r.error().to_string();
  EXPECT_EQ(wire.reasons, (std::vector<std::int64_t>{cancel_reason::kPostponed}));
  // The same order, the right code, a new session.
  auto again = download("CC-1", "4711");
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->iccid, kIccid);
  EXPECT_EQ(wire.reasons.size(), 1u);
  EXPECT_EQ(world.catalog->events("CC-1").back(), OrderEvent::Installed);
}

TEST_F(LpaCancelReason, AMissingConfirmationCodePostpones) {
  add_order("CC-2", "4711");
  auto r = download("CC-2");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().source, DownloadError::Source::User);
  EXPECT_EQ(wire.reasons, (std::vector<std::int64_t>{cancel_reason::kPostponed}));
}

TEST_F(LpaCancelReason, TheUserDecliningIsEndUserRejection) {
  add_order("M-1");
  options.confirm = [](const sg::StoreMetadataRequest&) { return false; };
  auto r = download("M-1");
  ASSERT_FALSE(r);
  EXPECT_EQ(wire.reasons, (std::vector<std::int64_t>{cancel_reason::kEndUserRejection}));
}

TEST_F(LpaCancelReason, AnSmdpThatDoesNotAnswerInTimeIsTimeout) {
  add_order("M-2");
  wire.time_out_on = es9::path(es9::Function::GetBoundProfilePackage);
  auto r = download("M-2");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().source, DownloadError::Source::Es9Transport);
  EXPECT_TRUE(r.error().timed_out);
  EXPECT_EQ(wire.reasons, (std::vector<std::int64_t>{cancel_reason::kTimeout}));
}

TEST_F(LpaCancelReason, ABrokenConnectionIsUndefinedReason) {
  add_order("M-3");
  inner.fail_request = [](std::string_view path) { return path == es9::path(es9::Function::GetBoundProfilePackage); };
  auto r = download("M-3");
  ASSERT_FALSE(r);
  EXPECT_FALSE(r.error().timed_out);
  EXPECT_EQ(wire.reasons, (std::vector<std::int64_t>{cancel_reason::kUndefinedReason}));
}

TEST_F(LpaCancelReason, AnSmdpRefusalIsUndefinedReason) {
  add_order("M-4");
  auto r = download("NOT-M-4");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().source, DownloadError::Source::Es9Function);
  EXPECT_EQ(wire.reasons, (std::vector<std::int64_t>{cancel_reason::kUndefinedReason}));
}

TEST_F(LpaCancelReason, TheEuiccsPrepareDownloadRefusalGoesToTheSmdp) {
  add_order("M-5");
  wire.spoil_smdp_signature2 = true;
  auto r = download("M-5");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().step, Step::PrepareDownload) << r.error().to_string();
  EXPECT_EQ(r.error().source, DownloadError::Source::Euicc);
  // SGP.22 §3.1.3.2: the SM-DP+ hears the eUICC's own error and ends the session with it.
  EXPECT_EQ(wire.prepare_errors_forwarded, 1);
  EXPECT_EQ(world.catalog->events("M-5"), (std::vector<OrderEvent>{OrderEvent::Cancelled}));
  EXPECT_EQ(world.server->session_count(), 0u);
  EXPECT_TRUE(euicc.profiles().empty());
}

TEST_F(LpaCancelReason, AnOversizedSegmentIsNamedAndNeedsNoCancel) {
  add_order("M-6");
  wire.oversize_first_86 = true;
  auto r = download("M-6");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().step, Step::LoadBoundProfilePackage) << r.error().to_string();
  EXPECT_EQ(r.error().bpp_command_id, sg::BppCommandId_values::loadProfileElements) << r.error().to_string();
  EXPECT_EQ(r.error().euicc_code, sg::ErrorReason_values::scp03tStructureError) << r.error().to_string();
  EXPECT_NE(r.error().message.find("exceeds SGP.22's 1020-byte limit"), std::string::npos) << r.error().to_string();
  // The eUICC's result ended both sessions; nothing to cancel.
  EXPECT_TRUE(wire.reasons.empty());
  EXPECT_EQ(world.catalog->events("M-6").back(), OrderEvent::InstallFailed);
}

TEST(LpaFailureCancelReason, OnlyARefusedOrMissingCodeIsPostponed) {
  DownloadError e;
  e.source = DownloadError::Source::Es9Function;
  e.subject_code = "8.2.7";
  e.reason_code = "3.8";
  EXPECT_EQ(failure_cancel_reason(e), cancel_reason::kPostponed);
  e.reason_code = "2.2";
  EXPECT_EQ(failure_cancel_reason(e), cancel_reason::kPostponed);
  // Attempts exhausted: the order is over anyway.
  e.reason_code = "6.4";
  EXPECT_EQ(failure_cancel_reason(e), cancel_reason::kUndefinedReason);
  e.subject_code = "8.1.1";
  e.reason_code = "3.8";
  EXPECT_EQ(failure_cancel_reason(e), cancel_reason::kUndefinedReason);
  DownloadError t;
  t.source = DownloadError::Source::Es9Transport;
  EXPECT_EQ(failure_cancel_reason(t), cancel_reason::kUndefinedReason);
  t.timed_out = true;
  EXPECT_EQ(failure_cancel_reason(t), cancel_reason::kTimeout);
}

}  // namespace
}  // namespace rsp::lpa
