#pragma once
/// The SM-SR's ES3 functions (SM-DP -> SM-SR, SGP.02 §5.4), transport
/// independent, on the registry the ES4 service uses. The caller is an
/// SM-DP (authenticated by the HTTP layer); it sees and acts on the ISD-Ps
/// it made (ProfileInfo::smdp_id), never a key.
///
///  - CreateISDP: the EID is registered, the ICCID is not on that eUICC; the
///    SM-SR picks a free ISD-P AID (SGP.02 Annex H's ISD-P AID with the
///    number in bytes 13..15, as the simulator numbers them: this project's
///    choice) and queues the ISD-R's INSTALL (m2m::CreateIsdp, the
///    requiredMemory as quota). Accepted at once; when the eUICC confirmed,
///    the ISD-P enters the EIS (state Created, its MNO and SM-DP) and the
///    SM-DP's result carries "isdpAid".
///  - SendData (§5.4.4): the ISD-P is one of the caller's on that eUICC
///    (else 8.3.1/3.9); the command script's C-APDUs are queued for the
///    ISD-P (the session's X-Admin-Targeted-Application). The result carries
///    the card's response script ("euiccResponseData"), also when the card
///    stopped at an error status (Failed 8.1/3.8), so the SM-DP reads the
///    status word. moreToDo is accepted and not needed: each SendData is an
///    operation of its own, and a session goes on while the queue holds one.
///  - ProfileDownloadCompleted: at once; the ISD-P of that ICCID becomes
///    Disabled in the EIS with the subscription address and POL2 given.
///  - EnableProfile, DisableProfile, DeleteISDP: as ES4's (profile_checks),
///    completed by Service::complete, the result going to the SM-DP.
///  - GetEIS: the EIS without keys, with the caller's ISD-Ps only.
///  - AuditEIS: the audit script ES4's AuditEIS sends (isdr_script), its
///    answer applied to the EIS by Service::complete as for ES4; the SM-DP's
///    result carries the EIS as GetEIS shows it to that SM-DP (visible_to).
///  - UpdatePolicyRules, UpdateSubscriptionAddress: at once, on the caller's
///    profile only (another SM-DP's is an unknown ICCID, 8.2.1/3.9), kept in
///    the EIS as ES4's are.
///  - UpdateConnectivityParameters (§3.14): the SM-DP's SCP03-secured
///    ES8.UpdateConnectivityParameters script (m2m/es8_connectivity.hpp),
///    a command script as SendData's, queued unchanged for the caller's
///    ISD-P of that ICCID (the session's targeted application); the SM-SR
///    builds no ISD-R command and cannot read the parameters, so the EIS's
///    connectivityParameters stay as they were. The SM-DP's result carries
///    the card's response script, as SendData's (a refusal: Failed
///    8.1/3.8 with the status words in it).
///
/// Every call leaves an audit line.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rsp/apdu/response.hpp"
#include "rsp/m2m/es3.hpp"
#include "rsp/smsr/service.hpp"

namespace rsp::smsr {

class Es3Service {
 public:
  /// `config` as for Service (registry, clock, validity bounds, wake_up;
  /// `scripts` builds the ISD-R commands of Enable/Disable/DeleteISDP).
  explicit Es3Service(ServiceConfig config);

  SmsrResult<m2m::Eis> get_eis(const std::string& smdp, const std::string& eid);
  SmsrResult<Accepted> create_isdp(const std::string& smdp, const m2m::es3::CreateIsdp& request);
  SmsrResult<Accepted> send_data(const std::string& smdp, const m2m::es3::SendData& request);
  SmsrResult<void> profile_download_completed(const std::string& smdp,
                                              const m2m::es3::ProfileDownloadCompleted& request);
  SmsrResult<Accepted> audit_eis(const std::string& smdp, const m2m::es3::AuditEis& request);
  SmsrResult<void> update_policy_rules(const std::string& smdp, const m2m::es3::UpdatePolicyRules& request);
  SmsrResult<void> update_subscription_address(const std::string& smdp,
                                               const m2m::es3::UpdateSubscriptionAddress& request);
  SmsrResult<Accepted> update_connectivity_parameters(const std::string& smdp,
                                                      const m2m::es3::UpdateConnectivityParameters& request);
  /// The EIS as SM-DP `smdp` may see it: its ISD-Ps only, no key (GetEIS,
  /// and the EIS an ES3 AuditEIS result carries).
  static m2m::Eis visible_to(m2m::Eis eis, const std::string& smdp);
  /// EnableProfile, DisableProfile or DeleteISDP.
  SmsrResult<Accepted> on_profile(const std::string& smdp, m2m::es3::Function f, const std::string& eid,
                                  const std::string& iccid, std::optional<std::int64_t> validity);

  /// True for the operations whose answer completed() takes (CreateISDP,
  /// SendData, UpdateConnectivityParameters); the others end through
  /// Service::complete.
  static bool answers(const Operation& op);
  /// The card's R-APDUs to operation `op`'s script: the operation ends, the
  /// EIS changes and the SM-DP's result is queued in one registry transaction.
  SmsrResult<void> completed(const Operation& op, const std::vector<apdu::Response>& r_apdus);
  /// The ISD-P a SendData or UpdateConnectivityParameters operation
  /// addresses (empty for any other).
  static Bytes target_of(const Operation& op);

 private:
  std::int64_t now() const;
  SmsrResult<Accepted> accept(m2m::es3::Function f, const std::string& smdp, const std::string& eid,
                              const std::string& iccid, std::optional<std::int64_t> validity,
                              const std::vector<Bytes>& scripts, std::string arguments);
  template <class T>
  SmsrResult<T> audited(m2m::es3::Function f, const std::string& caller, const std::string& eid,
                        const Bytes& isdp_aid, SmsrResult<T> result);
  /// UpdatePolicyRules / UpdateSubscriptionAddress: `edit` on the caller's profile `iccid`, stored.
  template <class Edit>
  SmsrResult<void> update_profile(m2m::es3::Function f, const std::string& smdp, const std::string& eid,
                                  const std::string& iccid, Edit edit);

  ServiceConfig config_;
};

}  // namespace rsp::smsr
