// SM-DP+ core with the GSMA SGP.26 test identities and a TS.48 profile.
#include <gtest/gtest.h>

#include <filesystem>

#include "fixture.hpp"
#include "rsp/common/file.hpp"

namespace rsp::smdpp::testing {
namespace {

namespace fs = std::filesystem;

class SmdppSgp26 : public ::testing::TestWithParam<crypto::Curve> {};

TEST_P(SmdppSgp26, DownloadsTs48Profile) {
  const fs::path ref(RSP_REFERENCE_DIR);
  const fs::path certs = ref / "certs";
  const fs::path upp_file = ref / "upp" / "TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der";
  if (!fs::exists(certs / "DPauth") || !fs::exists(upp_file)) GTEST_SKIP() << "SGP.26 reference set absent";
  auto creds = sgp26_euicc_credentials(certs, GetParam());
  if (!creds) GTEST_SKIP() << "SGP.26 eUICC credentials absent";

  World w(certs);
  EXPECT_GE(w.identities->identities().size(), 2u);
  TestEuicc e(*creds, w.rng);
  auto upp = read_file(upp_file);
  ASSERT_TRUE(upp);
  auto p = PreparedProfile::prepare(*upp, {"GSMA", "TS.48 test profile", 0}, false, w.rng);
  ASSERT_TRUE(p) << p.error().message;
  w.catalog->add(ProfileOrder{"TS48", std::nullopt, std::nullopt, 3, *p});

  auto init = w.server->initiate_authentication(e.initiate(kAddress));
  ASSERT_TRUE(init) << init.error().message;
  EXPECT_EQ(init->euiccCiPKIdToBeUsed, creds->ci_cert.subject_key_id().value());
  auto acr = e.authenticate_server(*init, std::string("TS48"));
  ASSERT_TRUE(acr) << acr.error();
  auto auth = w.server->authenticate_client(*acr);
  ASSERT_TRUE(auth) << auth.error().subject_code << "/" << auth.error().reason_code << " " << auth.error().message;
  auto gbpp = e.prepare_download(*auth, std::nullopt);
  ASSERT_TRUE(gbpp) << gbpp.error();
  auto bpp = w.server->get_bound_profile_package(*gbpp);
  ASSERT_TRUE(bpp) << bpp.error().message;
  auto got = e.load_bpp(bpp->boundProfilePackage);
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ(*got, *upp);
  EXPECT_EQ(auth->profileMetaData.iccid, (*p)->iccid());
  // The header's plain BCD 8949449999999990007F, in StoreMetadata as SGP.22's
  // Iccid: coded as in EF.ICCID, nibbles swapped.
  EXPECT_EQ(to_hex(auth->profileMetaData.iccid), "989444999999990900F7");
  ASSERT_TRUE(w.server->handle_notification(e.install_result(true)));
}

INSTANTIATE_TEST_SUITE_P(Curves, SmdppSgp26,
                         ::testing::Values(crypto::Curve::NistP256, crypto::Curve::BrainpoolP256r1),
                         [](const auto& p) { return std::string(crypto::short_name(p.param)); });

}  // namespace
}  // namespace rsp::smdpp::testing
