#include "download_rig.hpp"

#include "rsp/apdu/lpa_exchange.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/lpa/es10_channel.hpp"
#include "rsp/smdpp/catalog.hpp"
#include "test_euicc.hpp"

namespace rsp::euicc::test {

std::vector<Bytes> split_bpp(ByteView bpp_der) {
  auto pieces = lpa::bpp_segments(bpp_der);
  EXPECT_TRUE(pieces.has_value());
  return pieces ? std::move(*pieces) : std::vector<Bytes>{};
}

DownloadRig::DownloadRig(const std::filesystem::path& d, std::uint64_t seed)
    : world(smdpp::testing::test_pki_dir(), seed), dir(d) {
  auto sources = find_identity_sources(smdpp::testing::test_pki_dir());
  EXPECT_TRUE(sources.has_value());
  CreateOptions o;
  o.dir = dir;
  o.sources = sources ? *sources : std::vector<IdentitySource>{};
  auto s = create_euicc(o);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  if (s) store = *s;
  reopen();
}

void DownloadRig::reopen() {
  auto s = EuiccStore::open(dir);
  ASSERT_TRUE(s.has_value());
  store = *s;
  card = std::make_unique<Card>();
  isd_r = std::make_shared<IsdR>(*s);
  card->add_application(isd_r);
  card->add_application(std::make_shared<MinimalEcasd>());
  ASSERT_TRUE(lpa::card_channel(*card).select_isd_r().has_value());
}

expected<Bytes, std::uint16_t> DownloadRig::es10(ByteView command) {
  auto r = apdu::send_es10(in_process_transmit(*card), command, 0);
  if (!r) return unexpected(r.error().sw);
  return std::move(*r);
}

void DownloadRig::add_order(const std::string& matching_id, ByteView iccid, bool ppk, std::optional<std::string> cc,
                            std::size_t size) {
  auto p = smdpp::PreparedProfile::prepare(smdpp::testing::make_test_upp(iccid, size),
                                           {"Test SP", "Test profile " + matching_id, 2}, ppk, world.rng);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  std::optional<Bytes> cc_hash;
  if (cc) cc_hash = smdpp::sha256(as_bytes(*cc));
  world.catalog->add(smdpp::ProfileOrder{matching_id, eid(), cc_hash, 3, *p});
}

std::optional<sg::GetBoundProfilePackageOk> DownloadRig::authenticate_and_bind(const std::string& matching_id,
                                                                                const std::optional<std::string>& cc) {
  auto info1 = call<sg::EUICCInfo1>(sg::GetEuiccInfo1Request{});
  auto challenge = call<sg::GetEuiccChallengeResponse>(sg::GetEuiccChallengeRequest{});
  sg::InitiateAuthenticationRequest ia{challenge.euiccChallenge, smdpp::testing::kAddress, info1};
  auto init = world.server->initiate_authentication(ia);
  EXPECT_TRUE(init) << (init ? "" : init.error().message);
  if (!init) return std::nullopt;

  sg::AuthenticateServerRequest as;
  as.serverSigned1 = init->serverSigned1;
  as.serverSignature1 = init->serverSignature1;
  as.euiccCiPKIdToBeUsed = init->euiccCiPKIdToBeUsed;
  as.serverCertificate = init->serverCertificate;
  sg::CtxParamsForCommonAuthentication ctx;
  ctx.matchingId = matching_id;
  ctx.deviceInfo.tac = {0x35, 0x29, 0x06, 0x11};
  as.ctxParams1.alternative = ctx;
  auto asr = call<sg::AuthenticateServerResponse>(as);
  EXPECT_NE(asr.authenticateResponseOk(), nullptr);
  auto auth = world.server->authenticate_client(sg::AuthenticateClientRequest{init->transactionId, asr});
  EXPECT_TRUE(auth) << (auth ? "" : auth.error().message);
  if (!auth) return std::nullopt;

  auto pdr = auth->prepareDownloadRequest;
  if (cc) {
    Bytes h = smdpp::sha256(as_bytes(*cc));
    h.insert(h.end(), init->transactionId.begin(), init->transactionId.end());
    pdr.hashCc = smdpp::sha256(h);
  }
  auto pd = call<sg::PrepareDownloadResponse>(pdr);
  EXPECT_NE(pd.downloadResponseOk(), nullptr);
  auto bpp = world.server->get_bound_profile_package(sg::GetBoundProfilePackageRequest{init->transactionId, pd});
  EXPECT_TRUE(bpp) << (bpp ? "" : bpp.error().message);
  if (!bpp) return std::nullopt;
  return *bpp;
}

expected<Bytes, std::uint16_t> DownloadRig::load(const std::vector<Bytes>& pieces) {
  Bytes last;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    auto r = es10(pieces[i]);
    if (!r) return r;
    last = std::move(*r);
    if (!last.empty() && i + 1 < pieces.size()) return last;  // an early result ends the load
  }
  return last;
}

EuiccState DownloadRig::state() const {
  auto s = store->load();
  EXPECT_TRUE(s.has_value());
  return s ? *s : EuiccState{};
}

std::string DownloadRig::eid() const { return store ? store->eid().value_or("") : ""; }

}  // namespace rsp::euicc::test
