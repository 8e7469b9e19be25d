// The LPA download client end to end: the in-process SM-DP+ of the smdpp test
// fixture (its test PKI, a prepared profile, an order) and a real simulated
// eUICC created from the same PKI, talking ES9+ JSON and ES10 APDUs.
#include <gtest/gtest.h>

#include <algorithm>

#include "fixture.hpp"
#include "rsp/asn1/runtime.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/lpa/notifications.hpp"
#include "rsp/messages/es9_json.hpp"
#include "rsp/pki/test_pki.hpp"
#include "sim_euicc.hpp"
#include "test_support/in_process_es9.hpp"

namespace rsp::lpa {
namespace {

namespace sg = asn1::sgp22;
namespace st = smdpp::testing;
namespace es9 = messages::es9;
using smdpp::OrderEvent;
using smdpp::ProfileOrder;

const Bytes kIccid{0x98, 0x94, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0xF2};
const Bytes kIccid2{0x98, 0x94, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0xF2};
const Bytes kIccid3{0x98, 0x94, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0xF2};

class LpaDownload : public ::testing::Test {
 protected:
  LpaDownload() : world(st::test_pki_dir()), euicc(st::test_pki_dir()), transport(*world.server, st::kAddress) {
    options.progress = [this](Step s) { steps.push_back(s); };
  }

  void add_order(const std::string& matching_id, std::optional<std::string> cc = std::nullopt,
                 std::size_t size = 3000, const Bytes& iccid = kIccid) {
    auto p = smdpp::PreparedProfile::prepare(st::make_test_upp(iccid, size),
                                             {"Test SP", "Test profile", 2}, false, world.rng);
    ASSERT_TRUE(p);
    std::optional<Bytes> cc_hash;
    if (cc) cc_hash = smdpp::sha256(as_bytes(*cc));
    world.catalog->add(ProfileOrder{matching_id, std::nullopt, cc_hash, 3, *p});
  }

  bool reached(Step s) const { return std::find(steps.begin(), steps.end(), s) != steps.end(); }

  st::World world;
  SimEuicc euicc;
  test_support::InProcessEs9Transport transport;
  DownloadOptions options;
  std::vector<Step> steps;
};

TEST_F(LpaDownload, FlowReachesTheBoundProfilePackage) {
  add_order("MATCH-1");
  auto r = download_profile("LPA:1$" + st::kAddress + "$MATCH-1", std::nullopt, euicc.channel, transport, options);
  for (Step s : {Step::ParseActivationCode, Step::GetEuiccInfo1, Step::GetEuiccChallenge, Step::InitiateAuthentication,
                 Step::AuthenticateServer, Step::AuthenticateClient, Step::PrepareDownload,
                 Step::GetBoundProfilePackage, Step::LoadBoundProfilePackage}) {
    EXPECT_TRUE(reached(s)) << to_string(s) << (r ? "" : " / " + r.error().to_string());
  }
  // The SM-DP+ issued the BPP to this eUICC.
  auto events = world.catalog->events("MATCH-1");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front(), OrderEvent::BppIssued);
  if (!r) {
    EXPECT_EQ(r.error().step, Step::LoadBoundProfilePackage) << r.error().to_string();
  }
}

TEST_F(LpaDownload, FullDownloadInstallsTheProfile) {
  add_order("MATCH-1", std::nullopt, 5000);
  auto r = download_profile("LPA:1$" + st::kAddress + "$MATCH-1", std::nullopt, euicc.channel, transport, options);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->iccid, kIccid);
  EXPECT_EQ(r->profile_metadata.serviceProviderName, "Test SP");
  EXPECT_FALSE(r->isdp_aid.empty());
  EXPECT_TRUE(r->notification_delivered);
  EXPECT_TRUE(r->notification_removed);
  EXPECT_TRUE(reached(Step::HandleNotification));
  EXPECT_TRUE(reached(Step::RemoveNotification));

  auto profiles = euicc.profiles();
  ASSERT_EQ(profiles.size(), 1u);
  EXPECT_EQ(profiles[0].iccid, kIccid);
  EXPECT_EQ(profiles[0].serviceProviderName, "Test SP");

  EXPECT_EQ(world.catalog->events("MATCH-1"), (std::vector<OrderEvent>{OrderEvent::BppIssued, OrderEvent::Installed}));
  for (const auto& n : euicc.notifications()) {
    EXPECT_NE(n.seqNumber, r->installation_result.profileInstallationResultData.notificationMetadata.seqNumber);
  }
  EXPECT_EQ(world.server->session_count(), 0u);
}

TEST_F(LpaDownload, WrongMatchingIdIsTheSmdpCode) {
  add_order("MATCH-1");
  auto r = download_profile(st::kAddress, "OTHER-ID", std::nullopt, euicc.channel, transport, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().step, Step::AuthenticateClient) << r.error().to_string();
  EXPECT_EQ(r.error().source, DownloadError::Source::Es9Function);
  EXPECT_EQ(r.error().subject_code, smdpp::codes::kMatchingIdRefused.subject);
  EXPECT_EQ(r.error().reason_code, smdpp::codes::kMatchingIdRefused.reason);
  EXPECT_TRUE(reached(Step::CancelSession));
  EXPECT_EQ(world.server->session_count(), 0u);
  EXPECT_TRUE(euicc.profiles().empty());
}

TEST_F(LpaDownload, WrongConfirmationCodeIsRefused) {
  add_order("CC-1", "4711");
  auto r = download_profile("LPA:1$" + st::kAddress + "$CC-1$$1", std::string("1234"), euicc.channel, transport,
                            options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().step, Step::GetBoundProfilePackage) << r.error().to_string();
  EXPECT_EQ(r.error().source, DownloadError::Source::Es9Function);
  EXPECT_EQ(r.error().subject_code, smdpp::codes::kConfirmationCodeRefused.subject);
  EXPECT_EQ(r.error().reason_code, smdpp::codes::kConfirmationCodeRefused.reason);
  // The code itself never shows in the error.
  EXPECT_EQ(r.error().to_string().find("1234"), std::string::npos);
  auto events = world.catalog->events("CC-1");
  EXPECT_NE(std::find(events.begin(), events.end(), OrderEvent::CcRefused), events.end());
}

TEST_F(LpaDownload, RightConfirmationCodeGetsThePackage) {
  add_order("CC-2", "4711");
  auto r = download_profile("LPA:1$" + st::kAddress + "$CC-2$$1", std::string("4711"), euicc.channel, transport,
                            options);
  EXPECT_TRUE(reached(Step::LoadBoundProfilePackage)) << (r ? "" : r.error().to_string());
  EXPECT_EQ(world.catalog->events("CC-2").front(), OrderEvent::BppIssued);
}

TEST_F(LpaDownload, MissingConfirmationCodeCancelsTheSession) {
  add_order("CC-3", "4711");
  auto r = download_profile(st::kAddress, "CC-3", std::nullopt, euicc.channel, transport, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().step, Step::ConfirmDownload);
  EXPECT_EQ(r.error().source, DownloadError::Source::User);
  EXPECT_TRUE(r.error().session_cancelled) << r.error().to_string();
  EXPECT_EQ(world.server->session_count(), 0u);
  EXPECT_EQ(world.catalog->events("CC-3").back(), OrderEvent::Cancelled);

  // The activation code's flag is checked before anything is sent.
  steps.clear();
  auto early = download_profile("LPA:1$" + st::kAddress + "$CC-3$$1", std::nullopt, euicc.channel, transport, options);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().step, Step::ParseActivationCode);
  EXPECT_FALSE(reached(Step::GetEuiccInfo1));
}

TEST_F(LpaDownload, DecliningTheProfileCancels) {
  add_order("MATCH-1");
  options.confirm = [](const sg::StoreMetadataRequest& m) { return m.profileName != "Test profile"; };
  auto r = download_profile(st::kAddress, "MATCH-1", std::nullopt, euicc.channel, transport, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().source, DownloadError::Source::User);
  EXPECT_TRUE(r.error().session_cancelled);
  EXPECT_EQ(world.catalog->events("MATCH-1"), (std::vector<OrderEvent>{OrderEvent::Cancelled}));
}

TEST_F(LpaDownload, TransportFailureSendsCancelSession) {
  add_order("MATCH-1");
  int failures = 0;
  transport.fail_request = [&](std::string_view path) {
    if (path == es9::path(es9::Function::GetBoundProfilePackage)) {
      ++failures;
      return true;
    }
    return false;
  };
  auto r = download_profile(st::kAddress, "MATCH-1", std::nullopt, euicc.channel, transport, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(failures, 1);
  EXPECT_EQ(r.error().step, Step::GetBoundProfilePackage);
  EXPECT_EQ(r.error().source, DownloadError::Source::Es9Transport);
  EXPECT_TRUE(reached(Step::CancelSession));
  EXPECT_TRUE(r.error().session_cancelled) << r.error().to_string();
  EXPECT_EQ(world.server->session_count(), 0u);
  EXPECT_EQ(world.catalog->events("MATCH-1"), (std::vector<OrderEvent>{OrderEvent::Cancelled}));
  // The eUICC session is over too: a new download works from the start.
  transport.fail_request = nullptr;
  add_order("MATCH-2");
  steps.clear();
  auto again = download_profile(st::kAddress, "MATCH-2", std::nullopt, euicc.channel, transport, options);
  EXPECT_TRUE(reached(Step::LoadBoundProfilePackage)) << (again ? "" : again.error().to_string());
}

TEST_F(LpaDownload, UnreachableServerFailsBeforeAnySession) {
  auto r = download_profile("nowhere.example", "X", std::nullopt, euicc.channel, transport, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().step, Step::InitiateAuthentication);
  EXPECT_EQ(r.error().source, DownloadError::Source::Es9Transport);
  EXPECT_FALSE(reached(Step::CancelSession));
}

/// Hands the eUICC a DPauth certificate of another PKI (another CI).
class ForeignCertificateTransport final : public Es9Transport {
 public:
  ForeignCertificateTransport(Es9Transport& inner, Bytes cert) : inner_(inner), cert_(std::move(cert)) {}
  expected<HttpReply, TransportError> post(std::string_view address, std::string_view path,
                                           std::string_view body) override {
    auto r = inner_.post(address, path, body);
    if (r && path == es9::path(es9::Function::InitiateAuthentication) && r->status == 200) {
      auto j = nlohmann::json::parse(r->body);
      j["serverCertificate"] = base64_encode(cert_);
      r->body = j.dump();
    }
    return r;
  }

 private:
  Es9Transport& inner_;
  Bytes cert_;
};

TEST_F(LpaDownload, ServerCertificateOfAnotherCiIsRefusedByTheEuicc) {
  add_order("MATCH-1");
  test_support::TempDir other;
  pki::TestPkiOptions o;
  o.out_dir = other.path();
  o.curves = {crypto::Curve::NistP256};
  o.smdpp_address = st::kAddress;
  ASSERT_TRUE(pki::make_test_pki(o));
  auto cert = pki::Certificate::load_file(other.path() / "CERT_S_SM_DPauth_ECDSA_NIST.pem");
  ASSERT_TRUE(cert && !cert->empty());
  ForeignCertificateTransport evil(transport, cert->front().der());

  auto r = download_profile(st::kAddress, "MATCH-1", std::nullopt, euicc.channel, evil, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().step, Step::AuthenticateServer) << r.error().to_string();
  EXPECT_EQ(r.error().source, DownloadError::Source::Euicc);
  ASSERT_TRUE(r.error().euicc_code);
  EXPECT_TRUE(*r.error().euicc_code == sg::AuthenticateErrorCode_values::invalidCertificate ||
              *r.error().euicc_code == sg::AuthenticateErrorCode_values::ciPKUnknown)
      << *r.error().euicc_code;
  EXPECT_TRUE(reached(Step::CancelSession));
  EXPECT_EQ(world.server->session_count(), 0u);
  EXPECT_TRUE(euicc.profiles().empty());
}

/// An SM-DP+ that could not store the installation result: handleNotification
/// answers with an HTTP server error (the request never reaches the server).
class NotificationServerError final : public Es9Transport {
 public:
  explicit NotificationServerError(Es9Transport& inner) : inner_(inner) {}
  expected<HttpReply, TransportError> post(std::string_view address, std::string_view path,
                                           std::string_view body) override {
    if (path == es9::path(es9::Function::HandleNotification)) {
      ++refused;
      return HttpReply{500, ""};
    }
    return inner_.post(address, path, body);
  }
  int refused = 0;

 private:
  Es9Transport& inner_;
};

TEST_F(LpaDownload, AServerErrorOnTheNotificationKeepsItOnTheEuicc) {
  add_order("MATCH-1");
  NotificationServerError failing(transport);
  auto r = download_profile(st::kAddress, "MATCH-1", std::nullopt, euicc.channel, failing, options);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(failing.refused, 1);
  EXPECT_FALSE(r->notification_delivered);
  EXPECT_FALSE(r->notification_removed);
  EXPECT_FALSE(reached(Step::RemoveNotification));
  const auto pending = euicc.notifications();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].seqNumber, r->installation_result.profileInstallationResultData.notificationMetadata.seqNumber);
  EXPECT_EQ(euicc.profiles().size(), 1u);

  // The next download sends it first; the SM-DP+ now completes MATCH-1.
  add_order("MATCH-2", std::nullopt, 3000, kIccid2);
  steps.clear();
  auto next = download_profile(st::kAddress, "MATCH-2", std::nullopt, euicc.channel, transport, options);
  const auto& sent = next ? next->pending_notifications : next.error().pending_notifications;
  EXPECT_TRUE(sent.error.empty()) << sent.error;
  ASSERT_EQ(sent.notifications.size(), 1u);
  EXPECT_EQ(sent.notifications[0].seq_number, pending[0].seqNumber);
  EXPECT_TRUE(sent.notifications[0].install_result);
  EXPECT_EQ(sent.notifications[0].address, st::kAddress);
  EXPECT_EQ(sent.notifications[0].iccid, std::optional<Bytes>(kIccid));
  EXPECT_TRUE(sent.notifications[0].delivered) << sent.notifications[0].error;
  EXPECT_TRUE(sent.notifications[0].removed) << sent.notifications[0].error;
  EXPECT_EQ(world.catalog->events("MATCH-1"), (std::vector<OrderEvent>{OrderEvent::BppIssued, OrderEvent::Installed}));
  // ListNotification came before anything else of the download.
  ASSERT_GE(steps.size(), 2u);
  EXPECT_EQ(steps[0], Step::ListNotification);
  for (const auto& n : euicc.notifications()) EXPECT_NE(n.seqNumber, pending[0].seqNumber);
}

TEST_F(LpaDownload, PendingNotificationsAreSentOneByOneAndAFailureKeepsOnlyThatOne) {
  // Two installations whose notifications stayed on the eUICC.
  const std::vector<Bytes> iccids{kIccid, kIccid2};
  for (std::size_t i = 0; i < iccids.size(); ++i) {
    auto p = smdpp::PreparedProfile::prepare(st::make_test_upp(iccids[i], 1000), {"Test SP", "Test profile", 2}, false,
                                             world.rng);
    ASSERT_TRUE(p);
    const std::string mid = "KEPT-" + std::to_string(i);
    world.catalog->add(ProfileOrder{mid, std::nullopt, std::nullopt, 3, *p});
    DownloadOptions keep;
    keep.skip_notification = true;
    keep.send_pending_notifications = false;
    auto r = download_profile(st::kAddress, mid, std::nullopt, euicc.channel, transport, keep);
    ASSERT_TRUE(r) << r.error().to_string();
  }
  const auto before = euicc.notifications();
  ASSERT_EQ(before.size(), 2u);

  // The first delivery finds no SM-DP+; the second goes through.
  int attempts = 0;
  transport.fail_request = [&](std::string_view path) {
    return path == es9::path(es9::Function::HandleNotification) && ++attempts == 1;
  };
  const auto report = send_pending_notifications(euicc.channel, transport, options.progress);
  EXPECT_TRUE(report.error.empty()) << report.error;
  ASSERT_EQ(report.notifications.size(), 2u);
  EXPECT_EQ(report.notifications[0].seq_number, before[0].seqNumber);
  EXPECT_FALSE(report.notifications[0].delivered);
  EXPECT_FALSE(report.notifications[0].removed);
  EXPECT_NE(report.notifications[0].error.find("handleNotification"), std::string::npos) << report.notifications[0].error;
  EXPECT_EQ(report.notifications[1].seq_number, before[1].seqNumber);
  EXPECT_TRUE(report.notifications[1].delivered) << report.notifications[1].error;
  EXPECT_TRUE(report.notifications[1].removed) << report.notifications[1].error;
  EXPECT_TRUE(report.notifications[1].error.empty());
  // Only the delivered one left the eUICC.
  const auto after = euicc.notifications();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].seqNumber, before[0].seqNumber);
  EXPECT_EQ(world.catalog->events("KEPT-1"), (std::vector<OrderEvent>{OrderEvent::BppIssued, OrderEvent::Installed}));
  EXPECT_EQ(world.catalog->events("KEPT-0"), (std::vector<OrderEvent>{OrderEvent::BppIssued}));

  // A notification that cannot be delivered does not hold up a download.
  transport.fail_request = [](std::string_view path) { return path == es9::path(es9::Function::HandleNotification); };
  add_order("MATCH-1", std::nullopt, 3000, kIccid3);
  auto r = download_profile(st::kAddress, "MATCH-1", std::nullopt, euicc.channel, transport, options);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->pending_notifications.notifications.size(), 1u);
  EXPECT_FALSE(r->pending_notifications.notifications[0].delivered);
  EXPECT_FALSE(r->notification_delivered);
  EXPECT_EQ(euicc.profiles().size(), 3u);
  EXPECT_EQ(euicc.notifications().size(), 2u);
}

TEST_F(LpaDownload, ChosenNotificationsOnlyAreSentAndUnknownNumbersAreReported) {
  const std::vector<Bytes> iccids{kIccid, kIccid2};
  for (std::size_t i = 0; i < iccids.size(); ++i) {
    auto p = smdpp::PreparedProfile::prepare(st::make_test_upp(iccids[i], 1000), {"Test SP", "Test profile", 2}, false,
                                             world.rng);
    ASSERT_TRUE(p);
    const std::string mid = "PICK-" + std::to_string(i);
    world.catalog->add(ProfileOrder{mid, std::nullopt, std::nullopt, 3, *p});
    DownloadOptions keep;
    keep.skip_notification = true;
    keep.send_pending_notifications = false;
    ASSERT_TRUE(download_profile(st::kAddress, mid, std::nullopt, euicc.channel, transport, keep));
  }
  const auto before = euicc.notifications();
  ASSERT_EQ(before.size(), 2u);
  const std::int64_t absent = before[1].seqNumber + 100;
  const auto report = send_notifications(euicc.channel, transport, {before[1].seqNumber, absent});
  EXPECT_TRUE(report.error.empty()) << report.error;
  ASSERT_EQ(report.notifications.size(), 2u);
  EXPECT_EQ(report.notifications[0].seq_number, absent);
  EXPECT_FALSE(report.notifications[0].delivered);
  EXPECT_NE(report.notifications[0].error.find("no such notification"), std::string::npos);
  EXPECT_EQ(report.notifications[1].seq_number, before[1].seqNumber);
  EXPECT_TRUE(report.notifications[1].delivered) << report.notifications[1].error;
  EXPECT_TRUE(report.notifications[1].removed);
  const auto after = euicc.notifications();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].seqNumber, before[0].seqNumber);
  EXPECT_EQ(world.catalog->events("PICK-0"), (std::vector<OrderEvent>{OrderEvent::BppIssued}));
}

TEST_F(LpaDownload, BadActivationCode) {
  auto r = download_profile(std::string("LPA:2$x$y"), std::nullopt, euicc.channel, transport, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().source, DownloadError::Source::ActivationCode);
}

}  // namespace
}  // namespace rsp::lpa
