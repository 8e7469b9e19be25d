#pragma once
/// The SM-SR change (SGP.02 §3.8; ES7 §5.7, m2m/es7.hpp for the messages and
/// the order of the steps), both ends in one class: every SM-SR can hand an
/// eUICC over or take one.
///
/// The NEW SM-SR (function provider of ES7):
///  - prepare_smsr_change (ES4.PrepareSMSRChange from an MNO): it will take
///    eUICC `eid` from SM-SR `currentSmsrId` only. Refused when it manages
///    that EID already (8.1.1/3.3).
///  - authenticate_smsr: the caller must be that SM-SR (else 1.1/1.2); the
///    ECASD certificate must chain to a configured EUM and CI and name the
///    EID (8.1.3/6.1); answers CERT.SR.ECDSA.
///  - create_additional_keyset: after authenticate_smsr; a fresh ephemeral
///    key, the key-agreement data signed over the ISD-R's random challenge
///    the request carries (m2m::es8::HostAgreement with the ISD-R's key
///    usage; without '45' SDIN: the EIS comes only with HandoverEUICC).
///  - handover_euicc: after create_additional_keyset; the card's receipt
///    must verify (else 8.1/6.1, our choice of code: not yet checked against
///    the SGP.02 text); the EIS is registered with the new SCP80 key set (AES,
///    counter 0) and SCP81 PSK, this SM-SR's id, in one transaction with the
///    HandleSMSRChangeNotification calls to the eUICC's SM-DPs (ES3) and to
///    the MNOs no SM-DP tells (ES4), smsr_change_notifications() in
///    callbacks.hpp; the notifications go from the new SM-SR, the one that
///    manages the eUICC now (SGP.02 §3.8 as we read it; not yet checked
///    against the SGP.02 text).
///  What the new SM-SR holds between these calls (the ephemeral key) lives in
///  memory only: a restart in the middle makes the current SM-SR's
///  operation fail, and the MNO starts again.
///
/// The CURRENT SM-SR:
///  - smsr_change (ES4.SMSRChange from an MNO with a profile on the eUICC,
///    else 8.1.1/3.9 as for an unknown EID): the target SM-SR must be a
///    configured peer (else 1.6/2.1); AuthenticateSMSR on it (its refusal
///    is the answer), then an operation whose script stores CERT.SR.ECDSA in
///    the ISD-R (the session's default target, message 1 alone), for the key
///    version one above the highest the EIS holds. Answered at once.
///  - completed() with the card's answer to the certificate (its random
///    challenge): CreateAdditionalKeyset on the target with it (a refusal
///    fails the operation), then the same operation's next step
///    (Registry::continue_operation, durable; arguments' "stage" "keyset")
///    stores the key-agreement data in the ISD-R.
///  - completed() with the card's answer to the key agreement: HandoverEUICC to the target with
///    the EIS (no keys) and the DR and receipt; then a second operation
///    deletes every key version this SM-SR held on the card
///    (m2m::build_delete_key_set). When the card confirmed it, the first
///    operation ends Executed-Success (the MNO's result queued) and the EIS
///    leaves this registry (Change::handed_over) in one transaction; the audit
///    trail keeps both operations and a line naming the new SM-SR. Any
///    refusal ends the first operation Failed with the refusal's codes.
///
/// Nothing here logs or returns a key; errors never quote one.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rsp/apdu/response.hpp"
#include "rsp/crypto/ec_key.hpp"
#include "rsp/m2m/es7.hpp"
#include "rsp/m2m/es8.hpp"
#include "rsp/net/tls.hpp"
#include "rsp/pki/certificate.hpp"
#include "rsp/service/routes.hpp"
#include "rsp/smsr/service.hpp"

namespace rsp::smsr {

/// Another SM-SR's ES7 (and ES4 PrepareSMSRChange) as this one calls it:
/// the HTTPS client with mutual TLS, or the other service in a test.
class Es7Peer {
 public:
  virtual ~Es7Peer() = default;
  /// The function's synchronous answer; an error when it could not be
  /// reached or answered something else than a Response.
  virtual SmsrResult<m2m::es7::Response> call(const m2m::es7::Request& request) = 0;
};

struct Es7Config {
  std::shared_ptr<Registry> registry;           ///< required
  std::shared_ptr<const service::Clock> clock;  ///< default: the system clock
  std::string smsr_id;                          ///< this SM-SR's identifier
  /// CERT.SR.ECDSA (DER) and SK.SR.ECDSA: what the eUICC checks against its
  /// CI when this SM-SR takes it over. Unset: this SM-SR takes no eUICC over.
  Bytes certificate;
  std::optional<crypto::EcKey> signing_key;
  /// What a handed-over ECASD certificate must chain to.
  std::vector<pki::Certificate> eums, cis;
  /// The peer SM-SR of that identifier, or null when none is configured.
  std::function<std::shared_ptr<Es7Peer>(const std::string& smsr_id)> peer;
  WakeUp wake_up;  ///< after an operation was queued
  std::chrono::seconds default_validity{3600};
  std::chrono::seconds max_validity{7 * 24 * 3600};
};

class Es7Service {
 public:
  explicit Es7Service(Es7Config config);
  ~Es7Service();

  // --- as the new SM-SR ---
  SmsrResult<void> prepare_smsr_change(const std::string& mno, const m2m::es7::PrepareSmsrChange& request);
  SmsrResult<m2m::es7::Response> authenticate_smsr(const std::string& caller,
                                                   const m2m::es7::AuthenticateSmsr& request);
  SmsrResult<m2m::es7::Response> create_additional_keyset(const std::string& caller,
                                                          const m2m::es7::CreateAdditionalKeyset& request);
  SmsrResult<void> handover_euicc(const std::string& caller, const m2m::es7::HandoverEuicc& request);
  /// Any of the above (and smsr_change) by request type: what the HTTP
  /// layer and an in-process peer call. `caller` is the MNO or the SM-SR.
  SmsrResult<m2m::es7::Response> handle(const std::string& caller, const m2m::es7::Request& request);

  // --- as the current SM-SR ---
  SmsrResult<Accepted> smsr_change(const std::string& mno, const m2m::es7::SmsrChange& request);
  /// True for the operations whose answer completed() takes.
  static bool answers(const Operation& op);
  /// The card's R-APDUs to one of those operations' scripts.
  SmsrResult<void> completed(const Operation& op, const std::vector<apdu::Response>& r_apdus);

 private:
  struct Incoming;
  std::int64_t now() const;
  void audit(const std::string& caller, std::string_view function, const std::string& eid, const std::string& result);
  SmsrResult<void> fail(const Operation& op, const SmsrError& why);

  Es7Config config_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Incoming>, std::less<>> incoming_;  ///< by EID
};

/// An in-process peer: `service` called as `caller` (tests, one process).
std::shared_ptr<Es7Peer> local_es7_peer(std::shared_ptr<Es7Service> service, std::string caller);

/// The HTTPS routes of the five functions (m2m/es7.hpp paths): ES7 for the
/// SM-SRs `smsrs`, PrepareSMSRChange and SMSRChange for the MNOs `mnos`
/// (callers by mutual TLS or API key, as the rest of the SM-SR's routes).
/// The answer's body is an es7::Response.
std::vector<service::Route> es7_routes(std::shared_ptr<Es7Service> service, std::set<std::string> smsrs,
                                       std::set<std::string> mnos);

/// Another SM-SR over HTTPS with mutual TLS: its base URL, the roots its
/// server certificate chains to, this SM-SR's client identity.
struct Es7PeerOptions {
  std::string url;
  std::vector<Bytes> trust_anchors;
  std::optional<net::TlsIdentity> identity;
  std::chrono::milliseconds timeout{10000};
};
net::NetResult<std::shared_ptr<Es7Peer>> https_es7_peer(Es7PeerOptions options);

}  // namespace rsp::smsr
