// SM-DP+ core: complete downloads against the test-double eUICC.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "fixture.hpp"
#include "rsp/asn1/runtime.hpp"
#include "rsp/smdpp/es9_der.hpp"
#include "rsp/common/file.hpp"
#include "rsp/tlv/tlv.hpp"

namespace rsp::smdpp::testing {
namespace {

namespace sg = asn1::sgp22;
const Bytes kIccid{0x98, 0x94, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0xF2};

struct Download {
  sg::InitiateAuthenticationOkEs9 init;
  sg::AuthenticateClientOk auth;
  sg::GetBoundProfilePackageOk bpp;
  Bytes upp;
};

std::shared_ptr<const PreparedProfile> prepare(World& w, Bytes upp, bool ppk) {
  auto p = PreparedProfile::prepare(std::move(upp), {"Test SP", "Test profile", 2}, ppk, w.rng);
  EXPECT_TRUE(p) << (p ? "" : p.error().message);
  return p ? *p : nullptr;
}

/// Runs the whole flow and checks every step succeeds.
void run_download(World& w, TestEuicc& e, const std::string& matching_id, Download& d,
                  const std::optional<std::string>& cc = std::nullopt) {
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  ASSERT_TRUE(init) << init.error().subject_code << " " << init.error().message;
  d.init = *init;
  auto acr = e.authenticate_server(*init, matching_id);
  ASSERT_TRUE(acr) << acr.error();
  auto auth = w.server->authenticate_client(*acr);
  ASSERT_TRUE(auth) << auth.error().subject_code << "/" << auth.error().reason_code << " " << auth.error().message;
  d.auth = *auth;
  auto gbpp = e.prepare_download(*auth, cc);
  ASSERT_TRUE(gbpp) << gbpp.error();
  auto bpp = w.server->get_bound_profile_package(*gbpp);
  ASSERT_TRUE(bpp) << bpp.error().subject_code << "/" << bpp.error().reason_code << " " << bpp.error().message;
  d.bpp = *bpp;
  auto upp = e.load_bpp(bpp->boundProfilePackage);
  ASSERT_TRUE(upp) << upp.error();
  d.upp = *upp;
}

class SmdppDownload : public ::testing::TestWithParam<crypto::Curve> {};

TEST(PreparedProfile, HeaderOnlyReadsTheHeaderAndWholeEveryElement) {
  crypto::DeterministicRandom rng(Bytes{1});
  const Bytes good = make_test_upp(kIccid, 200);
  auto whole = PreparedProfile::prepare(good, {"SP", "P", 2}, false, rng);
  auto header = PreparedProfile::prepare(good, {"SP", "P", 2}, false, rng, PreparedProfile::PackageCheck::HeaderOnly);
  ASSERT_TRUE(whole && header);
  EXPECT_EQ((*header)->metadata_der(), (*whole)->metadata_der());
  EXPECT_EQ((*header)->upp(), good);
  // A broken element after the header: only a whole decode finds it.
  Bytes broken = good;
  broken.insert(broken.end(), {0xA0, 0x05, 0x01});
  auto refused = PreparedProfile::prepare(broken, {"SP", "P", 2}, false, rng);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().subject_code, codes::kInvalidRequest.subject);
  EXPECT_TRUE(PreparedProfile::prepare(broken, {"SP", "P", 2}, false, rng, PreparedProfile::PackageCheck::HeaderOnly));
  // Either way the package must start with a ProfileHeader that decodes.
  for (auto check : {PreparedProfile::PackageCheck::Whole, PreparedProfile::PackageCheck::HeaderOnly}) {
    EXPECT_FALSE(PreparedProfile::prepare(Bytes{0xA0, 0x05, 0x01}, {"SP", "P", 2}, false, rng, check));
    EXPECT_FALSE(PreparedProfile::prepare(Bytes{}, {"SP", "P", 2}, false, rng, check));
    auto header_element = tlv::Reader(good).next();
    ASSERT_TRUE(header_element);
    const Bytes tail(good.begin() + static_cast<std::ptrdiff_t>(header_element->encoded.size()), good.end());
    EXPECT_FALSE(PreparedProfile::prepare(tail, {"SP", "P", 2}, false, rng, check));
  }
}

TEST_P(SmdppDownload, HappyPathRecoversTheProfile) {
  World w(test_pki_dir());
  TestEuicc e(test_euicc_credentials(GetParam()), w.rng);
  const Bytes upp = make_test_upp(kIccid, 5000);  // several '86' segments
  w.catalog->add(ProfileOrder{"MATCH-1", e.eid(), std::nullopt, 3, prepare(w, upp, false)});
  Download d;
  run_download(w, e, "MATCH-1", d);
  if (HasFatalFailure()) return;
  EXPECT_EQ(d.upp, upp);
  EXPECT_GT(d.bpp.boundProfilePackage.sequenceOf86.size(), 4u);
  for (const auto& s : d.bpp.boundProfilePackage.sequenceOf86) EXPECT_LE(s.size() + 4, 1020u);
  EXPECT_FALSE(d.bpp.boundProfilePackage.secondSequenceOf87);
  EXPECT_EQ(d.auth.profileMetaData.iccid, kIccid);
  EXPECT_EQ(d.auth.profileMetaData.serviceProviderName, "Test SP");
  EXPECT_EQ(e.loaded_metadata(), asn1::encode(d.auth.profileMetaData));
  EXPECT_FALSE(d.auth.prepareDownloadRequest.smdpSigned2.ccRequiredFlag);

  auto n = w.server->handle_notification(e.install_result(true));
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_TRUE(n->install_success);
  EXPECT_EQ(n->eid, e.eid());
  EXPECT_EQ(w.catalog->events("MATCH-1"), (std::vector<OrderEvent>{OrderEvent::BppIssued, OrderEvent::Installed}));
  EXPECT_EQ(w.server->session_count(), 0u);
}

TEST_P(SmdppDownload, ProfileProtectionKeyPath) {
  World w(test_pki_dir());
  TestEuicc e(test_euicc_credentials(GetParam()), w.rng);
  const Bytes upp = make_test_upp(kIccid, 3000);
  w.catalog->add(ProfileOrder{"PPK", std::nullopt, std::nullopt, 3, prepare(w, upp, true)});
  Download d;
  run_download(w, e, "PPK", d);
  if (HasFatalFailure()) return;
  EXPECT_TRUE(d.bpp.boundProfilePackage.secondSequenceOf87);
  EXPECT_EQ(d.upp, upp);
}

TEST_P(SmdppDownload, FreshOneTimeKeyEverySession) {
  World w(test_pki_dir());
  TestEuicc e(test_euicc_credentials(GetParam()), w.rng);
  auto p = prepare(w, make_test_upp(kIccid, 10), false);
  w.catalog->add(ProfileOrder{"A", std::nullopt, std::nullopt, 3, p});
  w.catalog->add(ProfileOrder{"B", std::nullopt, std::nullopt, 3, p});
  Download a, b;
  run_download(w, e, "A", a);
  run_download(w, e, "B", b);
  if (HasFatalFailure()) return;
  EXPECT_NE(a.bpp.boundProfilePackage.initialiseSecureChannelRequest.smdpOtpk,
            b.bpp.boundProfilePackage.initialiseSecureChannelRequest.smdpOtpk);
  EXPECT_NE(a.init.transactionId, b.init.transactionId);
}

TEST_P(SmdppDownload, ConfirmationCode) {
  World w(test_pki_dir());
  TestEuicc e(test_euicc_credentials(GetParam()), w.rng);
  const Bytes upp = make_test_upp(kIccid, 100);
  w.catalog->add(ProfileOrder{"CC", std::nullopt, sha256(as_bytes("1234")), 2, prepare(w, upp, false)});
  // Missing, then wrong (twice: the second exhausts the attempts).
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  ASSERT_TRUE(init);
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, "CC"));
  ASSERT_TRUE(auth);
  EXPECT_TRUE(auth->prepareDownloadRequest.smdpSigned2.ccRequiredFlag);
  auto r = w.server->get_bound_profile_package(*e.prepare_download(*auth, std::nullopt));
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), codes::kConfirmationCodeMissing)) << r.error().subject_code;

  init = w.server->initiate_authentication(e.initiate(kAddress));
  auth = w.server->authenticate_client(*e.authenticate_server(*init, "CC"));
  ASSERT_TRUE(auth);
  r = w.server->get_bound_profile_package(*e.prepare_download(*auth, std::string("9999")));
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), codes::kConfirmationCodeRefused)) << r.error().reason_code;
  // Same session, right code now.
  auto ok = w.server->get_bound_profile_package(*e.prepare_download(*auth, std::string("1234")));
  ASSERT_TRUE(ok) << ok.error().message;
  auto got = e.load_bpp(ok->boundProfilePackage);
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ(*got, upp);
}

TEST_P(SmdppDownload, ConfirmationCodeRetriesExceeded) {
  World w(test_pki_dir());
  TestEuicc e(test_euicc_credentials(GetParam()), w.rng);
  w.catalog->add(ProfileOrder{"CC", std::nullopt, sha256(as_bytes("1234")), 1, prepare(w, make_test_upp(kIccid, 1), false)});
  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  auto auth = w.server->authenticate_client(*e.authenticate_server(*init, "CC"));
  ASSERT_TRUE(auth);
  auto r = w.server->get_bound_profile_package(*e.prepare_download(*auth, std::string("0000")));
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), codes::kConfirmationCodeRetriesExceeded)) << r.error().reason_code;
}

TEST_P(SmdppDownload, Es9AsnBindingRoundTrip) {
  World w(test_pki_dir());
  TestEuicc e(test_euicc_credentials(GetParam()), w.rng);
  const Bytes upp = make_test_upp(kIccid, 1500);
  w.catalog->add(ProfileOrder{"DER", std::nullopt, std::nullopt, 3, prepare(w, upp, false)});
  int seed_no = 0;
  auto call = [&](sg::RemoteProfileProvisioningRequest req) {
    const Bytes der = asn1::encode(req);
    // Refreshes the fuzz seed corpus when asked (RSP_SMDPP_WRITE_SEEDS=<dir>).
    if (const char* dir = std::getenv("RSP_SMDPP_WRITE_SEEDS"))
      (void)write_file_atomic(std::filesystem::path(dir) / ("request_" + std::to_string(seed_no++) + ".der"), der,
                              std::filesystem::perms(0644));
    auto out = handle_es9_der(*w.server, der);
    EXPECT_TRUE(out) << (out ? "" : out.error().message);
    if (!out) return sg::RemoteProfileProvisioningResponse{};
    EXPECT_FALSE(out->error) << out->error->message;
    auto resp = asn1::decode<sg::RemoteProfileProvisioningResponse>(out->response);
    EXPECT_TRUE(resp);
    return *resp;
  };
  sg::RemoteProfileProvisioningRequest r1;
  r1.set_initiateAuthenticationRequest(e.initiate(kAddress));
  auto resp1 = call(r1);
  const auto* ia = std::get_if<0>(&resp1.alternative);
  ASSERT_TRUE(ia && ia->initiateAuthenticationOk());
  sg::RemoteProfileProvisioningRequest r2;
  r2.set_authenticateClientRequest(*e.authenticate_server(*ia->initiateAuthenticationOk(), std::string("DER")));
  auto resp2 = call(r2);
  const auto* ac = std::get_if<1>(&resp2.alternative);
  ASSERT_TRUE(ac && ac->authenticateClientOk());
  sg::RemoteProfileProvisioningRequest r3;
  r3.set_getBoundProfilePackageRequest(*e.prepare_download(*ac->authenticateClientOk(), std::nullopt));
  auto resp3 = call(r3);
  const auto* gb = std::get_if<2>(&resp3.alternative);
  ASSERT_TRUE(gb && gb->getBoundProfilePackageOk());
  auto got = e.load_bpp(gb->getBoundProfilePackageOk()->boundProfilePackage);
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ(*got, upp);
  sg::RemoteProfileProvisioningRequest r4;
  r4.set_handleNotification().pendingNotification = e.install_result(true);
  auto out4 = handle_es9_der(*w.server, asn1::encode(r4));
  ASSERT_TRUE(out4);
  EXPECT_TRUE(out4->response.empty());
  EXPECT_FALSE(out4->error);
  // A replayed request answers with the function's error value.
  auto again = handle_es9_der(*w.server, asn1::encode(r3));
  ASSERT_TRUE(again);
  ASSERT_TRUE(again->error);
  EXPECT_TRUE(is(*again->error, codes::kUnknownTransactionId));
  auto resp5 = asn1::decode<sg::RemoteProfileProvisioningResponse>(again->response);
  ASSERT_TRUE(resp5);
  const auto* gb5 = std::get_if<2>(&resp5->alternative);
  ASSERT_TRUE(gb5 && gb5->getBoundProfilePackageError());
  EXPECT_EQ(*gb5->getBoundProfilePackageError(),
            sg::GetBoundProfilePackageResponse::getBoundProfilePackageError_values::invalidTransactionId);
  EXPECT_FALSE(handle_es9_der(*w.server, Bytes{0xBF, 0x39, 0x05, 0x00}));
}

INSTANTIATE_TEST_SUITE_P(Curves, SmdppDownload,
                         ::testing::Values(crypto::Curve::NistP256, crypto::Curve::BrainpoolP256r1),
                         [](const auto& p) { return std::string(crypto::short_name(p.param)); });

}  // namespace
}  // namespace rsp::smdpp::testing
