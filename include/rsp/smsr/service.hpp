#pragma once
/// The SM-SR's functions, transport independent: ES1 RegisterEIS for the EUMs
/// (SGP.02 §5.3.1) and the ES4 functions for the MNOs (§5.4), on the
/// registry. Every call, refused or not, leaves a line in the audit trail.
///
/// GetEIS is a read: its audit line is buffered and written in batches
/// (Registry::audit_later) rather than in a transaction of its own.
///
/// ES4 functions that change the eUICC are asynchronous (SGP.02 §3.2 - §3.6,
/// §5.1.6.1): the checks run first (the EID is known, the calling MNO owns
/// the profile, the profile's state and POL2 allow it), then the operation is
/// stored as accepted with its command scripts queued for the eUICC, the ES5
/// side is told (`wake_up`) and the caller gets the operation id at once.
/// The ES5 side later reports the eUICC's answer (complete()), which applies
/// the change to the EIS; an operation whose validity period ends first is
/// Expired (expire(), run by a sweeper on the injected clock).
///
/// An MNO learns nothing of other MNOs' profiles: another MNO's ICCID is
/// answered like an unknown one, and GetEIS shows only its own profiles and
/// never a key.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rsp/m2m/eis.hpp"
#include "rsp/m2m/es_functions.hpp"
#include "rsp/service/clock.hpp"
#include "rsp/smsr/eis_audit.hpp"
#include "rsp/smsr/registry.hpp"

namespace rsp::smsr {

/// The command scripts (C-APDUs, in the form the ES5 session sends them) an
/// operation needs, built by the ES5 side with the ISD-R command codec; the
/// registry queues them in order.
using ScriptBuilder = std::function<std::vector<Bytes>(const Operation&, const m2m::Eis&)>;
/// Told after an operation for `eid` was stored (e.g. to send the SMS wake-up).
using WakeUp = std::function<void(const std::string& eid)>;
/// Asked before an operation for `eid` is stored: when the retry of the
/// wake-up that `WakeUp` will send is due (WakeUpSchedule::next_at of its
/// first try), stored with the operation (CounterReservation); nullopt when
/// it will send none (Es5Link::first_wake_up_due).
using WakeUpDue = std::function<std::optional<std::int64_t>(const std::string& eid)>;
/// Checks a new EIS's ECASD certificate (chain to a configured CI/EUM root);
/// nullopt when it is acceptable, else why not (no key material).
using EcasdCheck = std::function<std::optional<std::string>(const m2m::Eis&)>;

struct ServiceConfig {
  std::shared_ptr<Registry> registry;
  std::shared_ptr<const service::Clock> clock;  ///< default: the system clock
  /// The validity period of an operation whose request gives none, and the
  /// longest one accepted.
  std::chrono::seconds default_validity{3600};
  std::chrono::seconds max_validity{7 * 24 * 3600};
  ScriptBuilder scripts;  ///< unset: operations are queued without scripts
  WakeUp wake_up;
  /// Unset: the wake-up stores its schedule in a transaction of its own.
  WakeUpDue wake_up_due;
  EcasdCheck check_ecasd;  ///< unset: certificates are not checked
};

/// What an accepted asynchronous function answers.
struct Accepted {
  std::int64_t operation_id = 0;
  std::int64_t expires_at = 0;
};

class Service {
 public:
  explicit Service(ServiceConfig config);

  /// ES1.RegisterEIS from `eum`, which must be the EIS's eumId.
  SmsrResult<void> register_eis(const std::string& eum, const m2m::Eis& eis);

  /// ES4.GetEIS: the EIS as `mno` may see it (its own profiles only; the
  /// caller encodes it without keys).
  SmsrResult<m2m::Eis> get_eis(const std::string& mno, const std::string& eid);
  /// The EIS as `mno` may see it (SGP.02 §5.4.4 GetEIS): its own profiles, no key.
  static m2m::Eis visible_to(m2m::Eis eis, const std::string& mno);
  SmsrResult<Accepted> audit_eis(const std::string& mno, const std::string& eid, std::optional<std::int64_t> validity);
  SmsrResult<Accepted> enable_profile(const std::string& mno, const std::string& eid, const std::string& iccid,
                                      std::optional<std::int64_t> validity);
  SmsrResult<Accepted> disable_profile(const std::string& mno, const std::string& eid, const std::string& iccid,
                                       std::optional<std::int64_t> validity);
  SmsrResult<Accepted> delete_profile(const std::string& mno, const std::string& eid, const std::string& iccid,
                                      std::optional<std::int64_t> validity);
  SmsrResult<Accepted> set_fallback_attribute(const std::string& mno, const std::string& eid,
                                              const std::string& iccid, std::optional<std::int64_t> validity);
  SmsrResult<Accepted> set_emergency_profile_attribute(const std::string& mno, const std::string& eid,
                                                       const std::string& iccid, std::optional<std::int64_t> validity);
  /// ES4.UpdatePolicyRules (SGP.02 §3.11: POL2 lives in the SM-SR): at once.
  SmsrResult<void> update_policy_rules(const std::string& mno, const std::string& eid, const std::string& iccid,
                                       const std::vector<m2m::PolicyRule>& pol2);
  /// ES4.UpdateSubscriptionAddress: at once.
  SmsrResult<void> update_subscription_address(const std::string& mno, const std::string& eid,
                                               const std::string& iccid, const m2m::SubscriptionAddress& address);
  /// An operation of `mno` (another MNO's is unknown).
  SmsrResult<Operation> operation(const std::string& mno, std::int64_t id);

  /// The ES5 side's report: the eUICC executed operation `id` (Completed and
  /// applied to the EIS) or refused it (Failed with `code`). The EIS change,
  /// the end of the operation, the MNO's result callback, the notifications
  /// of other MNOs whose profiles changed state and the audit line are one
  /// registry transaction (Registry::apply).
  /// An AuditEIS that succeeded brings the card's answer (`audit`): the EIS
  /// is updated from it in that same transaction, and the MNO's result
  /// carries the updated EIS as GetEIS would show it to that MNO.
  SmsrResult<void> complete(std::int64_t id, m2m::ExecutionStatus status, m2m::Code code = {"", ""},
                            const EisAudit* audit = nullptr);
  /// The same with the operation as the caller has just read it (not read
  /// again); the registry's write still ends it only when it is open.
  SmsrResult<void> complete(const Operation& op, m2m::ExecutionStatus status, m2m::Code code = {"", ""},
                            const EisAudit* audit = nullptr);
  /// Expires every open operation past its validity (its MNO's result
  /// callback queued with it) and writes the buffered audit lines; returns
  /// how many expired. A sweeper calls it every few seconds.
  SmsrResult<std::size_t> expire();

  Registry& registry() { return *config_.registry; }

 private:
  std::int64_t now() const;
  /// The EIS and the profile `iccid` of `mno` on it, or the refusal.
  SmsrResult<std::pair<m2m::Eis, m2m::ProfileInfo>> owned_profile(const std::string& mno, const std::string& eid,
                                                                  const std::string& iccid);
  /// The EIS change a completed operation makes, with the notifications it
  /// causes, into `change`.
  SmsrResult<void> apply_to_eis(const Operation& op, m2m::Eis& eis, Change& change, std::int64_t t,
                                const EisAudit* audit, std::string* summary);
  /// Stores the operation with its scripts and the call's audit line (its
  /// ISD-P `isdp_aid`) in one transaction, then asks for the wake-up.
  SmsrResult<Accepted> accept(m2m::Es4Function f, const std::string& mno, const m2m::Eis& eis,
                              const std::string& iccid, std::optional<std::int64_t> validity,
                              const std::string& isdp_aid);
  /// A function's own checks of the profile, after ownership.
  using ProfileCheck = std::function<SmsrResult<void>(const m2m::Eis&, const m2m::ProfileInfo&)>;
  /// Every asynchronous ES4 function on one profile: the MNO's own profile,
  /// `check`, then accepted and queued; the audit line either way.
  SmsrResult<Accepted> profile_operation(m2m::Es4Function f, const std::string& mno, const std::string& eid,
                                         const std::string& iccid, std::optional<std::int64_t> validity,
                                         const ProfileCheck& check);
  /// Writes the audit line of a call (its ISD-P when `isdp_aid` was found)
  /// and passes its result through; an accepted operation's line was
  /// written with it (accept()).
  template <class T>
  SmsrResult<T> audited(std::string_view function, const std::string& caller, const std::string& eid,
                        const std::string& isdp_aid, SmsrResult<T> result);

  ServiceConfig config_;
};

}  // namespace rsp::smsr
