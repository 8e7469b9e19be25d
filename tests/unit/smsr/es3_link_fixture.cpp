// The ES3 fixtures' set-up (es3_link_fixture.hpp).

#include "es3_link_fixture.hpp"

#include "rsp/crypto/random.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/smdpp/sample_profile.hpp"
#include "rsp/store/open.hpp"

namespace rsp::smsr::testing {

using namespace std::chrono_literals;

Es3LinkTest::Es3LinkTest() {
  // The EIS carries the card's real ECASD certificate (GetEIS gives it to the SM-DP).
  register_card_ecasd_certificate();
}

void Es3LinkTest::SetUp() {
  Es5LinkTest::SetUp();
  if (HasFatalFailure()) return;
  es3_ = std::make_shared<Es3Service>(service_config(registry_, *link_));
  link_->attach_es3(es3_);
  auto store = euicc_m2m::M2mStore::open(dir_);
  ASSERT_TRUE(store);
  auto es8 = euicc_m2m::Es8Card::open(card_->isd_r_shared(), *store);
  ASSERT_TRUE(es8) << es8.error().message;
  es8_ = std::move(*es8);
  device_isdp_ = [this](ByteView aid, ByteView c) {
    Bytes r = es8_->execute(aid, c);
    if (after_isdp_command_) after_isdp_command_(c);
    return r;
  };
  auto identity = store->euicc().identity();
  ASSERT_TRUE(identity);
  const auto& curve = identity->curves.front();
  ecasd_cert_ = curve.euicc_cert;
  trust_ = smdp::EcasdTrust{{pki::Certificate::from_der(curve.eum_cert).value()},
                            {pki::Certificate::from_der(curve.ci_cert).value()}};
  // CERT.DP.ECDSA of the card's curve from the shared test PKI, and its key.
  if (auto dp = euicc_m2m::test::dp_signing_identity(curve.curve))
    dp_.emplace(smdp::DpIdentity{std::move(dp->certificate), std::move(dp->key)});
  ASSERT_TRUE(dp_) << "no CERT.DP.ECDSA for the card's curve";
}

void ProfileDownloadTest::SetUp() {
  Es3LinkTest::SetUp();
  if (HasFatalFailure()) return;
  auto db = store::open_database((tmp_.path() / "smdp.db").string());
  ASSERT_TRUE(db);
  auto table = smdp::DownloadTable::open(std::shared_ptr<store::Database>(std::move(*db)));
  ASSERT_TRUE(table) << table.error();
  table_ = std::move(*table);
  port_ = std::make_unique<DirectPort>([this](const es3::Request& r) -> expected<es3::Result, std::string> {
    if (cut_ && cut_(r, Cut::Before)) return unexpected(std::string("connection refused"));
    auto out = dispatch(r);
    if (cut_ && cut_(r, Cut::After)) return unexpected(std::string("no result in time"));
    return out;
  });
  start_device();
}

es3::Result ProfileDownloadTest::dispatch(const es3::Request& request) {
  calls_.push_back(es3::function_of(request));
  if (const auto* g = std::get_if<es3::GetEis>(&request)) {
    es3::Result r;
    auto eis = es3_->get_eis(kSmdp, g->eid);
    r.status = eis ? "Executed-Success" : "Failed";
    if (eis) r.eis = m2m::eis_to_json(*eis, m2m::Keys::Omit);
    return r;
  }
  if (const auto* c = std::get_if<es3::CreateIsdp>(&request)) return ended(es3_->create_isdp(kSmdp, *c));
  if (const auto* s = std::get_if<es3::SendData>(&request)) {
    // SendData 0: CERT.DP.ECDSA (its RC back), 1: the key agreement (DR and
    // receipt back), 2: the first profile segment.
    if (tamper_segment_ && send_data_ == 2) {
      ++send_data_;
      // One byte of the first STORE DATA's protected block changed.
      auto c_apdus = ota::c_apdus(ota::decode_command_script(s->data).value());
      c_apdus.front().at(20) ^= 0x01;
      es3::SendData changed = *s;
      changed.data = ota::encode(ota::command_script(c_apdus)).value();
      return ended(es3_->send_data(kSmdp, changed));
    }
    auto r = ended(es3_->send_data(kSmdp, *s));
    if (tamper_segment_) ++send_data_;
    if (tamper_receipt_ && ++send_data_ == 2) {
      // The receipt changed on its way back.
      auto script = ota::decode_response_script(r.euicc_response_data).value();
      script.r_apdus.back().data.back() ^= 0x01;
      r.euicc_response_data = ota::encode(script).value();
    }
    return r;
  }
  if (const auto* p = std::get_if<es3::ProfileDownloadCompleted>(&request))
    return at_once(es3_->profile_download_completed(kSmdp, *p));
  if (const auto* e = std::get_if<es3::EnableProfile>(&request))
    return ended(es3_->on_profile(kSmdp, es3::Function::EnableProfile, e->eid, e->iccid, e->validity));
  if (const auto* d = std::get_if<es3::DeleteIsdp>(&request))
    return ended(es3_->on_profile(kSmdp, es3::Function::DeleteIsdp, d->eid, d->iccid, d->validity));
  if (const auto* a = std::get_if<es3::AuditEis>(&request)) return ended(es3_->audit_eis(kSmdp, *a));
  if (const auto* u = std::get_if<es3::UpdatePolicyRules>(&request)) return at_once(es3_->update_policy_rules(kSmdp, *u));
  if (const auto* u = std::get_if<es3::UpdateSubscriptionAddress>(&request))
    return at_once(es3_->update_subscription_address(kSmdp, *u));
  if (const auto* u = std::get_if<es3::UpdateConnectivityParameters>(&request)) {
    if (!tamper_connectivity_) return ended(es3_->update_connectivity_parameters(kSmdp, *u));
    // One byte of the secured STORE DATA changed on its way.
    auto c_apdus = ota::c_apdus(ota::decode_command_script(u->connectivity_parameters).value());
    c_apdus.back().at(8) ^= 0x01;
    es3::UpdateConnectivityParameters changed = *u;
    changed.connectivity_parameters = ota::encode(ota::command_script(c_apdus)).value();
    return ended(es3_->update_connectivity_parameters(kSmdp, changed));
  }
  ADD_FAILURE() << "unexpected ES3 call";
  return {};
}

smdp::DownloadRequest ProfileDownloadTest::request(bool enable) {
  smdpp::SampleProfileOptions po;
  po.filler = 3000;
  smdp::DownloadRequest r;
  r.eid = eid();
  r.iccid = kIccid;
  r.mno_id = "mno-three";
  r.required_memory = 64 * 1024;
  r.upp = smdpp::make_sample_upp(kIccidBytes, crypto::system_random(), po);
  r.enable = enable;
  r.subscription_address = m2m::SubscriptionAddress{"4915550003", ""};
  return r;
}

void Es2DownloadTest::SetUp() {
  ProfileDownloadTest::SetUp();
  if (HasFatalFailure()) return;
  auto db = store::open_database((tmp_.path() / "smdp-es2.db").string());
  ASSERT_TRUE(db);
  std::shared_ptr<store::Database> shared(std::move(*db));
  smdp_db_ = shared;
  auto kek = service::KeyEncryptionKey::make(crypto::system_random().bytes(32));
  ASSERT_TRUE(kek);
  auto inventory = smdp::Inventory::open(shared, std::make_shared<const service::KeyEncryptionKey>(std::move(*kek)));
  ASSERT_TRUE(inventory);
  inventory_ = std::move(*inventory);
  ASSERT_TRUE(inventory_->add(kIccid, "m2m-data", "mno-three", request(false).upp, crypto::system_random()));
  auto outbox = service::SqlOutbox::open(shared, std::string(smdp::kMnoCallbackOutbox), clock_);
  ASSERT_TRUE(outbox);
  outbox_ = *outbox;
  auto svc = smdp::Es2Service::open(
      smdp::Es2ServiceConfig("smsr-1", {*dp_, trust_, 6, {}}), shared, inventory_, *port_,
      outbox_);
  ASSERT_TRUE(svc) << svc.error();
  es2_ = std::move(*svc);
}

}  // namespace rsp::smsr::testing
