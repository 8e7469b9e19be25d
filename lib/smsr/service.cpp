#include "rsp/smsr/service.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/smsr/callbacks.hpp"
#include "rsp/smsr/es3_service.hpp"
#include "rsp/smsr/profile_checks.hpp"

namespace rsp::smsr {

using m2m::Es4Function;
using m2m::PolicyAction;
using m2m::ProfileState;
namespace codes = m2m::codes;

namespace {

std::string_view name_of(Es4Function f) { return m2m::es4_function(f).name; }

/// An MNO sees an eUICC only when one of its profiles is on it; to any
/// other MNO the EID is unknown.
bool has_profile_of(const m2m::Eis& eis, const std::string& mno) {
  return std::any_of(eis.profiles.begin(), eis.profiles.end(),
                     [&](const m2m::ProfileInfo& p) { return p.mno_id == mno; });
}

/// The audit trail's result text of a call.
template <class T>
std::string result_text(const SmsrResult<T>& r) {
  if (!r) return "Failed " + r.error().subject_code + "/" + r.error().reason_code;
  if constexpr (std::is_same_v<T, Accepted>) return "accepted as operation " + std::to_string(r->operation_id);
  return std::string(m2m::status_name(m2m::ExecutionStatus::ExecutedSuccess));
}

/// ES3 (SGP.02 §5.4): the SM-DPs whose profiles this operation disabled or
/// deleted learn it, in the same transaction, unless the SM-DP asked for
/// it (its operation's result tells it). An enabled profile is reported
/// when the eUICC confirms it (es5_notifications.cpp), not here.
void smdp_notifications(const Operation& op, const m2m::Eis& eis, const std::map<std::string, ProfileState>& was,
                        Change& change, std::int64_t t) {
  using m2m::es3::NotificationFunction;
  const std::string event = "op" + std::to_string(op.id);
  // An AuditEIS that finds the card unlike the EIS tells what it found as
  // the card's own notification would (SGP.02 §3.9 as we read it: the EIS
  // is updated and those concerned notified; not yet checked against the
  // text): an enable too, which otherwise the eUICC's notification tells.
  // The SM-DP that asked (its function's profile, or its own AuditEIS) has
  // its result instead.
  const bool audit = m2m::es3::acts_as(op.function, Es4Function::AuditEis);
  const auto asked = [&](const m2m::ProfileInfo& p) {
    return p.smdp_id == op.caller && (audit || p.iccid == op.iccid);
  };
  std::vector<service::OutboxMessage> out;
  for (const auto& p : change.put) {
    const auto before = was.find(p.iccid);
    if (p.smdp_id.empty() || asked(p) || (before != was.end() && before->second == p.state)) continue;
    if (p.state == ProfileState::Disabled)
      out.push_back(smdp_notification(NotificationFunction::ProfileDisabled, op.eid, p, event, t));
    else if (p.state == ProfileState::Enabled && audit)
      out.push_back(smdp_notification(NotificationFunction::ProfileEnabled, op.eid, p, event, t));
  }
  for (const auto& iccid : change.deleted) {
    const m2m::ProfileInfo* p = eis.profile(iccid);
    if (p && !p->smdp_id.empty() && !asked(*p))
      out.push_back(smdp_notification(NotificationFunction::ProfileDeleted, op.eid, *p, event, t));
  }
  for (auto& m : out) change.callbacks.push_back(std::move(m));
}

}  // namespace

m2m::Eis Service::visible_to(m2m::Eis eis, const std::string& mno) {
  std::erase_if(eis.profiles, [&](const m2m::ProfileInfo& p) { return p.mno_id != mno; });
  eis.isd_r.scp80_key_sets.clear();
  eis.isd_r.scp81_psk.reset();
  return eis;
}

Service::Service(ServiceConfig config) : config_(std::move(config)) {
  if (!config_.clock) config_.clock = std::make_shared<service::SystemClock>();
}

std::int64_t Service::now() const { return config_.clock->now().time_since_epoch().count(); }

template <class T>
SmsrResult<T> Service::audited(std::string_view function, const std::string& caller, const std::string& eid,
                               const std::string& isdp_aid, SmsrResult<T> result) {
  // An accepted operation's line committed with the operation (accept()).
  if constexpr (std::is_same_v<T, Accepted>)
    if (result) return result;
  // A failing audit write does not change the answer (the call already
  // happened, or was refused); the storage error shows in the next call.
  (void)config_.registry->audit({now(), caller, std::string(function), eid, isdp_aid, result_text(result)});
  return result;
}

SmsrResult<void> Service::register_eis(const std::string& eum, const m2m::Eis& eis) {
  const auto run = [&]() -> SmsrResult<void> {
    if (eis.eum_id != eum)
      return smsr_error(codes::kRequesterNotAllowed, "an EUM registers only the eUICCs it made (eumId)");
    if (config_.check_ecasd) {
      if (auto why = config_.check_ecasd(eis)) return smsr_error(codes::kEcasdCertificateInvalid, *why);
    }
    return config_.registry->register_eis(eis, now());
  };
  return audited(m2m::kEs1RegisterEis.name, eum, eis.eid, "", run());
}

SmsrResult<m2m::Eis> Service::get_eis(const std::string& mno, const std::string& eid) {
  const auto run = [&]() -> SmsrResult<m2m::Eis> {
    // The keys stay sealed: GetEIS never shows them.
    RSP_TRY(auto eis, config_.registry->eis(eid, false));
    // An MNO without a profile on the eUICC learns nothing of it (SGP.02 §5.4.4).
    if (!eis || !has_profile_of(*eis, mno)) return smsr_error(codes::kEidUnknown, "unknown EID");
    return visible_to(std::move(*eis), mno);
  };
  // A read changes nothing: its audit line goes with the next batch
  // (Registry::audit_later), so GetEIS costs no write transaction.
  auto r = run();
  config_.registry->audit_later({now(), mno, std::string(name_of(Es4Function::GetEis)), eid, "", result_text(r)});
  return r;
}

SmsrResult<std::pair<m2m::Eis, m2m::ProfileInfo>> Service::owned_profile(const std::string& mno,
                                                                         const std::string& eid,
                                                                         const std::string& iccid) {
  // Without the keys (none of these checks needs them): the cached EIS.
  RSP_TRY(auto eis, config_.registry->eis(eid, false));
  if (!eis) return smsr_error(codes::kEidUnknown, "unknown EID");
  const m2m::ProfileInfo* p = eis->profile(iccid);
  // Another MNO's profile is answered like an unknown one.
  if (!p || p->mno_id != mno) return smsr_error(codes::kIccidUnknown, "unknown ICCID on this eUICC");
  m2m::ProfileInfo copy = *p;
  return std::make_pair(std::move(*eis), std::move(copy));
}

SmsrResult<Accepted> Service::accept(Es4Function f, const std::string& mno, const m2m::Eis& eis,
                                     const std::string& iccid, std::optional<std::int64_t> validity,
                                     const std::string& isdp_aid) {
  const std::int64_t seconds = validity.value_or(config_.default_validity.count());
  if (seconds <= 0 || seconds > config_.max_validity.count())
    return smsr_error(codes::kInvalidRequest, "validityPeriod must be 1 to " +
                                                  std::to_string(config_.max_validity.count()) + " seconds");
  Operation op;
  op.function = std::string(name_of(f));
  op.eid = eis.eid;
  op.iccid = iccid;
  op.caller = mno;
  op.created_at = now();
  op.expires_at = op.created_at + seconds;
  op.arguments = "{}";
  std::vector<Bytes> scripts;
  if (config_.scripts) scripts = config_.scripts(op, eis);
  // The call's audit line commits with the operation: one flush, not two.
  const AuditEntry line{op.created_at, mno, op.function, op.eid, isdp_aid, ""};
  // The wake-up's SCP80 counter is reserved in the same transaction (one
  // transaction less than storing it when the SMS leaves): the key set the
  // wake-up chooses (its version and last counter, kept with the cached EIS:
  // the sealed keys are not opened for every call).
  std::optional<CounterReservation> counter;
  if (config_.wake_up) {
    RSP_TRY(auto key_set, config_.registry->wake_up_key_set(eis.eid));
    if (key_set)
      counter = CounterReservation{key_set->version, key_set->counter,
                                   config_.wake_up_due ? config_.wake_up_due(eis.eid) : std::nullopt};
  }
  RSP_TRY(op.id, config_.registry->create_operation(op, scripts, &line, counter ? &*counter : nullptr));
  if (config_.wake_up) config_.wake_up(eis.eid);
  return Accepted{op.id, op.expires_at};
}

SmsrResult<Accepted> Service::audit_eis(const std::string& mno, const std::string& eid,
                                        std::optional<std::int64_t> validity) {
  const auto run = [&]() -> SmsrResult<Accepted> {
    RSP_TRY(auto eis, config_.registry->eis(eid, false));
    if (!eis || !has_profile_of(*eis, mno)) return smsr_error(codes::kEidUnknown, "unknown EID");
    return accept(Es4Function::AuditEis, mno, *eis, "", validity, "");
  };
  return audited(name_of(Es4Function::AuditEis), mno, eid, "", run());
}

SmsrResult<Accepted> Service::profile_operation(Es4Function f, const std::string& mno, const std::string& eid,
                                                const std::string& iccid, std::optional<std::int64_t> validity,
                                                const ProfileCheck& check) {
  std::string aid;
  const auto run = [&]() -> SmsrResult<Accepted> {
    RSP_TRY(auto found, owned_profile(mno, eid, iccid));
    auto& [eis, p] = found;
    aid = to_hex(p.isdp_aid);
    if (check) {
      RSP_TRY_VOID(check(eis, p));
    }
    return accept(f, mno, eis, iccid, validity, aid);
  };
  auto r = run();
  return audited(name_of(f), mno, eid, aid, std::move(r));
}

SmsrResult<Accepted> Service::enable_profile(const std::string& mno, const std::string& eid,
                                             const std::string& iccid, std::optional<std::int64_t> validity) {
  return profile_operation(Es4Function::EnableProfile, mno, eid, iccid, validity, check_enable);
}

SmsrResult<Accepted> Service::disable_profile(const std::string& mno, const std::string& eid,
                                              const std::string& iccid, std::optional<std::int64_t> validity) {
  return profile_operation(Es4Function::DisableProfile, mno, eid, iccid, validity, check_disable);
}

SmsrResult<Accepted> Service::delete_profile(const std::string& mno, const std::string& eid,
                                             const std::string& iccid, std::optional<std::int64_t> validity) {
  return profile_operation(Es4Function::DeleteProfile, mno, eid, iccid, validity, check_delete);
}

SmsrResult<Accepted> Service::set_fallback_attribute(const std::string& mno, const std::string& eid,
                                                     const std::string& iccid, std::optional<std::int64_t> validity) {
  return profile_operation(Es4Function::SetFallbackAttribute, mno, eid, iccid, validity, {});
}

SmsrResult<Accepted> Service::set_emergency_profile_attribute(const std::string& mno, const std::string& eid,
                                                              const std::string& iccid,
                                                              std::optional<std::int64_t> validity) {
  return profile_operation(Es4Function::SetEmergencyProfileAttribute, mno, eid, iccid, validity, {});
}

SmsrResult<void> Service::update_policy_rules(const std::string& mno, const std::string& eid,
                                              const std::string& iccid, const std::vector<m2m::PolicyRule>& pol2) {
  std::string aid;
  const auto run = [&]() -> SmsrResult<void> {
    RSP_TRY(auto found, owned_profile(mno, eid, iccid));
    aid = to_hex(found.second.isdp_aid);
    found.second.pol2 = pol2;
    return config_.registry->put_profile(eid, found.second);
  };
  auto r = run();
  return audited(name_of(Es4Function::UpdatePolicyRules), mno, eid, aid, std::move(r));
}

SmsrResult<void> Service::update_subscription_address(const std::string& mno, const std::string& eid,
                                                      const std::string& iccid,
                                                      const m2m::SubscriptionAddress& address) {
  std::string aid;
  const auto run = [&]() -> SmsrResult<void> {
    RSP_TRY(auto found, owned_profile(mno, eid, iccid));
    aid = to_hex(found.second.isdp_aid);
    found.second.subscription_address = address;
    return config_.registry->put_profile(eid, found.second);
  };
  auto r = run();
  return audited(name_of(Es4Function::UpdateSubscriptionAddress), mno, eid, aid, std::move(r));
}

SmsrResult<Operation> Service::operation(const std::string& mno, std::int64_t id) {
  RSP_TRY(auto op, config_.registry->operation(id));
  if (!op || op->caller != mno) return smsr_error(codes::kInvalidRequest, "unknown operation");
  return std::move(*op);
}

SmsrResult<void> Service::complete(std::int64_t id, m2m::ExecutionStatus status, m2m::Code code,
                                   const EisAudit* audit) {
  RSP_TRY(auto found, config_.registry->operation(id));
  if (!found) return smsr_error(codes::kInvalidRequest, "unknown operation");
  return complete(*found, status, code, audit);
}

SmsrResult<void> Service::complete(const Operation& operation, m2m::ExecutionStatus status, m2m::Code code,
                                   const EisAudit* audit) {
  const Operation* op = &operation;
  const std::int64_t id = op->id;
  if (is_final(op->state)) return smsr_error(codes::kInvalidRequest, "the operation has ended already");
  const std::int64_t t = now();
  const bool done =
      status == m2m::ExecutionStatus::ExecutedSuccess || status == m2m::ExecutionStatus::ExecutedWithWarning;
  Change change;
  std::string eis_json;
  std::string summary;
  change.operation_id = id;
  change.status = m2m::status_name(status);
  if (done) {
    change.state = OperationState::Completed;
    RSP_TRY(auto eis, config_.registry->eis(op->eid, false));
    if (!eis) return smsr_error(codes::kEidUnknown, "unknown EID");
    RSP_TRY_VOID(apply_to_eis(*op, *eis, change, t, audit, &summary));
    if (audit && m2m::es3::acts_as(op->function, Es4Function::AuditEis)) {
      // SGP.02 §5.4.x AuditEIS: the caller's result carries the EIS as it now
      // stands, filtered as GetEIS filters it.
      std::erase_if(eis->profiles, [&](const m2m::ProfileInfo& p) {
        return std::find(change.deleted.begin(), change.deleted.end(), p.iccid) != change.deleted.end();
      });
      // ES3.AuditEIS's caller is an SM-DP: it sees its own ISD-Ps (as ES3.GetEIS).
      const bool by_smdp = m2m::es3::function_named(op->function).has_value();
      eis_json = m2m::eis_to_json(by_smdp ? Es3Service::visible_to(std::move(*eis), op->caller)
                                          : visible_to(std::move(*eis), op->caller),
                                  m2m::Keys::Omit)
                     .dump();
    }
  } else {
    change.state = status == m2m::ExecutionStatus::Expired ? OperationState::Expired : OperationState::Failed;
    change.subject_code = code.subject;
    change.reason_code = code.reason;
  }
  // The MNO's result and the audit line commit with the change itself.
  change.callbacks.push_back(operation_result(*op, change.status, change.subject_code, change.reason_code, eis_json));
  change.audit.push_back({t, op->caller, op->function, op->eid, "",
                          "operation " + std::to_string(id) + " " + change.status +
                              (summary.empty() ? "" : ": " + summary)});
  RSP_TRY(bool ended, config_.registry->apply(op->eid, change, t));
  if (!ended) return smsr_error(codes::kInvalidRequest, "the operation has ended already");
  return {};
}

SmsrResult<void> Service::apply_to_eis(const Operation& op, m2m::Eis& eis, Change& change, std::int64_t t,
                                       const EisAudit* audit, std::string* summary) {
  // What the eUICC did, in the EIS (SGP.02 §3.2 - §3.6).
  const auto is = [&](Es4Function f) { return m2m::es3::acts_as(op.function, f); };
  std::map<std::string, ProfileState> was;
  for (const auto& p : eis.profiles) was[p.iccid] = p.state;
  m2m::ProfileInfo* target = eis.profile(op.iccid);
  if (!op.iccid.empty() && !target) return smsr_error(codes::kIccidUnknown, "the profile is gone");
  const auto disable = [&](m2m::ProfileInfo& p) {
    p.state = ProfileState::Disabled;
    if (m2m::pol2_auto_delete(p)) {
      change.deleted.push_back(p.iccid);
    } else {
      change.put.push_back(p);
    }
  };
  if (is(Es4Function::EnableProfile)) {
    for (auto& p : eis.profiles)
      if (p.state == ProfileState::Enabled && p.iccid != op.iccid) disable(p);
    target->state = ProfileState::Enabled;
    change.put.push_back(*target);
  } else if (is(Es4Function::DisableProfile)) {
    for (auto& p : eis.profiles)
      if (p.fallback_attribute && p.iccid != op.iccid) {
        p.state = ProfileState::Enabled;
        change.put.push_back(p);
      }
    disable(*target);
  } else if (is(Es4Function::DeleteProfile)) {
    change.deleted.push_back(target->iccid);
  } else if (is(Es4Function::AuditEis)) {
    if (audit) *summary = apply_eis_audit(*audit, eis, change);
  } else if (is(Es4Function::SetFallbackAttribute) || is(Es4Function::SetEmergencyProfileAttribute)) {
    const bool fallback = is(Es4Function::SetFallbackAttribute);
    for (auto& p : eis.profiles) {
      bool& attribute = fallback ? p.fallback_attribute : p.emergency_profile_attribute;
      const bool want = p.iccid == op.iccid;
      if (attribute != want) {
        attribute = want;
        change.put.push_back(p);
      }
    }
  }
  // Other MNOs whose profile changed state learn it by notification (§5.4);
  // the caller has its operation's result. One notification per MNO per
  // change: SGP.02 has it reach the MNO directly (ES4) or through the SM-DP
  // (ES3, then the SM-DP's ES2); here a profile an SM-DP downloaded is told
  // through that SM-DP (smdp_notifications), a pre-installed one over ES4
  // (which path when is our reading, not yet checked against the text).
  for (const auto& p : change.put) {
    if (p.mno_id == op.caller || was[p.iccid] == p.state || !p.smdp_id.empty()) continue;
    if (p.state == ProfileState::Enabled)
      change.callbacks.push_back(profile_notification(kProfileEnabledNotification, op.eid, p, t));
    else if (p.state == ProfileState::Disabled)
      change.callbacks.push_back(profile_notification(kProfileDisabledNotification, op.eid, p, t));
  }
  for (const auto& iccid : change.deleted) {
    const m2m::ProfileInfo* p = eis.profile(iccid);
    if (p && p->mno_id != op.caller && p->smdp_id.empty())
      change.callbacks.push_back(profile_notification(kProfileDeletedNotification, op.eid, *p, t));
  }
  smdp_notifications(op, eis, was, change, t);
  return {};
}

SmsrResult<std::size_t> Service::expire() {
  RSP_TRY(auto expired, config_.registry->expire_operations(now(), [](const Operation& op) {
    return std::vector<service::OutboxMessage>{operation_result(op, op.status, op.subject_code, op.reason_code)};
  }));
  for (const auto& op : expired)
    (void)config_.registry->audit({now(), op.caller, op.function, op.eid, "",
                                   "operation " + std::to_string(op.id) + " Expired"});
  (void)config_.registry->flush_audit();
  return expired.size();
}

}  // namespace rsp::smsr
