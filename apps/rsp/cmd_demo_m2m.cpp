// `rsp demo m2m`: the M2M story (SGP.02) on the embedded default, in one
// process, each step printed (demo_m2m_story.hpp): an M2M eUICC made as
// `rsp euicc create --m2m` makes one, the SM-SR (registry on SQLite, ES5
// link, PSK-TLS administration sessions on 127.0.0.1) and the simulated
// device reached through the in-process loopback SMSC; ES1 and ES4 are
// called on the SM-SR's service as its HTTPS binding calls them; the MNO's
// callbacks reach a small HTTP receiver of the demo through the SM-SR's
// durable outbox. Then the M2M SM-DP's download (demo_m2m_download.cpp),
// the SM-SR change (demo_m2m_swap.cpp), and an operation that expires.
// No protocol logic lives here: it only wires the libraries.

#include <stdlib.h>

#include <cstdio>
#include <thread>

#include "demo_m2m.hpp"
#include "demo_m2m_story.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/euicc_m2m/create.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/pki/test_pki.hpp"
#include "rsp/service/kek_file.hpp"
#include "rsp/service/sql_outbox.hpp"
#include "rsp/smsr/callbacks.hpp"
#include "rsp/store/open.hpp"

namespace rsp::cli {

namespace demo_m2m {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool MnoEndpoint::start() {
  net::HttpServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.insecure_plain_http = true;
  o.worker_threads = 2;
  server_ = std::make_unique<net::HttpServer>(std::move(o));
  server_->post("/mno/callbacks", [this](const net::Request& req) {
    {
      std::lock_guard lock(mu_);
      bodies_.push_back(req.body);
    }
    cv_.notify_all();
    net::Response res;
    res.status = 204;
    return res;
  });
  return static_cast<bool>(server_->start());
}

void MnoEndpoint::stop() {
  if (server_) server_->stop();
}

std::vector<nlohmann::json> MnoEndpoint::wait(std::size_t seen, std::size_t count, std::chrono::seconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return bodies_.size() >= count; });
  std::vector<nlohmann::json> out;
  for (std::size_t i = seen; i < bodies_.size(); ++i) out.push_back(nlohmann::json::parse(bodies_[i], nullptr, false));
  return out;
}

std::size_t MnoEndpoint::count() {
  std::lock_guard lock(mu_);
  return bodies_.size();
}

void CallbackDestinations::set(const std::string& recipient, std::string url) {
  std::lock_guard lock(mu_);
  urls_[recipient] = std::move(url);
}

std::string CallbackDestinations::of(const std::string& recipient) {
  std::lock_guard lock(mu_);
  auto it = urls_.find(recipient);
  return it == urls_.end() ? fallback_ : it->second;
}

int Demo::run() {
  if (!make_card()) return 1;
  if (!start_smsr()) return 1;
  if (!start_device()) return 1;
  if (!register_eis()) return 1;
  if (!enable_second()) return 1;
  if (!disable_with_fallback()) return 1;
  if (!pol2_refusal()) return 1;
  if (!pol1_refusal()) return 1;
  if (!start_smdp()) return 1;
  if (!download_profile()) return 1;
  if (!start_second_smsr()) return 1;
  if (!change_smsr()) return 1;
  if (!enable_after_change()) return 1;
  if (!expiry()) return 1;
  stop();
  std::printf("\nrsp demo m2m: all %d steps completed\n", n_);
  return 0;
}

void Demo::stop() {
  for (auto& s : device_sms_) s->stop();
  device_.reset();
  stop_smdp();
  stop_second_smsr();
  smsr_.stop();
  endpoint_.stop();
}

void Demo::step(const std::string& title) {
  std::printf("\n[%d] %s\n", ++n_, title.c_str());
  std::fflush(stdout);
}

void Demo::say(const std::string& line) {
  std::printf("      %s\n", line.c_str());
  std::fflush(stdout);
}

bool Demo::failed(const std::string& what) {
  std::printf("      FAILED: %s\n", what.c_str());
  std::fflush(stdout);
  return false;
}

std::string Demo::card_profiles() {
  std::string out;
  for (const auto& p : card_->isd_r().state().isdps)
    out += (out.empty() ? "" : ", ") + messages::iccid_to_digits(p.iccid) + " " + std::string(m2m::name(p.state));
  return out;
}

std::string Demo::eis_state(const std::string& iccid) {
  auto eis = in_charge_->registry().eis(eid_);
  if (!eis || !*eis) return "?";
  const auto* p = (*eis)->profile(iccid);
  return p ? std::string(m2m::state_name(p->state)) : "?";
}

std::optional<smsr::Operation> Demo::finish_at(smsr::Service& smsr, std::int64_t id, std::chrono::seconds timeout,
                                               bool quiet) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto op = smsr.operation(kMno, id);
    if (op && smsr::is_final(op->state)) {
      say("operation " + std::to_string(id) + " " + std::string(smsr::operation_state_name(op->state)) + ": " +
          op->status + (op->subject_code.empty() ? "" : " " + op->subject_code + "/" + op->reason_code));
      return *op;
    }
    std::this_thread::sleep_for(100ms);
  }
  if (!quiet) failed("operation " + std::to_string(id) + " did not end in time");
  return std::nullopt;
}

void Demo::print_callbacks(const std::vector<nlohmann::json>& bodies) {
  for (const auto& j : bodies) {
    if (!j.is_object()) continue;
    std::string line = j.value("function", "?");
    if (!j.value("iccid", "").empty()) line += " " + j.value("iccid", "");
    if (j.contains("functionExecutionStatus")) line += " " + j["functionExecutionStatus"].value("status", "");
    say("MNO callback: " + line);
  }
}

void Demo::show_callbacks(std::size_t seen, std::size_t count) { print_callbacks(endpoint_.wait(seen, count, 20s)); }

std::optional<nlohmann::json> Demo::show_callbacks_until(std::size_t seen, const std::string& function,
                                                         std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<nlohmann::json> bodies;
  std::optional<nlohmann::json> found;
  while (!found && std::chrono::steady_clock::now() < deadline) {
    bodies = endpoint_.wait(seen, endpoint_.count() + 1, 1s);
    for (const auto& j : bodies)
      if (j.is_object() && j.value("function", "") == function) found = j;
  }
  print_callbacks(bodies);
  return found;
}

void SmsrNode::stop() {
  if (sms) sms->stop();
  if (sessions) sessions->stop();
  if (worker) worker->stop();
}

bool Demo::start_smsr_node(SmsrNode& node, const std::string& database) {
  auto kek = service::kek_for_database("", database, crypto::system_random());
  if (!kek) return failed(kek.error());
  node.kek_id = kek->kek->id_hex();
  auto opened = store::open_database(database);
  if (!opened) return failed(opened.error().message);
  node.db = std::shared_ptr<store::Database>(std::move(*opened));
  smsr::RegistryOptions ro;
  ro.kek = kek->kek;
  auto registry = smsr::Registry::open(node.db, std::move(ro));
  if (!registry) return failed(registry.error().message);
  node.registry = std::shared_ptr<smsr::Registry>(std::move(*registry));

  node.sms = smsc_->attach(node.address);
  const auto log_line = [prefix = node.id + ": "](const std::string& line) { say(prefix + line); };
  smsr::Es5LinkConfig lc;
  lc.registry = node.registry;
  lc.sms = node.sms.get();
  lc.source = node.address;
  lc.log = log_line;
  node.link = std::make_shared<smsr::Es5Link>(std::move(lc));
  node.service_config.registry = node.registry;
  node.service_config.scripts = smsr::isdr_script;
  node.service_config.wake_up = [link = node.link.get()](const std::string& eid) { link->wake_up(eid); };
  node.service = std::make_shared<smsr::Service>(node.service_config);
  node.link->attach(node.service);

  es5::AdminSessionOptions ao;
  ao.log = log_line;
  node.sessions = std::make_unique<es5::AdminSessionServer>(
      ao, [link = node.link](std::string_view identity) { return link->psk(identity); }, *node.link, *node.link);
  if (auto r = node.sessions->start(); !r) return failed(r.error().message);
  node.link->set_trigger_address(node.sessions->host_header(), node.sessions->path());

  auto outbox = service::SqlOutbox::open(node.db, std::string(smsr::kCallbackOutbox), clock_,
                                         [destinations = destinations_](service::OutboxItem& item) {
                                           item.destination = destinations->of(item.recipient);
                                           return expected<void, std::string>{};
                                         });
  if (!outbox) return failed(outbox.error().message);
  service::OutboxWorkerConfig wc;
  wc.poll_interval = 50ms;
  wc.policy.first_delay = 1s;
  node.worker = std::make_unique<service::OutboxWorker>(*outbox, wc, smsr::mno_callback_sender(roots_, 5s));
  node.worker->start();
  return true;
}

void Demo::listen_at(const std::string& msisdn) {
  device_sms_.push_back(smsc_->attach(smpp::Address{msisdn, 1, 1}));
  device_->attach(*device_sms_.back());
}

bool Demo::make_card() {
  step("An M2M eUICC leaves the factory (as `rsp euicc create --m2m` makes one): ISD-R with SCP80 and SCP81 keys, "
       "ECASD, an enabled bootstrap profile (fallback attribute) and a disabled second profile, each with POL1 "
       "\"delete not allowed\"");
  pki::TestPkiOptions po;
  po.out_dir = dir_ / "pki";
  po.curves = {crypto::Curve::NistP256};
  if (auto r = pki::make_test_pki(po); !r) return failed("test PKI: " + r.error().message);
  pki_ = po.out_dir;
  auto roots = net::load_certificates(pki_ / "CERT_CI_ECDSA_NIST.pem");
  if (!roots || roots->empty()) return failed("the test CI's certificate");
  roots_ = std::move(*roots);
  auto sources = euicc::find_identity_sources(po.out_dir);
  if (!sources) return failed(sources.error().message);
  euicc_m2m::M2mCreateOptions o;
  o.dir = dir_ / "card";
  o.sources = *sources;
  o.smsr_id = kSmsrId;
  boot_iccid_ = "8988200000000000018";
  second_iccid_ = "8988200000000000026";
  o.profiles = {
      {euicc_m2m::isdp_aid(0), *messages::iccid_from_digits(boot_iccid_), kMno, m2m::pol1::kDeleteNotAllowed, true,
       true},
      {euicc_m2m::isdp_aid(1), *messages::iccid_from_digits(second_iccid_), kMno, m2m::pol1::kDeleteNotAllowed, false,
       false},
  };
  auto store = euicc_m2m::create_m2m_euicc(o);
  if (!store) return failed(store.error().message);
  euicc_m2m::RegistrationFacts facts{kEum, "", {{boot_iccid_, kBootMsisdn}, {second_iccid_, kSecondMsisdn}}};
  auto eis = euicc_m2m::registration_eis(*store, facts);
  if (!eis) return failed(eis.error().message);
  eis_ = *eis;
  eid_ = eis_.eid;
  euicc_m2m::IsdROptions io;
  io.fallback_timeout = 2s;
  auto card = euicc_m2m::M2mEuicc::open(o.dir, io);
  if (!card) return failed(card.error().message);
  card_ = std::move(*card);
  // The card's side of ES8 for the ISD-Ps an SM-DP creates (step "download").
  auto es8 = euicc_m2m::Es8Card::open(card_->isd_r_shared(), *store);
  if (!es8) return failed(es8.error().message);
  es8_ = std::move(*es8);
  say("EID " + eid_ + ", in " + o.dir.string());
  say("profiles: " + card_profiles());
  say("MSISDNs (the network's): bootstrap " + kBootMsisdn + ", second " + kSecondMsisdn);
  return true;
}

bool Demo::start_smsr() {
  step("The SM-SR: its EIS registry in SQLite (ISD-R keys sealed under a key-encryption key), the ES5 link "
       "(SMS wake-ups through the in-process loopback SMSC), PSK-TLS administration sessions on 127.0.0.1, and "
       "the MNO's callbacks through a durable outbox");
  if (!endpoint_.start()) return failed("the MNO's callback endpoint did not start");
  destinations_ = std::make_shared<CallbackDestinations>(endpoint_.url());
  smsc_ = std::make_unique<smpp::LoopbackSmsc>();
  const std::string database = (dir_ / "smsr.db").string();
  if (!start_smsr_node(smsr_, database)) return false;
  in_charge_ = smsr_.service;
  say("registry " + database + ", key-encryption key id " + smsr_.kek_id);
  say("administration sessions (PSK-TLS) on " + smsr_.sessions->host_header() + smsr_.sessions->path());
  say("SMS address " + smsr_.address.digits + " on the loopback SMSC; MNO callbacks to " + endpoint_.url());
  return true;
}

bool Demo::start_device() {
  step("The device (card and terminal in one) attaches to the loopback SMSC at both profiles' MSISDNs");
  m2m_device::M2mDeviceOptions o;
  o.msisdn = smpp::Address{kBootMsisdn, 1, 1};
  // No SM-SR address: each proof of receipt goes to the SMS's originator
  // (after the SM-SR change, another SM-SR).
  o.default_host = smsr_.sessions->host_header();
  o.isdp = [es8 = es8_.get()](ByteView aid, ByteView c_apdu) { return es8->execute(aid, c_apdu); };
  o.log = [](const std::string& line) { say(line); };
  device_ = std::make_unique<m2m_device::M2mDevice>(card_->isd_r(), o);
  listen_at(kBootMsisdn);
  listen_at(kSecondMsisdn);
  say("a real card would ask its terminal for a BIP channel; the simulator opens the PSK-TLS connection itself");
  return true;
}

bool Demo::register_eis() {
  step("ES1 RegisterEIS: the EUM registers the eUICC's EIS with the SM-SR");
  if (auto r = smsr_.service->register_eis(kEum, eis_); !r)
    return failed(r.error().subject_code + "/" + r.error().reason_code + " " + r.error().message);
  auto shown = smsr_.service->get_eis(kMno, eid_);
  if (!shown) return failed(shown.error().message);
  say("ES4 GetEIS by " + kMno + " (keys never shown): " +
      m2m::eis_to_json(*shown, m2m::Keys::Omit)["profiles"].dump());
  return true;
}

bool Demo::enable_second() {
  step("ES4 EnableProfile of the second profile by the MNO: accepted at once; the SM-SR queues the ISD-R "
       "command, wakes the device by SMS (SCP80), the device opens the HTTPS session (SCP81), the card enables "
       "the profile and notifies; the MNO gets the result by callback");
  const auto seen = endpoint_.count();
  auto accepted = smsr_.service->enable_profile(kMno, eid_, second_iccid_, std::nullopt);
  if (!accepted) return failed(accepted.error().subject_code + "/" + accepted.error().reason_code);
  say("accepted, operation " + std::to_string(accepted->operation_id));
  auto op = finish(accepted->operation_id);
  if (!op || op->state != smsr::OperationState::Completed) return failed("the enable did not complete");
  device_->wait_idle(10s);
  say("on the card: " + card_profiles());
  say("in the EIS: second profile " + eis_state(second_iccid_));
  show_callbacks(seen, seen + 1);
  return true;
}

bool Demo::disable_with_fallback() {
  step("ES4 DisableProfile of the second profile: the card disables it and enables the profile with the fallback "
       "attribute (the bootstrap profile)");
  const auto seen = endpoint_.count();
  auto accepted = smsr_.service->disable_profile(kMno, eid_, second_iccid_, std::nullopt);
  if (!accepted) return failed(accepted.error().subject_code + "/" + accepted.error().reason_code);
  auto op = finish(accepted->operation_id);
  if (!op || op->state != smsr::OperationState::Completed) return failed("the disable did not complete");
  device_->wait_idle(10s);
  say("on the card: " + card_profiles());
  say("in the EIS: bootstrap " + eis_state(boot_iccid_) + ", second " + eis_state(second_iccid_));
  show_callbacks(seen, seen + 1);
  return true;
}

bool Demo::pol2_refusal() {
  step("POL2 in the SM-SR: the MNO sets \"disable not allowed\" on the bootstrap profile; an EnableProfile of the "
       "second profile (which would disable it) is refused at once");
  if (auto r = smsr_.service->update_policy_rules(kMno, eid_, boot_iccid_,
                                             {{m2m::PolicyAction::Disable, m2m::PolicyQualification::NotAllowed}});
      !r)
    return failed(r.error().message);
  auto refused = smsr_.service->enable_profile(kMno, eid_, second_iccid_, std::nullopt);
  if (refused) return failed("the enable was accepted");
  say("refused: " + refused.error().subject_code + "/" + refused.error().reason_code + " " + refused.error().message);
  if (auto r = smsr_.service->update_policy_rules(kMno, eid_, boot_iccid_, {}); !r) return failed(r.error().message);
  say("rule lifted again");
  return true;
}

bool Demo::pol1_refusal() {
  step("POL1 on the card: DeleteProfile of the disabled second profile; the SM-SR (which does not hold POL1) "
       "accepts it, the card refuses it under its POL1 \"delete not allowed\", and the operation fails");
  const auto seen = endpoint_.count();
  auto accepted = smsr_.service->delete_profile(kMno, eid_, second_iccid_, std::nullopt);
  if (!accepted)
    return failed("refused by the SM-SR: " + accepted.error().subject_code + "/" + accepted.error().reason_code);
  auto op = finish(accepted->operation_id);
  if (!op) return false;
  if (op->state != smsr::OperationState::Failed) return failed("the card did not refuse it");
  device_->wait_idle(10s);
  say("on the card: " + card_profiles());
  show_callbacks(seen, seen + 1);
  return true;
}

bool Demo::expiry() {
  step("Expiry: the device goes silent (no SMS reaches it); an EnableProfile of the bootstrap profile with a "
       "validity of 2 s, at the SM-SR in charge now, ends Expired and the MNO is told");
  for (auto& s : device_sms_) s->stop();
  const auto seen = endpoint_.count();
  auto accepted = in_charge_->enable_profile(kMno, eid_, boot_iccid_, 2);
  if (!accepted) return failed(accepted.error().subject_code + "/" + accepted.error().reason_code);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::optional<smsr::Operation> op;
  while (std::chrono::steady_clock::now() < deadline) {
    (void)in_charge_->expire();  // the sweeper of `rsp smsr serve`
    op = finish(accepted->operation_id, 1s, true);
    if (op) break;
  }
  if (!op || op->state != smsr::OperationState::Expired) return failed("the operation did not expire");
  say("on the card, unchanged: " + card_profiles());
  show_callbacks(seen, seen + 1);
  return true;
}

}  // namespace demo_m2m

int run_demo_m2m(const std::string& dir_option, bool keep) {
  namespace fs = std::filesystem;
  fs::path dir = dir_option;
  if (dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "rsp-demo-m2m-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
      std::printf("rsp demo m2m: cannot make a temporary folder\n");
      return 1;
    }
    dir = tmpl;
  } else {
    std::error_code ec;
    fs::create_directories(dir, ec);
  }
  std::printf("rsp demo m2m: the SGP.02 push story in one process, in %s\n", dir.c_str());
  int rc = 0;
  {
    demo_m2m::Demo demo(dir);
    rc = demo.run();
    demo.stop();
  }
  if (!keep && dir_option.empty()) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  } else {
    std::printf("rsp demo m2m: files kept in %s\n", dir.c_str());
  }
  return rc;
}

}  // namespace rsp::cli
