// `rsp demo m2m`, the SM-SR change (demo_m2m_story.hpp; SGP.02 §3.8, ES7):
// a second SM-SR in the same process with its own registry, ES5 link, SMS
// address and PSK-TLS administration sessions; ES7 at both, the old SM-SR
// reaching the new one in process (`rsp smsr serve` carries ES7 over HTTPS
// with mutual TLS). The MNO's ES4 PrepareSMSRChange and SMSRChange are
// called on the services as their HTTPS binding calls them.

#include <algorithm>
#include <thread>

#include "demo_m2m_story.hpp"
#include "rsp/m2m/es7.hpp"
#include "rsp/pki/certificate.hpp"
#include "rsp/pki/key_store.hpp"
#include "rsp/smsr/es7_service.hpp"

namespace rsp::cli::demo_m2m {

namespace {

using namespace std::chrono_literals;

const std::string kNewSmsrId = "smsr.two";
const smpp::Address kNewSmsrAddress{"4912346", 1, 1};

std::string key_versions(euicc_m2m::M2mIsdR& isd_r) {
  std::string out;
  for (const auto& k : isd_r.state().scp80) out += (out.empty() ? "" : ", ") + std::to_string(k.version);
  return out;
}

/// The first line of `registry`'s audit trail of `eid` by `function` whose
/// result holds `text` (the trail is written by a thread: waited for).
std::string audit_line(smsr::Registry& registry, const std::string& eid, std::string_view function,
                       std::string_view text) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto trail = registry.audit_trail(eid);
    if (trail) {
      auto it = std::find_if(trail->begin(), trail->end(), [&](const smsr::AuditEntry& a) {
        return a.function == function && a.result.find(text) != std::string::npos;
      });
      if (it != trail->end()) return it->caller + " " + it->function + ": " + it->result;
    }
    std::this_thread::sleep_for(100ms);
  }
  return {};
}

}  // namespace

struct SecondSmsr {
  SmsrNode node{kNewSmsrId, kNewSmsrAddress};
  std::shared_ptr<smsr::Es7Service> es7_new, es7_old;
};

bool Demo::start_second_smsr() {
  step("A second SM-SR, " + kNewSmsrId + ": its own registry, SMS address, ES5 link and PSK-TLS administration "
       "sessions; ES7 at both SM-SRs (in process here): the new one signs with its CERT.SR.ECDSA and checks a "
       "handed-over ECASD certificate against the EUM and the CI");
  second_ = std::make_shared<SecondSmsr>();
  SecondSmsr& s = *second_;
  const std::string database = (dir_ / "smsr2.db").string();
  if (!start_smsr_node(s.node, database)) return false;

  // ES7. The test PKI has no CERT.SR.ECDSA: its M2M signing certificate
  // under the CI stands in, as in the SM-SR's tests.
  auto sr_cert = pki::Certificate::load_file(pki_ / "CERT_M2M_SM_DP_ECDSA_NIST.pem");
  auto sr_key = pki::load_private_key_file(pki_ / "SK_M2M_SM_DP_ECDSA_NIST.pem");
  auto eum = pki::Certificate::load_file(pki_ / "CERT_EUM_ECDSA_NIST.pem");
  auto ci = pki::Certificate::load_file(pki_ / "CERT_CI_ECDSA_NIST.pem");
  if (!sr_cert || sr_cert->empty() || !sr_key || !eum || !ci) return failed("the new SM-SR's ES7 certificates");
  smsr::Es7Config nc;
  nc.registry = s.node.registry;
  nc.smsr_id = kNewSmsrId;
  nc.certificate = sr_cert->front().der();
  nc.signing_key = std::move(*sr_key);
  nc.eums = std::move(*eum);
  nc.cis = std::move(*ci);
  nc.wake_up = [link = s.node.link.get()](const std::string& eid) { link->wake_up(eid); };
  s.es7_new = std::make_shared<smsr::Es7Service>(std::move(nc));
  s.node.link->attach_es7(s.es7_new);
  smsr::Es7Config oc;
  oc.registry = smsr_.registry;
  oc.smsr_id = kSmsrId;
  oc.peer = [peer = smsr::local_es7_peer(s.es7_new, kSmsrId)](const std::string& id) {
    return id == kNewSmsrId ? peer : nullptr;
  };
  oc.wake_up = [link = smsr_.link.get()](const std::string& eid) { link->wake_up(eid); };
  s.es7_old = std::make_shared<smsr::Es7Service>(std::move(oc));
  smsr_.link->attach_es7(s.es7_old);
  say("registry " + database + ", key-encryption key id " + s.node.kek_id + ", administration sessions on " +
      s.node.sessions->host_header() + s.node.sessions->path() + ", SMS address " + kNewSmsrAddress.digits);
  return true;
}

bool Demo::change_smsr() {
  step("The SM-SR change: ES4 PrepareSMSRChange by " + kMno + " at " + kNewSmsrId + ", ES4 SMSRChange at " + kSmsrId +
       "; the old SM-SR calls ES7 AuthenticateSMSR and CreateAdditionalKeyset at the new one, has the ISD-R run "
       "the key establishment (ECKA scenario #3 between the new SM-SR and the ISD-R), hands the EIS over "
       "(HandoverEUICC with the card's receipt) and deletes its own keys on the card");
  SecondSmsr& s = *second_;
  say("SCP80 key set versions on the card: " + key_versions(card_->isd_r()));
  const auto seen = endpoint_.count();
  if (auto r = s.es7_new->prepare_smsr_change(kMno, {eid_, kSmsrId}); !r)
    return failed("PrepareSMSRChange: " + r.error().subject_code + "/" + r.error().reason_code + " " +
                  r.error().message);
  say("PrepareSMSRChange at " + kNewSmsrId + ": Executed-Success");
  auto accepted = s.es7_old->smsr_change(kMno, {eid_, kNewSmsrId, std::nullopt});
  if (!accepted)
    return failed("SMSRChange: " + accepted.error().subject_code + "/" + accepted.error().reason_code + " " +
                  accepted.error().message);
  say("SMSRChange accepted by " + kSmsrId + ", operation " + std::to_string(accepted->operation_id));
  auto op = finish_at(*smsr_.service, accepted->operation_id);
  if (!op || op->state != smsr::OperationState::Completed) return failed("the SM-SR change did not complete");
  device_->wait_idle(10s);
  auto left = smsr_.registry->eis(eid_, false);
  auto taken = s.node.registry->eis(eid_, false);
  if (!left || *left) return failed(kSmsrId + " still holds the EIS");
  if (!taken || !*taken) return failed(kNewSmsrId + " does not hold the EIS");
  in_charge_ = s.node.service;
  say("the EIS is at " + (*taken)->smsr_id + " now; SCP80 key set versions on the card: " +
      key_versions(card_->isd_r()));
  show_callbacks_until(seen, "ES4.SMSRChange", 20s);
  const std::string old_line =
      audit_line(*smsr_.registry, eid_, "ES4.SMSRChange", "ES7.HandoverEUICC to " + kNewSmsrId);
  const std::string new_line = audit_line(*s.node.registry, eid_, "ES7.HandoverEUICC", "taken from " + kSmsrId);
  if (old_line.empty() || new_line.empty()) return failed("an audit trail does not record the change");
  say("a wake-up of " + kSmsrId + " that reaches the device after the deletion finds no key the card still shares "
      "with it: that session fails at the PSK-TLS handshake");
  say("audit at " + kSmsrId + ": " + old_line);
  say("audit at " + kNewSmsrId + ": " + new_line);
  return true;
}

bool Demo::enable_after_change() {
  step("ES4 EnableProfile of the second profile through " + kNewSmsrId +
       " (its own SMS wake-up, PSK and session): completed on the device; the same call at " + kSmsrId +
       " is refused");
  SecondSmsr& s = *second_;
  const auto seen = endpoint_.count();
  auto accepted = s.node.service->enable_profile(kMno, eid_, second_iccid_, std::nullopt);
  if (!accepted) return failed(accepted.error().subject_code + "/" + accepted.error().reason_code);
  auto op = finish_at(*s.node.service, accepted->operation_id);
  if (!op || op->state != smsr::OperationState::Completed) return failed("the enable did not complete");
  device_->wait_idle(10s);
  say("the device's profiles: " + card_profiles());
  show_callbacks(seen, seen + 1);
  auto refused = smsr_.service->enable_profile(kMno, eid_, second_iccid_, std::nullopt);
  if (refused) return failed(kSmsrId + " accepted the enable");
  say("refused by " + kSmsrId + ": " + refused.error().subject_code + "/" + refused.error().reason_code + " " +
      refused.error().message);
  return true;
}

void Demo::stop_second_smsr() {
  if (!second_) return;
  second_->node.stop();
  second_.reset();
}

}  // namespace rsp::cli::demo_m2m
