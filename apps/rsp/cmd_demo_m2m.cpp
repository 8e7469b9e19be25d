// `rsp demo m2m`: the M2M story (SGP.02) on the embedded default, in one
// process, each step printed: an M2M eUICC made as `rsp euicc create --m2m`
// makes one, the SM-SR (registry on SQLite, ES5 link, PSK-TLS administration
// sessions on 127.0.0.1) and the simulated device reached through the
// in-process loopback SMSC; ES1 and ES4 are called on the SM-SR's service as
// its HTTPS binding calls them; the MNO's callbacks reach a small HTTP
// receiver of the demo through the SM-SR's durable outbox. No protocol logic
// lives here: it only wires the libraries.

#include "demo_m2m.hpp"

#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "rsp/common/file.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/es5/admin_session.hpp"
#include "rsp/euicc_m2m/create.hpp"
#include "rsp/euicc_m2m/euicc.hpp"
#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m_device/device.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/net/server.hpp"
#include "rsp/pki/test_pki.hpp"
#include "rsp/service/kek_file.hpp"
#include "rsp/service/outbox.hpp"
#include "rsp/service/sql_outbox.hpp"
#include "rsp/smpp/loopback.hpp"
#include "rsp/smsr/callbacks.hpp"
#include "rsp/smsr/es5_link.hpp"
#include "rsp/smsr/service.hpp"
#include "rsp/store/open.hpp"

namespace rsp::cli {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kEum = "EUM-TEST";
const std::string kMno = "demo-mno";
const smpp::Address kSmsrAddress{"4912345", 1, 1};
const std::string kBootMsisdn = "447700900001";
const std::string kSecondMsisdn = "447700900002";

/// The MNO's callback endpoint: plain HTTP on 127.0.0.1, keeping each body.
class MnoEndpoint {
 public:
  bool start() {
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
  void stop() {
    if (server_) server_->stop();
  }
  std::string url() const { return server_->url() + "/mno/callbacks"; }
  /// Waits for `count` bodies in all; those after `seen`.
  std::vector<nlohmann::json> wait(std::size_t seen, std::size_t count, std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return bodies_.size() >= count; });
    std::vector<nlohmann::json> out;
    for (std::size_t i = seen; i < bodies_.size(); ++i) out.push_back(nlohmann::json::parse(bodies_[i], nullptr, false));
    return out;
  }
  std::size_t count() {
    std::lock_guard lock(mu_);
    return bodies_.size();
  }

 private:
  std::unique_ptr<net::HttpServer> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> bodies_;
};

class Demo {
 public:
  explicit Demo(fs::path dir) : dir_(std::move(dir)) {}

  int run() {
    if (!make_card()) return 1;
    if (!start_smsr()) return 1;
    if (!start_device()) return 1;
    if (!register_eis()) return 1;
    if (!enable_second()) return 1;
    if (!disable_with_fallback()) return 1;
    if (!pol2_refusal()) return 1;
    if (!pol1_refusal()) return 1;
    if (!expiry()) return 1;
    stop();
    std::printf("\nrsp demo m2m: all %d steps completed\n", n_);
    return 0;
  }
  void stop() {
    if (device_sms_boot_) device_sms_boot_->stop();
    if (device_sms_second_) device_sms_second_->stop();
    device_.reset();
    if (smsr_sms_) smsr_sms_->stop();
    if (sessions_) sessions_->stop();
    if (worker_) worker_->stop();
    endpoint_.stop();
  }

 private:
  void step(const std::string& title) {
    std::printf("\n[%d] %s\n", ++n_, title.c_str());
    std::fflush(stdout);
  }
  static void say(const std::string& line) {
    std::printf("      %s\n", line.c_str());
    std::fflush(stdout);
  }
  bool failed(const std::string& what) {
    std::printf("      FAILED: %s\n", what.c_str());
    std::fflush(stdout);
    return false;
  }

  std::string card_profiles() {
    std::string out;
    for (const auto& p : card_->isd_r().state().isdps)
      out += (out.empty() ? "" : ", ") + messages::iccid_to_digits(p.iccid) + " " + std::string(m2m::name(p.state));
    return out;
  }
  std::string eis_state(const std::string& iccid) {
    auto eis = service_->registry().eis(eid_);
    if (!eis || !*eis) return "?";
    const auto* p = (*eis)->profile(iccid);
    return p ? std::string(m2m::state_name(p->state)) : "?";
  }

  bool make_card() {
    step("An M2M eUICC leaves the factory (as `rsp euicc create --m2m` makes one): ISD-R with SCP80 and SCP81 keys, "
         "ECASD, an enabled bootstrap profile (fallback attribute) and a disabled second profile, each with POL1 "
         "\"delete not allowed\"");
    pki::TestPkiOptions po;
    po.out_dir = dir_ / "pki";
    po.curves = {crypto::Curve::NistP256};
    if (auto r = pki::make_test_pki(po); !r) return failed("test PKI: " + r.error().message);
    auto sources = euicc::find_identity_sources(po.out_dir);
    if (!sources) return failed(sources.error().message);
    crypto::SystemRandom random;
    euicc_m2m::M2mCreateOptions o;
    o.dir = dir_ / "card";
    o.sources = *sources;
    o.smsr_id = "smsr.demo";
    boot_iccid_ = "8988200000000000018";
    second_iccid_ = "8988200000000000026";
    o.profiles = {
        {euicc_m2m::isdp_aid(0), *messages::iccid_from_digits(boot_iccid_), kMno, m2m::pol1::kDeleteNotAllowed, true,
         true},
        {euicc_m2m::isdp_aid(1), *messages::iccid_from_digits(second_iccid_), kMno, m2m::pol1::kDeleteNotAllowed,
         false, false},
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
    say("EID " + eid_ + ", in " + o.dir.string());
    say("profiles: " + card_profiles());
    say("MSISDNs (the network's): bootstrap " + kBootMsisdn + ", second " + kSecondMsisdn);
    return true;
  }

  bool start_smsr() {
    step("The SM-SR: its EIS registry in SQLite (ISD-R keys sealed under a key-encryption key), the ES5 link "
         "(SMS wake-ups through the in-process loopback SMSC), PSK-TLS administration sessions on 127.0.0.1, and "
         "the MNO's callbacks through a durable outbox");
    if (!endpoint_.start()) return failed("the MNO's callback endpoint did not start");
    const std::string database = (dir_ / "smsr.db").string();
    auto kek = service::kek_for_database("", database, crypto::system_random());
    if (!kek) return failed(kek.error());
    auto opened = store::open_database(database);
    if (!opened) return failed(opened.error().message);
    db_ = std::shared_ptr<store::Database>(std::move(*opened));
    smsr::RegistryOptions ro;
    ro.kek = kek->kek;
    auto registry = smsr::Registry::open(db_, std::move(ro));
    if (!registry) return failed(registry.error().message);
    registry_ = std::shared_ptr<smsr::Registry>(std::move(*registry));

    smsc_ = std::make_unique<smpp::LoopbackSmsc>();
    smsr_sms_ = smsc_->attach(kSmsrAddress);
    smsr::Es5LinkConfig lc;
    lc.registry = registry_;
    lc.sms = smsr_sms_.get();
    lc.source = kSmsrAddress;
    lc.log = [](const std::string& line) { say("sm-sr: " + line); };
    link_ = std::make_shared<smsr::Es5Link>(std::move(lc));

    smsr::ServiceConfig sc;
    sc.registry = registry_;
    sc.scripts = smsr::isdr_script;
    sc.wake_up = [link = link_](const std::string& eid) { link->wake_up(eid); };
    service_ = std::make_shared<smsr::Service>(std::move(sc));
    link_->attach(service_);

    es5::AdminSessionOptions ao;
    ao.log = [](const std::string& line) { say("sm-sr: " + line); };
    sessions_ = std::make_unique<es5::AdminSessionServer>(
        ao, [link = link_](std::string_view identity) { return link->psk(identity); }, *link_, *link_);
    if (auto r = sessions_->start(); !r) return failed(r.error().message);
    link_->set_trigger_address(sessions_->host_header(), sessions_->path());

    const std::string callback_url = endpoint_.url();
    auto outbox = service::SqlOutbox::open(db_, "smsr.es4", clock_, [callback_url](service::OutboxItem& item) {
      item.destination = callback_url;
      return expected<void, std::string>{};
    });
    if (!outbox) return failed(outbox.error().message);
    service::OutboxWorkerConfig wc;
    wc.poll_interval = 200ms;
    wc.policy.first_delay = 1s;
    worker_ = std::make_unique<service::OutboxWorker>(*outbox, wc, smsr::mno_callback_sender({}, 5s));
    worker_->start();
    say("registry " + database + ", key-encryption key id " + kek->kek->id_hex());
    say("administration sessions (PSK-TLS) on " + sessions_->host_header() + sessions_->path());
    say("SMS address " + kSmsrAddress.digits + " on the loopback SMSC; MNO callbacks to " + callback_url);
    return true;
  }

  bool start_device() {
    step("The device (card and terminal in one) attaches to the loopback SMSC at both profiles' MSISDNs");
    m2m_device::M2mDeviceOptions o;
    o.msisdn = smpp::Address{kBootMsisdn, 1, 1};
    o.smsr_address = kSmsrAddress;
    o.default_host = sessions_->host_header();
    o.log = [](const std::string& line) { say(line); };
    device_ = std::make_unique<m2m_device::M2mDevice>(card_->isd_r(), o);
    device_sms_boot_ = smsc_->attach(smpp::Address{kBootMsisdn, 1, 1});
    device_sms_second_ = smsc_->attach(smpp::Address{kSecondMsisdn, 1, 1});
    device_->attach(*device_sms_boot_);
    device_->attach(*device_sms_second_);
    say("a real card would ask its terminal for a BIP channel; the simulator opens the PSK-TLS connection itself");
    return true;
  }

  bool register_eis() {
    step("ES1 RegisterEIS: the EUM registers the eUICC's EIS with the SM-SR");
    if (auto r = service_->register_eis(kEum, eis_); !r)
      return failed(r.error().subject_code + "/" + r.error().reason_code + " " + r.error().message);
    auto shown = service_->get_eis(kMno, eid_);
    if (!shown) return failed(shown.error().message);
    say("ES4 GetEIS by " + kMno + " (keys never shown): " +
        m2m::eis_to_json(*shown, m2m::Keys::Omit)["profiles"].dump());
    return true;
  }

  /// Waits for operation `id` to end; prints its outcome (or, unless
  /// `quiet`, that it did not end in time).
  std::optional<smsr::Operation> finish(std::int64_t id, std::chrono::seconds timeout = 30s, bool quiet = false) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto op = service_->operation(kMno, id);
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
  void show_callbacks(std::size_t seen, std::size_t count) {
    for (const auto& j : endpoint_.wait(seen, count, 20s)) {
      if (!j.is_object()) continue;
      std::string line = j.value("function", "?") + " " + j.value("iccid", "");
      if (j.contains("functionExecutionStatus")) line += " " + j["functionExecutionStatus"].value("status", "");
      say("MNO callback: " + line);
    }
  }

  bool enable_second() {
    step("ES4 EnableProfile of the second profile by the MNO: accepted at once; the SM-SR queues the ISD-R "
         "command, wakes the device by SMS (SCP80), the device opens the HTTPS session (SCP81), the card enables "
         "the profile and notifies; the MNO gets the result by callback");
    const auto seen = endpoint_.count();
    auto accepted = service_->enable_profile(kMno, eid_, second_iccid_, std::nullopt);
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

  bool disable_with_fallback() {
    step("ES4 DisableProfile of the second profile: the card disables it and enables the profile with the fallback "
         "attribute (the bootstrap profile)");
    const auto seen = endpoint_.count();
    auto accepted = service_->disable_profile(kMno, eid_, second_iccid_, std::nullopt);
    if (!accepted) return failed(accepted.error().subject_code + "/" + accepted.error().reason_code);
    auto op = finish(accepted->operation_id);
    if (!op || op->state != smsr::OperationState::Completed) return failed("the disable did not complete");
    device_->wait_idle(10s);
    say("on the card: " + card_profiles());
    say("in the EIS: bootstrap " + eis_state(boot_iccid_) + ", second " + eis_state(second_iccid_));
    show_callbacks(seen, seen + 1);
    return true;
  }

  bool pol2_refusal() {
    step("POL2 in the SM-SR: the MNO sets \"disable not allowed\" on the bootstrap profile; an EnableProfile of the "
         "second profile (which would disable it) is refused at once");
    if (auto r = service_->update_policy_rules(kMno, eid_, boot_iccid_,
                                               {{m2m::PolicyAction::Disable, m2m::PolicyQualification::NotAllowed}});
        !r)
      return failed(r.error().message);
    auto refused = service_->enable_profile(kMno, eid_, second_iccid_, std::nullopt);
    if (refused) return failed("the enable was accepted");
    say("refused: " + refused.error().subject_code + "/" + refused.error().reason_code + " " + refused.error().message);
    if (auto r = service_->update_policy_rules(kMno, eid_, boot_iccid_, {}); !r) return failed(r.error().message);
    say("rule lifted again");
    return true;
  }

  bool pol1_refusal() {
    step("POL1 on the card: DeleteProfile of the disabled second profile; the SM-SR (which does not hold POL1) "
         "accepts it, the card refuses it under its POL1 \"delete not allowed\", and the operation fails");
    const auto seen = endpoint_.count();
    auto accepted = service_->delete_profile(kMno, eid_, second_iccid_, std::nullopt);
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

  bool expiry() {
    step("Expiry: the device goes silent (no SMS reaches it); an EnableProfile with a validity of 2 s ends "
         "Expired and the MNO is told");
    device_sms_boot_->stop();
    device_sms_second_->stop();
    const auto seen = endpoint_.count();
    auto accepted = service_->enable_profile(kMno, eid_, second_iccid_, 2);
    if (!accepted) return failed(accepted.error().subject_code + "/" + accepted.error().reason_code);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    std::optional<smsr::Operation> op;
    while (std::chrono::steady_clock::now() < deadline) {
      (void)service_->expire();  // the sweeper of `rsp smsr serve`
      op = finish(accepted->operation_id, 1s, true);
      if (op) break;
    }
    if (!op || op->state != smsr::OperationState::Expired) return failed("the operation did not expire");
    say("on the card, unchanged: " + card_profiles());
    show_callbacks(seen, seen + 1);
    return true;
  }

  fs::path dir_;
  int n_ = 0;
  std::string eid_, boot_iccid_, second_iccid_;
  m2m::Eis eis_;
  std::unique_ptr<euicc_m2m::M2mEuicc> card_;
  service::SystemClock clock_;
  MnoEndpoint endpoint_;
  std::shared_ptr<store::Database> db_;
  std::shared_ptr<smsr::Registry> registry_;
  std::unique_ptr<smpp::LoopbackSmsc> smsc_;
  std::unique_ptr<smpp::SmsTransport> smsr_sms_;
  std::shared_ptr<smsr::Es5Link> link_;
  std::shared_ptr<smsr::Service> service_;
  std::unique_ptr<es5::AdminSessionServer> sessions_;
  std::unique_ptr<service::OutboxWorker> worker_;
  std::unique_ptr<smpp::SmsTransport> device_sms_boot_, device_sms_second_;
  std::unique_ptr<m2m_device::M2mDevice> device_;
};

}  // namespace

int run_demo_m2m(const std::string& dir_option, bool keep) {
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
    Demo demo(dir);
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
