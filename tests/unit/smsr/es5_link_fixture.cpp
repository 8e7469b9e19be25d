#include "es5_link_fixture.hpp"

#include "rsp/euicc_m2m/state.hpp"
#include "rsp/store/open.hpp"

namespace rsp::smsr::testing {

using namespace std::chrono_literals;

void Es5LinkTest::register_card_ecasd_certificate() {
  edit_registered_eis_ = [this](m2m::Eis& e) {
    auto store = euicc_m2m::M2mStore::open(dir_);
    ASSERT_TRUE(store);
    auto identity = store->euicc().identity();
    ASSERT_TRUE(identity);
    e.ecasd.certificate = identity->curves.front().euicc_cert;
  };
}

ServiceConfig Es5LinkTest::service_config(std::shared_ptr<Registry> registry, Es5Link& link) const {
  ServiceConfig sc;
  sc.registry = std::move(registry);
  sc.clock = clock_;
  sc.default_validity = 600s;
  sc.scripts = isdr_script;
  sc.wake_up = [&link](const std::string& e) { link.wake_up(e); };
  sc.wake_up_due = [&link](const std::string& e) { return link.first_wake_up_due(e); };
  return sc;
}

void Es5LinkTest::SetUp() {
  M2mTest::SetUp();
  if (HasFatalFailure()) return;
  auto db = store::open_database((tmp_.path() / "smsr.db").string());
  ASSERT_TRUE(db) << db.error().message;
  RegistryOptions ro;
  ro.kek = std::make_shared<const service::KeyEncryptionKey>(
      std::move(*service::KeyEncryptionKey::make(Bytes(32, 0x4B))));
  ro.clock = clock_;
  ro.callback_url = [](const std::string& mno) { return "https://" + mno + ".example/callbacks"; };
  auto registry = Registry::open(std::shared_ptr<store::Database>(std::move(*db)), std::move(ro));
  ASSERT_TRUE(registry) << registry.error().message;
  registry_ = std::move(*registry);

  smsc_ = std::make_unique<smpp::LoopbackSmsc>();
  smsr_sms_ = smsc_->attach(smsr_address_);
  const auto log = [this](const std::string& line) { add_log_line(line); };
  Es5LinkConfig lc;
  lc.registry = registry_;
  lc.sms = smsr_sms_.get();
  lc.source = smsr_address_;
  lc.clock = clock_;
  lc.log = log;
  lc.session_idle_timeout = link_session_idle_timeout_;
  link_ = std::make_unique<Es5Link>(std::move(lc));
  service_ = std::make_shared<Service>(service_config(registry_, *link_));
  link_->attach(service_);

  es5::AdminSessionOptions o;
  o.session_idle_timeout = session_idle_timeout_;
  o.log = log;
  server_ = std::make_unique<es5::AdminSessionServer>(
      o, [this](std::string_view identity) { return link_->psk(identity); }, *link_, *link_);
  auto started = server_->start();
  ASSERT_TRUE(started) << started.error().message;
  link_->set_trigger_address(server_->host_header(), server_->path());
  m2m::Eis eis = card_eis();
  if (edit_registered_eis_) edit_registered_eis_(eis);
  auto registered = service_->register_eis("EUM-TEST", eis);
  ASSERT_TRUE(registered) << registered.error().message;
}

void Es5LinkTest::TearDown() {
  if (device_sms_) device_sms_->stop();
  device_.reset();
  if (smsr_sms_) smsr_sms_->stop();
  if (server_) server_->stop();
  link_.reset();
  smsc_.reset();
}

m2m::Eis Es5LinkTest::card_eis() const {
  const auto s = card_->isd_r().state();
  m2m::Eis e;
  e.eid = eid();
  e.eum_id = "EUM-TEST";
  e.production_date = "2026-12-03";
  e.platform_type = s.platform_type;
  e.platform_version = s.platform_version;
  e.smsr_id = "smsr.test";
  e.isd_r.aid = from_hex("A0000005591010FFFFFFFF8900000100").value();
  e.isd_r.sin = s.sin;  // the card's identifiers: the ES8 key establishment uses them
  e.isd_r.sdin = s.sdin;
  for (const auto& k : s.scp80)
    e.isd_r.scp80_key_sets.push_back({k.version, m2m::Scp80KeySet::Algorithm::Aes, k.kic, k.kid, k.counter});
  e.isd_r.scp81_psk = m2m::Scp81Psk{Bytes(s.scp81.identity.begin(), s.scp81.identity.end()), s.scp81.key};
  e.ecasd.aid = from_hex("A0000005591010FFFFFFFF8900000200").value();
  e.ecasd.certificate = Bytes{0x30, 0x00};
  m2m::ProfileInfo boot;
  boot.iccid = kBootIccid;
  boot.isdp_aid = boot_;
  boot.mno_id = "mno-boot";
  boot.state = m2m::ProfileState::Enabled;
  boot.fallback_attribute = true;
  boot.subscription_address.msisdn = msisdn_.digits;
  m2m::ProfileInfo second;
  second.iccid = kSecondIccid;
  second.isdp_aid = second_;
  second.mno_id = "mno-two";
  second.state = m2m::ProfileState::Disabled;
  second.subscription_address.msisdn = "4915550002";
  e.profiles = {boot, second};
  return e;
}

void Es5LinkTest::start_device() {
  m2m_device::M2mDeviceOptions o;
  o.msisdn = msisdn_;
  o.smsr_address = smsr_address_;
  o.default_host = server_->host_header();
  o.http_timeout = 5s;
  o.isdp = device_isdp_;
  o.log = [this](const std::string& line) {
    add_log_line("device: " + line);
    if (device_log_) device_log_(line);
  };
  device_ = std::make_unique<m2m_device::M2mDevice>(card_->isd_r(), o);
  device_sms_ = smsc_->attach(msisdn_);
  device_->attach(*device_sms_);
}

void Es5LinkTest::add_log_line(std::string line) {
  std::lock_guard lock(log_mu_);
  log_.push_back(std::move(line));
}

std::vector<std::string> Es5LinkTest::notification_lines() {
  std::vector<std::string> out;
  const auto trail = registry_->audit_trail(eid());
  EXPECT_TRUE(trail) << trail.error().message;
  if (trail)
    for (const auto& a : *trail)
      if (a.function == "ES5.HandleNotification") out.push_back(a.result);
  return out;
}

std::vector<std::string> Es5LinkTest::log_lines() {
  std::lock_guard lock(log_mu_);
  return log_;
}

std::string Es5LinkTest::diagnosis(std::int64_t operation_id) {
  std::string out = "operation " + std::to_string(operation_id) + " is " +
                    std::string(operation_state_name(op(operation_id).state));
  if (device_) out += "; device sessions failed: " + std::to_string(device_->sessions_failed());
  out += "; log:";
  for (const auto& line : log_lines()) out += "\n  " + line;
  return out;
}

}  // namespace rsp::smsr::testing
