// The SM-SR change at both SM-SRs (es7_service.hpp): the new one answers
// ES7, the current one runs the hand-over through its ES5 sessions.

#include "rsp/smsr/es7_service.hpp"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "rsp/apdu/command.hpp"
#include "rsp/m2m/isdr_commands.hpp"
#include "rsp/pki/validator.hpp"
#include "rsp/smsr/callbacks.hpp"

namespace rsp::smsr {

namespace codes = m2m::codes;
namespace es7 = m2m::es7;
namespace es8 = m2m::es8;
using nlohmann::json;

namespace {

constexpr std::string_view kSmsrChange = "ES4.SMSRChange";
constexpr std::string_view kSuccess = "Executed-Success";

es7::Response success() { return es7::Response{std::string(kSuccess), "", "", {}, {}, 0}; }

/// The codes of a peer's answer that is not a success, or of no answer.
SmsrError peer_refusal(const SmsrResult<es7::Response>& r, std::string_view function) {
  if (!r) return r.error();
  return SmsrError{r->subject_code, r->reason_code, std::string(function) + " refused by the target SM-SR", false};
}

std::vector<Bytes> encoded(const std::vector<apdu::Command>& commands) {
  std::vector<Bytes> out;
  for (const auto& c : commands)
    if (auto b = apdu::encode_command(c)) out.push_back(std::move(*b));
  return out;
}

}  // namespace

/// What the new SM-SR keeps of one eUICC coming to it.
struct Es7Service::Incoming {
  std::string from;                      ///< the current SM-SR
  std::optional<crypto::EcKey> ecasd;    ///< PK.ECASD.ECKA, after AuthenticateSMSR
  std::optional<es8::HostAgreement> agreement;  ///< after CreateAdditionalKeyset
  int key_version = 0;
};

Es7Service::Es7Service(Es7Config config) : config_(std::move(config)) {
  if (!config_.clock) config_.clock = std::make_shared<service::SystemClock>();
}
Es7Service::~Es7Service() = default;

std::int64_t Es7Service::now() const { return config_.clock->now().time_since_epoch().count(); }

void Es7Service::audit(const std::string& caller, std::string_view function, const std::string& eid,
                       const std::string& result) {
  // A failing audit write does not change the answer (as Service::audited).
  (void)config_.registry->audit({now(), caller, std::string(function), eid, "", result});
}

// --- as the new SM-SR ---

SmsrResult<void> Es7Service::prepare_smsr_change(const std::string& mno, const es7::PrepareSmsrChange& request) {
  const auto fn = es7::function(es7::Function::PrepareSmsrChange).name;
  auto run = [&]() -> SmsrResult<void> {
    if (!config_.signing_key || config_.certificate.empty())
      return smsr_error(codes::kRequesterNotAllowed, "this SM-SR takes no eUICC over (no CERT.SR.ECDSA)");
    auto known = config_.registry->eis(request.eid, false);
    if (!known) return unexpected(known.error());
    if (*known) return smsr_error(codes::kEidInUse, "this SM-SR manages the eUICC already");
    std::lock_guard lock(mu_);
    auto in = std::make_shared<Incoming>();
    in->from = request.current_smsr_id;
    incoming_[request.eid] = std::move(in);
    return {};
  };
  auto r = run();
  audit(mno, fn, request.eid,
        r ? "expects the eUICC from " + request.current_smsr_id : "Failed " + r.error().subject_code + "/" + r.error().reason_code);
  return r;
}

SmsrResult<es7::Response> Es7Service::authenticate_smsr(const std::string& caller,
                                                        const es7::AuthenticateSmsr& request) {
  auto run = [&]() -> SmsrResult<es7::Response> {
    std::lock_guard lock(mu_);
    auto it = incoming_.find(request.eid);
    if (it == incoming_.end() || it->second->from != caller)
      return smsr_error(codes::kRequesterNotAllowed, "no SM-SR change from the caller was prepared for this eUICC");
    /// SGP.02 §3.8: the new SM-SR checks the ECASD certificate (EUM, CI) and that it is this eUICC's.
    auto chain = pki::validate_chain_der(request.ecasd_certificate, config_.eums, config_.cis, pki::Role::Euicc);
    if (!chain) return smsr_error(codes::kEcasdCertificateInvalid, "ECASD certificate: " + chain.error().message);
    if (chain->eid != request.eid) return smsr_error(codes::kEcasdCertificateInvalid, "ECASD certificate of another EID");
    it->second->ecasd = std::move(chain->public_key);
    it->second->agreement.reset();
    es7::Response r = success();
    r.smsr_certificate = config_.certificate;
    return r;
  };
  auto r = run();
  audit(caller, es7::function(es7::Function::AuthenticateSmsr).name, request.eid,
        r ? std::string(kSuccess) : "Failed " + r.error().subject_code + "/" + r.error().reason_code);
  return r;
}

SmsrResult<es7::Response> Es7Service::create_additional_keyset(const std::string& caller,
                                                               const es7::CreateAdditionalKeyset& request) {
  auto run = [&]() -> SmsrResult<es7::Response> {
    std::lock_guard lock(mu_);
    auto it = incoming_.find(request.eid);
    if (it == incoming_.end() || it->second->from != caller)
      return smsr_error(codes::kRequesterNotAllowed, "no SM-SR change from the caller was prepared for this eUICC");
    auto& in = *it->second;
    if (!in.ecasd) return smsr_error(codes::kInvalidRequest, "AuthenticateSMSR first");
    // Signed over the ISD-R's random challenge when it issued one (m2m/es8.hpp).
    auto agreement = es8::HostAgreement::start(*config_.signing_key, *in.ecasd,
                                               static_cast<std::uint8_t>(request.key_version), es8::kKeyUsageIsdR,
                                               request.random_challenge);
    if (!agreement) return smsr_error(codes::kExecutionError, "the key agreement could not be made");
    es7::Response r = success();
    r.key_agreement = agreement->message();
    in.agreement = std::move(*agreement);
    in.key_version = request.key_version;
    return r;
  };
  auto r = run();
  audit(caller, es7::function(es7::Function::CreateAdditionalKeyset).name, request.eid,
        r ? "key version " + std::to_string(request.key_version)
          : "Failed " + r.error().subject_code + "/" + r.error().reason_code);
  return r;
}

SmsrResult<void> Es7Service::handover_euicc(const std::string& caller, const es7::HandoverEuicc& request) {
  const std::string& eid = request.eis.eid;
  auto run = [&]() -> SmsrResult<void> {
    std::shared_ptr<Incoming> in;
    {
      std::lock_guard lock(mu_);
      auto it = incoming_.find(eid);
      if (it == incoming_.end() || it->second->from != caller)
        return smsr_error(codes::kRequesterNotAllowed, "no SM-SR change from the caller was prepared for this eUICC");
      if (!it->second->agreement) return smsr_error(codes::kInvalidRequest, "CreateAdditionalKeyset first");
      in = it->second;
      incoming_.erase(it);  // the ephemeral key serves once, whatever the receipt
    }
    auto keys = in->agreement->finish(request.receipt);
    if (!keys) return smsr_error(codes::kKeysetReceiptInvalid, "the eUICC's receipt does not verify");
    m2m::Eis eis = request.eis;
    eis.smsr_id = config_.smsr_id;
    eis.isd_r.scp80_key_sets = {
        m2m::Scp80KeySet{in->key_version, m2m::Scp80KeySet::Algorithm::Aes, keys->enc, keys->mac, 0}};
    // The key data's third key (after the receipt key, KIc and KID) as the
    // new SCP81 PSK is our reading. bagyenda/njiwa derives the same three
    // keys ('10') but uses only KIc and KID (its SCP80 key set) and makes
    // the SCP81 PSK afterwards with a key establishment of its own (one key)
    // over the new SM-SR's channel; its third key stays unused (the KIK/DEK
    // place of an SCP80 key set, as we read GP). Not checked against the
    // SGP.02 text; kept so that the new SM-SR's first PSK-TLS session needs
    // no further exchange.
    const std::string identity = es7::additional_psk_identity(eid, in->key_version);
    eis.isd_r.scp81_psk = m2m::Scp81Psk{Bytes(identity.begin(), identity.end()), keys->dek};
    // SGP.02 §3.8 (as we read it): the SM-DPs and MNOs of the eUICC's
    // profiles learn its new SM-SR, queued with the EIS (callbacks.hpp).
    const auto notes = smsr_change_notifications(eis, "kv" + std::to_string(in->key_version), now());
    auto registered = config_.registry->register_eis(eis, now(), notes);
    wipe(eis.isd_r.scp81_psk->key);
    return registered;
  };
  auto r = run();
  audit(caller, es7::function(es7::Function::HandoverEuicc).name, eid,
        r ? std::string(kSuccess) + ": this SM-SR manages the eUICC now, taken from " + caller
          : "Failed " + r.error().subject_code + "/" + r.error().reason_code);
  return r;
}

SmsrResult<es7::Response> Es7Service::handle(const std::string& caller, const es7::Request& request) {
  return std::visit(
      [&](const auto& r) -> SmsrResult<es7::Response> {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, es7::AuthenticateSmsr>) {
          return authenticate_smsr(caller, r);
        } else if constexpr (std::is_same_v<T, es7::CreateAdditionalKeyset>) {
          return create_additional_keyset(caller, r);
        } else if constexpr (std::is_same_v<T, es7::HandoverEuicc>) {
          RSP_TRY_VOID(handover_euicc(caller, r));
          return success();
        } else if constexpr (std::is_same_v<T, es7::PrepareSmsrChange>) {
          RSP_TRY_VOID(prepare_smsr_change(caller, r));
          return success();
        } else {
          RSP_TRY(auto accepted, smsr_change(caller, r));
          es7::Response out = success();
          out.operation_id = accepted.operation_id;
          return out;
        }
      },
      request);
}

// --- as the current SM-SR ---

SmsrResult<Accepted> Es7Service::smsr_change(const std::string& mno, const es7::SmsrChange& request) {
  const std::string& eid = request.eid;
  auto run = [&]() -> SmsrResult<Accepted> {
    const std::int64_t seconds = request.validity.value_or(config_.default_validity.count());
    if (seconds <= 0 || seconds > config_.max_validity.count())
      return smsr_error(codes::kInvalidRequest, "validityPeriod out of range");
    RSP_TRY(auto owns, config_.registry->mno_has_profile_on(eid, mno));
    if (!owns) return smsr_error(codes::kEidUnknown, "unknown EID");
    RSP_TRY(auto found, config_.registry->eis(eid, true));
    if (!found) return smsr_error(codes::kEidUnknown, "unknown EID");
    const m2m::Eis& eis = *found;
    if (request.target_smsr_id == config_.smsr_id)
      return smsr_error(codes::kInvalidRequest, "the target SM-SR is this one");
    auto peer = config_.peer ? config_.peer(request.target_smsr_id) : nullptr;
    if (!peer) return smsr_error(codes::kInvalidRequest, "the target SM-SR is not a configured ES7 peer");
    int highest = 0;
    std::vector<int> versions;
    for (const auto& k : eis.isd_r.scp80_key_sets) {
      highest = std::max(highest, k.version);
      versions.push_back(k.version);
    }
    const int version = highest + 1;
    if (version > es7::kMaxKeyVersion) return smsr_error(codes::kInvalidRequest, "no key version left on the eUICC");

    auto authenticated = peer->call(es7::AuthenticateSmsr{eid, eis.ecasd.certificate});
    if (!authenticated || authenticated->status != kSuccess)
      return unexpected(peer_refusal(authenticated, "ES7.AuthenticateSMSR"));

    // The ISD-R (the session's default target): CERT.SR.ECDSA first, alone;
    // the card answers it with its random challenge, which the new SM-SR
    // signs over in CreateAdditionalKeyset (completed(), stage "certificate").
    auto commands = es8::certificate_blocks(es8::encode_certificate_message(authenticated->smsr_certificate));
    Operation op;
    op.function = std::string(kSmsrChange);
    op.eid = eid;
    op.caller = mno;
    op.created_at = now();
    op.expires_at = op.created_at + seconds;
    op.arguments = json{{"target", request.target_smsr_id},
                        {"keyVersion", version},
                        {"oldVersions", versions},
                        {"stage", "certificate"},
                        {"certificateBlocks", commands.size()}}
                       .dump();
    AuditEntry line{op.created_at, mno, std::string(kSmsrChange), eid, "", ""};
    RSP_TRY(auto id, config_.registry->create_operation(op, encoded(commands), &line));
    return Accepted{id, op.expires_at};
  };
  auto r = run();
  if (!r) {
    audit(mno, kSmsrChange, eid, "Failed " + r.error().subject_code + "/" + r.error().reason_code);
    return r;
  }
  if (config_.wake_up) config_.wake_up(eid);
  return r;
}

bool Es7Service::answers(const Operation& op) { return op.function == kSmsrChange; }

SmsrResult<void> Es7Service::fail(const Operation& op, const SmsrError& why) {
  Change c;
  c.operation_id = op.id;
  c.state = OperationState::Failed;
  c.status = "Failed";
  c.subject_code = why.subject_code;
  c.reason_code = why.reason_code;
  c.callbacks.push_back(operation_result(op, c.status, c.subject_code, c.reason_code));
  c.audit.push_back({now(), op.caller, op.function, op.eid, "",
                     "operation " + std::to_string(op.id) + " Failed " + why.subject_code + "/" + why.reason_code});
  RSP_TRY_VOID(config_.registry->apply(op.eid, c, now()));
  return {};
}

SmsrResult<void> Es7Service::completed(const Operation& op, const std::vector<apdu::Response>& r_apdus) {
  const json args = json::parse(op.arguments, nullptr, false);
  if (!args.is_object() || !args.contains("target"))
    return fail(op, SmsrError{codes::kExecutionError.subject, codes::kExecutionError.reason, "bad arguments", false});
  const bool refused = r_apdus.empty() || std::any_of(r_apdus.begin(), r_apdus.end(),
                                                      [](const apdu::Response& r) { return !r.ok(); });
  const auto refusal = SmsrError{codes::kEuiccRefused.subject, codes::kEuiccRefused.reason, "refused", false};

  const std::string target = args.at("target").get<std::string>();

  if (args.contains("parent")) {
    // The second step: the card deleted this SM-SR's key sets, and the EIS
    // leaves this registry with it; or the card refused, and both SM-SRs
    // hold the EIS until an operator sorts it out (the audit trail says so).
    Change c;
    c.operation_id = op.id;
    c.state = refused ? OperationState::Failed : OperationState::Completed;
    c.status = refused ? "Failed" : std::string(kSuccess);
    if (refused) {
      c.subject_code = codes::kEuiccRefused.subject;
      c.reason_code = codes::kEuiccRefused.reason;
    }
    c.audit.push_back({now(), op.caller, op.function, op.eid, "",
                       refused ? "the eUICC kept this SM-SR's key sets: " + target + " manages it too"
                               : "this SM-SR's key sets are deleted on the eUICC; its EIS is " + target + "'s"});
    c.handed_over = !refused;
    RSP_TRY_VOID(config_.registry->apply(op.eid, c, now()));
    return {};
  }

  if (refused) return fail(op, refusal);
  auto peer = config_.peer ? config_.peer(target) : nullptr;
  if (!peer)
    return fail(op, SmsrError{codes::kInvalidRequest.subject, codes::kInvalidRequest.reason, "no peer", false});

  if (args.value("stage", std::string()) == "certificate") {
    // The card took CERT.SR.ECDSA and answered its random challenge (none
    // from a card that issues none): the new SM-SR signs the key agreement
    // over it, which the same operation sends next (P2 counting on).
    auto rc = es8::decode_certificate_answer(r_apdus.back().data);
    if (!rc) return fail(op, refusal);
    const int version = args.value("keyVersion", 0);
    auto keyset = peer->call(es7::CreateAdditionalKeyset{op.eid, version, *rc});
    if (!keyset || keyset->status != kSuccess || keyset->key_agreement.empty())
      return fail(op, peer_refusal(keyset, "ES7.CreateAdditionalKeyset"));
    const auto first = static_cast<std::uint8_t>(args.value("certificateBlocks", 0));
    auto commands = es8::key_agreement_blocks(keyset->key_agreement, first);
    json next = args;
    next["stage"] = "keyset";
    RSP_TRY(bool open, config_.registry->continue_operation(op.id, encoded(commands), next.dump()));
    if (!open) return {};  // it ended meanwhile (expired): nothing more to send
    if (config_.wake_up) config_.wake_up(op.eid);
    return {};
  }

  // The key agreement's step: the card's DR and receipt go to the new SM-SR with the EIS.
  RSP_TRY(auto found, config_.registry->eis(op.eid, false));
  if (!found) return fail(op, SmsrError{codes::kEidUnknown.subject, codes::kEidUnknown.reason, "gone", false});
  auto handed = peer->call(es7::HandoverEuicc{*found, r_apdus.back().data});
  if (!handed || handed->status != kSuccess) return fail(op, peer_refusal(handed, "ES7.HandoverEUICC"));

  // The MNO's operation ends here: the new SM-SR manages the eUICC.
  Change done;
  done.operation_id = op.id;
  done.status = std::string(kSuccess);
  done.callbacks.push_back(operation_result(op, done.status, "", ""));
  done.audit.push_back({now(), op.caller, op.function, op.eid, "",
                        "operation " + std::to_string(op.id) + " " + done.status + ": ES7.HandoverEUICC to " + target});
  RSP_TRY_VOID(config_.registry->apply(op.eid, done, now()));

  // Then this SM-SR's key sets leave the card, in an operation of their own.
  std::vector<apdu::Command> deletes;
  std::set<int> versions;
  for (const auto& v : args.at("oldVersions")) versions.insert(v.get<int>());
  for (int v : versions) deletes.push_back(m2m::build_delete_key_set(static_cast<std::uint8_t>(v)));
  Operation second;
  second.function = std::string(kSmsrChange);
  second.eid = op.eid;
  second.caller = op.caller;
  second.created_at = now();
  second.expires_at = std::max(op.expires_at, second.created_at + config_.default_validity.count());
  json second_args = args;
  second_args["parent"] = op.id;
  second.arguments = second_args.dump();
  RSP_TRY_VOID(config_.registry->create_operation(second, encoded(deletes)));
  if (config_.wake_up) config_.wake_up(op.eid);
  return {};
}

namespace {

class LocalPeer final : public Es7Peer {
 public:
  LocalPeer(std::shared_ptr<Es7Service> service, std::string caller)
      : service_(std::move(service)), caller_(std::move(caller)) {}
  SmsrResult<es7::Response> call(const es7::Request& request) override {
    auto r = service_->handle(caller_, request);
    if (r) return r;
    // What the far end's HTTP layer answers for a refusal.
    return es7::Response{"Failed", r.error().subject_code, r.error().reason_code, {}, {}, 0};
  }

 private:
  std::shared_ptr<Es7Service> service_;
  std::string caller_;
};

}  // namespace

std::shared_ptr<Es7Peer> local_es7_peer(std::shared_ptr<Es7Service> service, std::string caller) {
  return std::make_shared<LocalPeer>(std::move(service), std::move(caller));
}

}  // namespace rsp::smsr
