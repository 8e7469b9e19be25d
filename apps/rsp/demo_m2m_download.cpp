// `rsp demo m2m`, the download (demo_m2m_story.hpp): the M2M SM-DP in the
// same process: its inventory in SQLite with one profile of the demo MNO (a
// SAIP package made as `rsp profile sample` makes one, sealed at rest), its
// ES2 service, and its ES3 client reaching the SM-SR's ES3 over real HTTPS
// with mutual TLS (the SM-SR knows the SM-DP by its pinned client
// certificate); the SM-SR calls the SM-DP's results back over HTTPS from its
// outbox. The MNO's ES2 DownloadProfile(enable) is called on the SM-DP's
// service as its HTTPS binding calls it.

#include <cstdio>

#include "demo_m2m_story.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/m2m/es2.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/pki/certificate.hpp"
#include "rsp/pki/key_store.hpp"
#include "rsp/service/caller_config.hpp"
#include "rsp/service/kek_file.hpp"
#include "rsp/service/sql_outbox.hpp"
#include "rsp/smdp/es2_http.hpp"
#include "rsp/smdp/es2_service.hpp"
#include "rsp/smdp/es3_client.hpp"
#include "rsp/smdp/inventory.hpp"
#include "rsp/smdpp/sample_profile.hpp"
#include "rsp/smsr/callbacks.hpp"
#include "rsp/smsr/es3_service.hpp"
#include "rsp/smsr/http_service.hpp"
#include "rsp/store/open.hpp"

namespace rsp::cli::demo_m2m {

namespace {

using namespace std::chrono_literals;
namespace es3 = m2m::es3;

const std::string kSmdp = "smdp.demo";
const std::string kProfileType = "m2m-demo";
const std::string kDownloadedIccid = "8988200000000000034";
const std::string kDownloadedMsisdn = "447700900003";
/// The connectivity parameters of the demo's profile type, as an operator
/// configures them (`connectivity_parameters` of `rsp smdp serve`): 'A0' SMS
/// parameters (m2m/es8_connectivity.hpp) holding the SMS centre address
/// +44 7700 900000 (a number of the UK's range for drama) as TS 24.011
/// codes an RP address: length 7, TON/NPI '91' (international, E.164), the
/// digits in swapped BCD. The inner tag '80' is this demo's choice.
const std::string kSmsCentre = "+447700900000";
const Bytes kConnectivityParameters = {0xA0, 0x09, 0x80, 0x07, 0x91, 0x44, 0x77, 0x00, 0x09, 0x00, 0x00};

/// The SM-DP's ES3 port, printing each function and its result as the
/// SM-DP gets it (the first SendData after CreateISDP carries the SM-DP's
/// certificate, which the card answers with its random challenge; the second
/// the key agreement signed over it; the later ones the profile).
class PrintingPort final : public smdp::Es3Port {
 public:
  explicit PrintingPort(smdp::Es3Port& inner) : inner_(inner) {}
  expected<es3::Result, std::string> call(const es3::Request& request) override {
    const es3::Function f = es3::function_of(request);
    std::string name(es3::function(f).name);
    if (f == es3::Function::CreateIsdp) send_data_ = 0;
    if (f == es3::Function::SendData) {
      ++send_data_;
      name += send_data_ == 1   ? " (ES8 key establishment, ECKA scenario #3: CERT.DP.ECDSA; the card answers with its random challenge)"
              : send_data_ == 2 ? " (ES8 key establishment: the SM-DP's ephemeral key, signed over that challenge; the card's receipt)"
                                : " (the profile under SCP03t)";
    }
    if (f == es3::Function::UpdateConnectivityParameters)
      name += " (ES8.UpdateConnectivityParameters: the SMS centre " + kSmsCentre + ", under the ISD-P's SCP03 keys)";
    auto r = inner_.call(request);
    std::printf("      sm-dp: %s -> %s\n", name.c_str(),
                r ? (r->status + (r->subject_code.empty() ? "" : " " + r->subject_code + "/" + r->reason_code)).c_str()
                  : r.error().c_str());
    std::fflush(stdout);
    return r;
  }

 private:
  smdp::Es3Port& inner_;
  int send_data_ = 0;  ///< SendData calls since the last CreateISDP
};

}  // namespace

struct SmdpPart {
  // At the SM-SR: ES3 on HTTPS.
  std::shared_ptr<smsr::Es3Service> es3;
  std::unique_ptr<smsr::HttpService> smsr_http;
  // The SM-DP.
  std::shared_ptr<smdp::Es3Results> results = std::make_shared<smdp::Es3Results>();
  std::unique_ptr<net::HttpServer> results_server;
  std::shared_ptr<smdp::Inventory> inventory;
  std::unique_ptr<smdp::Es3Client> client;
  std::unique_ptr<PrintingPort> port;
  std::unique_ptr<smdp::Es2Service> es2;
  std::unique_ptr<service::OutboxWorker> callbacks;
};

bool Demo::start_smdp() {
  step("The M2M SM-DP: its profile inventory in SQLite with a profile of " + kMno +
       " (a SAIP package as `rsp profile sample` makes one, sealed under a key-encryption key), its ES2 service, "
       "and ES3 to the SM-SR over HTTPS with mutual TLS (the SM-SR serves ES3 now too, the SM-DP known by its "
       "client certificate); the SM-SR calls the ES3 results back to the SM-DP over HTTPS");
  smdp_ = std::make_shared<SmdpPart>();
  SmdpPart& p = *smdp_;

  // The SM-SR's side: ES3 on its registry and ES5 link, served on HTTPS.
  p.es3 = std::make_shared<smsr::Es3Service>(smsr_.service_config);
  smsr_.link->attach_es3(p.es3);
  auto smsr_tls = net::TlsIdentity::load(pki_ / "CERT_M2M_SM_SR_TLS_NIST.pem", pki_ / "SK_M2M_SM_SR_TLS_NIST.pem");
  if (!smsr_tls) return failed("the SM-SR's TLS identity: " + smsr_tls.error().message);
  auto smdp_tls_cert = pki::Certificate::load_file(pki_ / "CERT_M2M_SM_DP_TLS_NIST.pem");
  if (!smdp_tls_cert || smdp_tls_cert->empty()) return failed("the SM-DP's TLS certificate");
  smsr::HttpConfig hc;
  hc.tls_identities.push_back(std::move(*smsr_tls));
  hc.client_roots = roots_;
  auto callers = std::make_shared<service::CallerAuthenticator>(std::vector<service::CallerCredential>{
      {kSmdp, {}, "", smdp_tls_cert->front().der(), std::nullopt, ""}});
  hc.authenticate = [callers](const net::Request& req) { return callers->authenticate(req); };
  hc.roles.smdps = {kSmdp};
  hc.es3 = p.es3;
  hc.worker_threads = 2;
  auto http = smsr::HttpService::start(smsr_.service, std::move(hc));
  if (!http) return failed("the SM-SR's ES3 service: " + http.error().message);
  p.smsr_http = std::move(*http);

  // The SM-DP's results route, on HTTPS with its TLS certificate.
  auto smdp_tls = net::TlsIdentity::load(pki_ / "CERT_M2M_SM_DP_TLS_NIST.pem", pki_ / "SK_M2M_SM_DP_TLS_NIST.pem");
  if (!smdp_tls) return failed("the SM-DP's TLS identity: " + smdp_tls.error().message);
  net::HttpServerOptions so;
  so.host = "127.0.0.1";
  so.tls = net::TlsServerConfig{};
  so.tls->identities.push_back(std::move(*smdp_tls));
  so.worker_threads = 1;
  p.results_server = std::make_unique<net::HttpServer>(std::move(so));
  p.results_server->post(std::string(smdp::kEs3ResultsPath), [results = p.results](const net::Request& req) {
    net::Response res;
    // The SM-SR's ES3 notifications (the card's confirmation of the enable)
    // come here too: taken; `rsp smdp serve` passes them on to the MNO.
    auto callback = m2m::es3::decode_callback(req.body);
    res.status = callback ? 204 : 400;
    if (callback)
      if (auto* r = std::get_if<m2m::es3::Result>(&*callback)) results->deliver(std::move(*r));
    return res;
  });
  if (auto r = p.results_server->start(); !r) return failed("the SM-DP's results route did not start");
  destinations_->set(kSmdp, p.results_server->url() + std::string(smdp::kEs3ResultsPath));

  // The inventory, with the demo MNO's profile.
  const std::string database = (dir_ / "smdp.db").string();
  auto kek = service::kek_for_database("", database, crypto::system_random());
  if (!kek) return failed(kek.error());
  auto opened = store::open_database(database);
  if (!opened) return failed(opened.error().message);
  std::shared_ptr<store::Database> db(std::move(*opened));
  auto inventory = smdp::Inventory::open(db, kek->kek);
  if (!inventory) return failed(inventory.error().message);
  p.inventory = std::move(*inventory);
  smdpp::SampleProfileOptions po;
  po.profile_type = kProfileType;
  const Bytes upp =
      smdpp::make_sample_upp(*messages::iccid_from_digits(kDownloadedIccid), crypto::system_random(), po);
  if (auto r = p.inventory->add(kDownloadedIccid, kProfileType, kMno, upp, crypto::system_random()); !r)
    return failed(r.error().message);

  // ES8: CERT.DP.ECDSA and its key; what an ECASD certificate must chain to.
  auto dp_cert = pki::Certificate::load_file(pki_ / "CERT_M2M_SM_DP_ECDSA_NIST.pem");
  auto dp_key = pki::load_private_key_file(pki_ / "SK_M2M_SM_DP_ECDSA_NIST.pem");
  auto eum = pki::Certificate::load_file(pki_ / "CERT_EUM_ECDSA_NIST.pem");
  auto ci = pki::Certificate::load_file(pki_ / "CERT_CI_ECDSA_NIST.pem");
  if (!dp_cert || dp_cert->empty() || !dp_key || !eum || !ci) return failed("the SM-DP's ES8 certificates");
  smdp::DownloadConfig download{smdp::DpIdentity{dp_cert->front().der(), std::move(*dp_key)},
                                smdp::EcasdTrust{std::move(*eum), std::move(*ci)}, 8, {}};

  // ES3 to the SM-SR, with the SM-DP's client certificate.
  smdp::Es3ClientOptions co;
  co.smsr_url = p.smsr_http->url();
  co.trust_anchors = roots_;
  auto client_id = net::TlsIdentity::load(pki_ / "CERT_M2M_SM_DP_TLS_NIST.pem", pki_ / "SK_M2M_SM_DP_TLS_NIST.pem");
  if (!client_id) return failed("the SM-DP's TLS identity: " + client_id.error().message);
  co.identity = std::move(*client_id);
  co.result_timeout = 30s;
  auto client = smdp::Es3Client::create(std::move(co), p.results);
  if (!client) return failed(client.error());
  p.client = std::move(*client);
  p.port = std::make_unique<PrintingPort>(*p.client);

  // ES2, its operations' callbacks to the MNO from the SM-DP's outbox.
  auto outbox = service::SqlOutbox::open(db, std::string(smdp::kMnoCallbackOutbox), clock_);
  if (!outbox) return failed(outbox.error().message);
  smdp::Es2ServiceConfig ec(kSmsrId, std::move(download));
  ec.callback_url = [url = endpoint_.url()](const std::string&) { return url; };
  ec.connectivity_parameters[kProfileType] = kConnectivityParameters;
  auto es2 = smdp::Es2Service::open(std::move(ec), db, p.inventory, *p.port, *outbox);
  if (!es2) return failed(es2.error());
  p.es2 = std::move(*es2);
  p.es2->start();
  service::OutboxWorkerConfig wc;
  wc.poll_interval = 50ms;
  p.callbacks = std::make_unique<service::OutboxWorker>(*outbox, wc, smsr::mno_callback_sender(roots_, 5s));
  p.callbacks->start();

  say("inventory " + database + ": ICCID " + kDownloadedIccid + ", type " + kProfileType + ", " + kMno + ", " +
      std::to_string(upp.size()) + "-byte package, key-encryption key id " + kek->kek->id_hex());
  say("connectivity parameters of type " + kProfileType + ": " + to_hex(kConnectivityParameters) +
      " (SMS parameters, SMS centre " + kSmsCentre + ")");
  say("SM-SR ES3 on " + p.smsr_http->url() + " (mutual TLS); SM-DP results on " + p.results_server->url());
  return true;
}

bool Demo::download_profile() {
  step("ES2 DownloadProfile(enable=true) by " + kMno + " (profile type " + kProfileType +
       "): accepted at once; the SM-DP's worker runs ES3 GetEIS, CreateISDP (SMS wake-up, HTTPS session, the "
       "ISD-R creates the ISD-P), the ES8 key establishment, the profile under SCP03t, the profile type's "
       "connectivity parameters (ES8.UpdateConnectivityParameters in ES3.UpdateConnectivityParameters, which the "
       "SM-SR forwards unread), ProfileDownloadCompleted and EnableProfile; the SM-SR calls each result back to "
       "the SM-DP, the SM-DP tells the MNO");
  SmdpPart& p = *smdp_;
  const auto seen = endpoint_.count();
  auto reply = p.es2->handle(m2m::es2::DownloadProfile{eid_, "", kProfileType, kSmsrId, true, std::nullopt}, kMno);
  if (!reply.answer.accepted())
    return failed(reply.answer.subject_code + "/" + reply.answer.reason_code + " " + reply.answer.message);
  say("accepted, SM-DP operation " + std::to_string(reply.answer.operation_id));
  auto result = show_callbacks_until(seen, "ES2.DownloadProfile", 60s);
  device_->wait_idle(10s);
  if (!result) return failed("no ES2 result reached the MNO");
  if (!result->contains("functionExecutionStatus") ||
      (*result)["functionExecutionStatus"].value("status", "") != "Executed-Success")
    return failed("the download did not succeed");
  downloaded_iccid_ = result->value("iccid", "");
  auto in_inventory = p.inventory->get(kMno, downloaded_iccid_);
  say("the device's profiles: " + card_profiles());
  // As `rsp euicc m2m-info` shows them: the ISD-P's AID, then the parameters in hex.
  for (const auto& isdp : card_->isd_r().state().isdps)
    if (messages::iccid_to_digits(isdp.iccid) == downloaded_iccid_)
      say("on the card (as rsp euicc m2m-info shows it): " + to_hex(isdp.aid) + " " + downloaded_iccid_ +
          (isdp.connectivity.empty() ? " no connectivity parameters" : " connectivity:" + to_hex(isdp.connectivity)));
  say("in the EIS: downloaded profile " + eis_state(downloaded_iccid_) + ", bootstrap " + eis_state(boot_iccid_));
  say("in the SM-DP's inventory: " + downloaded_iccid_ + " " +
      (in_inventory ? std::string(smdp::profile_state_name(in_inventory->state)) : "?"));
  // Our ES2 binding carries no subscription address: the MNO gives the new
  // profile's MSISDN to the SM-SR, which wakes the device up at it from now on.
  if (auto r = smsr_.service->update_subscription_address(kMno, eid_, downloaded_iccid_, {kDownloadedMsisdn, ""}); !r)
    return failed(r.error().subject_code + "/" + r.error().reason_code + " " + r.error().message);
  listen_at(kDownloadedMsisdn);
  say("ES4 UpdateSubscriptionAddress: the new profile's MSISDN " + kDownloadedMsisdn + " (the device listens there)");
  return true;
}

void Demo::stop_smdp() {
  if (!smdp_) return;
  if (smdp_->es2) smdp_->es2->stop();
  if (smdp_->callbacks) smdp_->callbacks->stop();
  if (smdp_->smsr_http) smdp_->smsr_http->stop();
  if (smdp_->results_server) smdp_->results_server->stop();
  smdp_.reset();
}

}  // namespace rsp::cli::demo_m2m
