#include "rsp/smsr/es3_service.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "rsp/apdu/status_words.hpp"
#include "rsp/m2m/isdr_commands.hpp"
#include "rsp/ota/ram.hpp"
#include "rsp/smsr/profile_checks.hpp"

namespace rsp::smsr {

using m2m::ProfileState;
using m2m::es3::Function;
using nlohmann::json;
namespace codes = m2m::codes;
namespace es3 = m2m::es3;

namespace {

/// SGP.02 Annex H: ISD-P AIDs are A0000005591010FFFFFFFF89 || number (3
/// bytes) || '00'; the number runs from '000010' as the simulator counts
/// (euicc_m2m isdp_aid), this project's choice of range.
constexpr std::uint8_t kIsdpAidPrefix[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89};
constexpr std::uint32_t kFirstIsdpNumber = 0x10;
constexpr std::uint32_t kIsdpNumbers = 0x1000;

Bytes isdp_aid_number(std::uint32_t n) {
  Bytes aid(std::begin(kIsdpAidPrefix), std::end(kIsdpAidPrefix));
  aid.push_back(static_cast<std::uint8_t>(n >> 16));
  aid.push_back(static_cast<std::uint8_t>(n >> 8));
  aid.push_back(static_cast<std::uint8_t>(n));
  aid.push_back(0x00);
  return aid;
}

std::string_view name_of(Function f) { return es3::function(f).name; }

/// The caller's ISD-P on `eis` matching `match`, or null.
template <class Match>
const m2m::ProfileInfo* own_isdp(const m2m::Eis& eis, const std::string& smdp, Match match) {
  auto it = std::find_if(eis.profiles.begin(), eis.profiles.end(),
                         [&](const m2m::ProfileInfo& p) { return p.smdp_id == smdp && match(p); });
  return it == eis.profiles.end() ? nullptr : &*it;
}

json arguments_of(const Operation& op) {
  json j = json::parse(op.arguments, nullptr, false);
  return j.is_object() ? j : json::object();
}

Bytes hex_argument(const Operation& op, const char* name) {
  const json j = arguments_of(op);
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return {};
  return from_hex(it->get<std::string>()).value_or(Bytes{});
}

/// ETSI TS 102 226 §5.2.1: processing stops at an error status (SW1 other
/// than '90', '61', '62', '63').
bool is_error(const apdu::Response& r) {
  const auto sw1 = r.sw1();
  return sw1 != 0x90 && sw1 != 0x61 && sw1 != 0x62 && sw1 != 0x63;
}

std::string result_text(bool ok, const SmsrError* e, std::int64_t id) {
  if (!ok) return "Failed " + e->subject_code + "/" + e->reason_code;
  return id ? "accepted as operation " + std::to_string(id) : std::string("Executed-Success");
}

}  // namespace

Es3Service::Es3Service(ServiceConfig config) : config_(std::move(config)) {
  if (!config_.clock) config_.clock = std::make_shared<service::SystemClock>();
}

std::int64_t Es3Service::now() const { return config_.clock->now().time_since_epoch().count(); }

template <class T>
SmsrResult<T> Es3Service::audited(Function f, const std::string& caller, const std::string& eid, const Bytes& isdp_aid,
                                  SmsrResult<T> result) {
  std::int64_t id = 0;
  if constexpr (std::is_same_v<T, Accepted>) id = result ? result->operation_id : 0;
  (void)config_.registry->audit({now(), caller, std::string(name_of(f)), eid, to_hex(isdp_aid),
                                 result_text(result.has_value(), result ? nullptr : &result.error(), id)});
  return result;
}

SmsrResult<Accepted> Es3Service::accept(Function f, const std::string& smdp, const std::string& eid,
                                        const std::string& iccid, std::optional<std::int64_t> validity,
                                        const std::vector<Bytes>& scripts, std::string arguments) {
  const std::int64_t seconds = validity.value_or(config_.default_validity.count());
  if (seconds > config_.max_validity.count())
    return smsr_error(codes::kInvalidRequest,
                      "validityPeriod must be at most " + std::to_string(config_.max_validity.count()) + " seconds");
  if (scripts.empty()) return smsr_error(codes::kExecutionError, "no command for the eUICC could be built");
  Operation op;
  op.function = std::string(name_of(f));
  op.eid = eid;
  op.iccid = iccid;
  op.caller = smdp;
  op.created_at = now();
  op.expires_at = op.created_at + seconds;
  op.arguments = std::move(arguments);
  RSP_TRY(op.id, config_.registry->create_operation(op, scripts));
  if (config_.wake_up) config_.wake_up(eid);
  return Accepted{op.id, op.expires_at};
}

m2m::Eis Es3Service::visible_to(m2m::Eis eis, const std::string& smdp) {
  std::erase_if(eis.profiles, [&](const m2m::ProfileInfo& p) { return p.smdp_id != smdp; });
  eis.isd_r.scp80_key_sets.clear();
  eis.isd_r.scp81_psk.reset();
  return eis;
}

SmsrResult<m2m::Eis> Es3Service::get_eis(const std::string& smdp, const std::string& eid) {
  auto run = [&]() -> SmsrResult<m2m::Eis> {
    RSP_TRY(auto eis, config_.registry->eis(eid, false));
    if (!eis) return smsr_error(codes::kEidUnknown, "unknown EID");
    return visible_to(std::move(*eis), smdp);
  };
  auto r = run();
  config_.registry->audit_later(
      {now(), smdp, std::string(name_of(Function::GetEis)), eid, "", result_text(r.has_value(), r ? nullptr : &r.error(), 0)});
  return r;
}

SmsrResult<Accepted> Es3Service::create_isdp(const std::string& smdp, const es3::CreateIsdp& req) {
  Bytes aid;
  auto run = [&]() -> SmsrResult<Accepted> {
    RSP_TRY(auto eis, config_.registry->eis(req.eid, false));
    if (!eis) return smsr_error(codes::kEidUnknown, "unknown EID");
    if (eis->profile(req.iccid)) return smsr_error(codes::kIccidInUse, "the ICCID is on this eUICC already");
    // A free AID: none of the EIS's ISD-Ps, none an open CreateISDP chose.
    std::vector<Bytes> taken;
    for (const auto& p : eis->profiles) taken.push_back(p.isdp_aid);
    RSP_TRY(auto open, config_.registry->open_operations(req.eid));
    for (const auto& op : open) {
      if (op.function == name_of(Function::CreateIsdp)) {
        if (op.iccid == req.iccid) return smsr_error(codes::kIccidInUse, "an ISD-P for this ICCID is being created");
        taken.push_back(hex_argument(op, "isdpAid"));
      }
    }
    for (std::uint32_t n = kFirstIsdpNumber; n < kFirstIsdpNumber + kIsdpNumbers && aid.empty(); ++n) {
      Bytes candidate = isdp_aid_number(n);
      if (std::find(taken.begin(), taken.end(), candidate) == taken.end()) aid = std::move(candidate);
    }
    if (aid.empty()) return smsr_error(codes::kEuiccRefused, "no free ISD-P AID on this eUICC");
    // SGP.02 §4.1.1.1: INSTALL [for install and make selectable] of the ISD-P.
    m2m::CreateIsdp command{aid, std::nullopt};
    if (req.required_memory > 0) command.memory_quota = req.required_memory;
    auto apdu = m2m::build_apdu(command);
    if (!apdu) return smsr_error(codes::kInvalidRequest, "the ISD-P cannot be coded");
    json args{{"isdpAid", to_hex(aid)}, {"mnoId", req.mno_id}, {"requiredMemory", req.required_memory}};
    return accept(Function::CreateIsdp, smdp, req.eid, req.iccid, req.validity, {std::move(*apdu)}, args.dump());
  };
  auto r = run();
  return audited(Function::CreateIsdp, smdp, req.eid, aid, std::move(r));
}

SmsrResult<Accepted> Es3Service::send_data(const std::string& smdp, const es3::SendData& req) {
  auto run = [&]() -> SmsrResult<Accepted> {
    RSP_TRY(auto eis, config_.registry->eis(req.eid, false));
    if (!eis) return smsr_error(codes::kEidUnknown, "unknown EID");
    const auto* p = own_isdp(*eis, smdp, [&](const m2m::ProfileInfo& i) { return i.isdp_aid == req.sd_aid; });
    if (!p) return smsr_error(codes::kIsdpUnknown, "no ISD-P of this SM-DP with that AID on this eUICC");
    auto script = ota::decode_command_script(req.data);
    if (!script) return smsr_error(codes::kInvalidRequest, "data is not a command script");
    auto c_apdus = ota::c_apdus(*script);
    if (c_apdus.empty()) return smsr_error(codes::kInvalidRequest, "data holds no C-APDU");
    json args{{"sdAid", to_hex(req.sd_aid)}, {"commands", c_apdus.size()}};
    return accept(Function::SendData, smdp, req.eid, p->iccid, req.validity, c_apdus, args.dump());
  };
  auto r = run();
  return audited(Function::SendData, smdp, req.eid, req.sd_aid, std::move(r));
}

SmsrResult<void> Es3Service::profile_download_completed(const std::string& smdp,
                                                        const es3::ProfileDownloadCompleted& req) {
  Bytes aid;
  auto run = [&]() -> SmsrResult<void> {
    RSP_TRY(auto eis, config_.registry->eis(req.eid, false));
    if (!eis) return smsr_error(codes::kEidUnknown, "unknown EID");
    const auto* found = own_isdp(*eis, smdp, [&](const m2m::ProfileInfo& i) { return i.iccid == req.iccid; });
    if (!found) return smsr_error(codes::kIccidUnknown, "unknown ICCID on this eUICC");
    aid = found->isdp_aid;
    if (found->state != ProfileState::Created)
      return smsr_error(codes::kProfileInvalidTransition, "the profile's download was completed already");
    // The profile is loaded: its ISD-P is Disabled on the card (SGP.02 §3.1.3).
    m2m::ProfileInfo p = *found;
    p.state = ProfileState::Disabled;
    if (req.subscription_address) p.subscription_address = *req.subscription_address;
    p.pol2 = req.pol2;
    return config_.registry->put_profile(req.eid, p);
  };
  auto r = run();
  return audited(Function::ProfileDownloadCompleted, smdp, req.eid, aid, std::move(r));
}

SmsrResult<Accepted> Es3Service::audit_eis(const std::string& smdp, const es3::AuditEis& req) {
  auto run = [&]() -> SmsrResult<Accepted> {
    // As GetEIS: any configured SM-DP may read the eUICC, and sees its own ISD-Ps only.
    RSP_TRY(auto eis, config_.registry->eis(req.eid, false));
    if (!eis) return smsr_error(codes::kEidUnknown, "unknown EID");
    // ES4's audit script (isdr_script); the answer is read by the ES5 link
    // and applied by Service::complete, as for ES4.AuditEIS.
    Operation probe;
    probe.function = std::string(name_of(Function::AuditEis));
    std::vector<Bytes> scripts;
    if (config_.scripts) scripts = config_.scripts(probe, *eis);
    return accept(Function::AuditEis, smdp, req.eid, "", req.validity, scripts, "{}");
  };
  auto r = run();
  return audited(Function::AuditEis, smdp, req.eid, {}, std::move(r));
}

template <class Edit>
SmsrResult<void> Es3Service::update_profile(Function f, const std::string& smdp, const std::string& eid,
                                            const std::string& iccid, Edit edit) {
  Bytes aid;
  auto run = [&]() -> SmsrResult<void> {
    RSP_TRY(auto eis, config_.registry->eis(eid, false));
    if (!eis) return smsr_error(codes::kEidUnknown, "unknown EID");
    // Another SM-DP's profile is answered like an unknown one, as ES4 answers another MNO's.
    const auto* found = own_isdp(*eis, smdp, [&](const m2m::ProfileInfo& i) { return i.iccid == iccid; });
    if (!found) return smsr_error(codes::kIccidUnknown, "unknown ICCID on this eUICC");
    aid = found->isdp_aid;
    m2m::ProfileInfo p = *found;
    edit(p);
    return config_.registry->put_profile(eid, p);
  };
  auto r = run();
  return audited(f, smdp, eid, aid, std::move(r));
}

SmsrResult<void> Es3Service::update_policy_rules(const std::string& smdp, const es3::UpdatePolicyRules& req) {
  return update_profile(Function::UpdatePolicyRules, smdp, req.eid, req.iccid,
                        [&](m2m::ProfileInfo& p) { p.pol2 = req.pol2; });
}

SmsrResult<void> Es3Service::update_subscription_address(const std::string& smdp,
                                                         const es3::UpdateSubscriptionAddress& req) {
  return update_profile(Function::UpdateSubscriptionAddress, smdp, req.eid, req.iccid,
                        [&](m2m::ProfileInfo& p) { p.subscription_address = req.subscription_address; });
}

SmsrResult<Accepted> Es3Service::update_connectivity_parameters(const std::string& smdp,
                                                                const es3::UpdateConnectivityParameters& req) {
  Bytes aid;
  auto run = [&]() -> SmsrResult<Accepted> {
    RSP_TRY(auto eis, config_.registry->eis(req.eid, false));
    if (!eis) return smsr_error(codes::kEidUnknown, "unknown EID");
    const auto* p = own_isdp(*eis, smdp, [&](const m2m::ProfileInfo& i) { return i.iccid == req.iccid; });
    if (!p) return smsr_error(codes::kIccidUnknown, "unknown ICCID on this eUICC");
    aid = p->isdp_aid;
    /// SGP.02 §3.14: the SM-DP's ES8.UpdateConnectivityParameters, secured
    /// with the ISD-P's SCP03 keys, goes to that ISD-P as it is: the SM-SR
    /// neither reads nor builds it. This binding carries it as a command
    /// script, as SendData's data (m2m/es8_connectivity.hpp).
    auto script = ota::decode_command_script(req.connectivity_parameters);
    if (!script) return smsr_error(codes::kInvalidRequest, "connectivityParameters is not a command script");
    auto c_apdus = ota::c_apdus(*script);
    if (c_apdus.empty()) return smsr_error(codes::kInvalidRequest, "connectivityParameters holds no C-APDU");
    json args{{"sdAid", to_hex(aid)}, {"commands", c_apdus.size()}};
    return accept(Function::UpdateConnectivityParameters, smdp, req.eid, req.iccid, req.validity, c_apdus, args.dump());
  };
  auto r = run();
  return audited(Function::UpdateConnectivityParameters, smdp, req.eid, aid, std::move(r));
}

SmsrResult<Accepted> Es3Service::on_profile(const std::string& smdp, Function f, const std::string& eid,
                                            const std::string& iccid, std::optional<std::int64_t> validity) {
  Bytes aid;
  auto run = [&]() -> SmsrResult<Accepted> {
    const auto es4 = es3::es4_counterpart(f);
    if (!es4 || f == Function::AuditEis) return smsr_error(codes::kUnknownFunction, "not a profile function");
    RSP_TRY(auto eis, config_.registry->eis(eid, false));
    if (!eis) return smsr_error(codes::kEidUnknown, "unknown EID");
    const auto* p = own_isdp(*eis, smdp, [&](const m2m::ProfileInfo& i) { return i.iccid == iccid; });
    if (!p) {
      // The caller's CreateISDP of that ICCID is still open: the ISD-P is
      // not in the EIS yet, and not in a state that allows the function
      // (8.2/3.5 as for any state that forbids it; SGP.02's exact code for
      // an ISD-P being created is not yet checked against the text).
      RSP_TRY(auto open, config_.registry->open_operations(eid));
      for (const auto& op : open)
        if (op.function == name_of(Function::CreateIsdp) && op.caller == smdp && op.iccid == iccid)
          return smsr_error(codes::kProfileInvalidTransition, "the ISD-P of this ICCID is still being created");
      return smsr_error(codes::kIccidUnknown, "unknown ICCID on this eUICC");
    }
    aid = p->isdp_aid;
    const auto check = f == Function::EnableProfile ? check_enable
                       : f == Function::DisableProfile ? check_disable
                                                       : check_delete;
    // DeleteISDP of an ISD-P whose download never completed (SGP.02 §3.1:
    // the SM-DP's rollback) is allowed whatever POL2 says: it has none yet.
    if (!(f == Function::DeleteIsdp && p->state == ProfileState::Created)) RSP_TRY_VOID(check(*eis, *p));
    Operation probe;
    probe.function = std::string(name_of(f));
    probe.iccid = iccid;
    std::vector<Bytes> scripts;
    if (config_.scripts) scripts = config_.scripts(probe, *eis);
    return accept(f, smdp, eid, iccid, validity, scripts, "{}");
  };
  auto r = run();
  return audited(f, smdp, eid, aid, std::move(r));
}

bool Es3Service::answers(const Operation& op) {
  return op.function == name_of(Function::CreateIsdp) || op.function == name_of(Function::SendData) ||
         op.function == name_of(Function::UpdateConnectivityParameters);
}

Bytes Es3Service::target_of(const Operation& op) {
  if (op.function != name_of(Function::SendData) && op.function != name_of(Function::UpdateConnectivityParameters))
    return {};
  return hex_argument(op, "sdAid");
}

SmsrResult<void> Es3Service::completed(const Operation& op, const std::vector<apdu::Response>& r_apdus) {
  const std::int64_t t = now();
  const json args = arguments_of(op);
  const bool create = op.function == name_of(Function::CreateIsdp);
  const bool connectivity = op.function == name_of(Function::UpdateConnectivityParameters);
  const std::size_t expected_count = create ? 1 : args.value("commands", std::size_t{0});
  const bool refused = std::any_of(r_apdus.begin(), r_apdus.end(), is_error);
  const bool ok = !refused && r_apdus.size() >= expected_count && !r_apdus.empty();

  es3::Result result;
  result.call_id = "op-" + std::to_string(op.id);
  result.function = create ? Function::CreateIsdp : connectivity ? Function::UpdateConnectivityParameters : Function::SendData;
  result.operation_id = op.id;
  result.eid = op.eid;
  result.iccid = op.iccid;
  Change change;
  change.operation_id = op.id;
  if (ok) {
    change.state = OperationState::Completed;
    change.status = m2m::status_name(m2m::ExecutionStatus::ExecutedSuccess);
  } else {
    change.state = OperationState::Failed;
    change.status = m2m::status_name(m2m::ExecutionStatus::Failed);
    // 6A88 from the ISD-R: the ISD-P is not there; anything else a refusal.
    const bool gone = !r_apdus.empty() && r_apdus.back().sw == apdu::sw::kReferencedDataNotFound;
    const m2m::Code code = gone ? codes::kIsdpUnknown : codes::kEuiccRefused;
    change.subject_code = code.subject;
    change.reason_code = code.reason;
  }
  result.status = change.status;
  result.subject_code = change.subject_code;
  result.reason_code = change.reason_code;
  if (create && ok) {
    m2m::ProfileInfo p;
    p.iccid = op.iccid;
    p.isdp_aid = hex_argument(op, "isdpAid");
    p.mno_id = args.value("mnoId", std::string());
    p.smdp_id = op.caller;
    p.state = ProfileState::Created;
    p.allocated_memory = args.value("requiredMemory", std::int64_t{0});
    result.isdp_aid = p.isdp_aid;
    change.added.push_back(std::move(p));
  }
  // UpdateConnectivityParameters leaves the EIS as it is: the parameters
  // travelled enciphered for the ISD-P, the SM-SR never saw them.
  const Bytes target = create ? hex_argument(op, "isdpAid") : target_of(op);
  if (!create) {
    // §5.4.4: the card's answer goes back as it is, success or not (for
    // UpdateConnectivityParameters too: the SM-DP reads the ISD-P's
    // INITIALIZE UPDATE answer and status words in it).
    ota::ResponseScript script;
    script.executed = static_cast<std::uint8_t>(std::min<std::size_t>(r_apdus.size(), 0xFF));
    script.r_apdus = r_apdus;
    auto encoded = ota::encode(script);
    if (encoded) result.euicc_response_data = std::move(*encoded);
  }
  change.callbacks.push_back(service::OutboxMessage{op.caller, es3::encode_result(result), {}, result.call_id});
  change.audit.push_back({t, op.caller, op.function, op.eid, to_hex(target),
                          "operation " + std::to_string(op.id) + " " + change.status});
  RSP_TRY(bool ended, config_.registry->apply(op.eid, change, t));
  if (!ended) return smsr_error(codes::kInvalidRequest, "the operation has ended already");
  return {};
}

}  // namespace rsp::smsr
