#pragma once
/// The LPA's profile download (SGP.22 §3.1.3, the LPAd side): from an
/// activation code (or an SM-DP+ address and matchingId) to an installed
/// profile, with the install notification delivered and removed.
///
///   GetEUICCInfo1, GetEUICCChallenge -> ES9+ initiateAuthentication
///   -> ES10b AuthenticateServer (ctxParams1: matchingId, deviceInfo)
///   -> ES9+ authenticateClient -> ES10b PrepareDownload (hashCc when the
///   SM-DP+ asks for a confirmation code) -> ES9+ getBoundProfilePackage
///   -> ES10b LoadBoundProfilePackage in the §2.5.5 segments
///   -> RetrieveNotificationsList -> ES9+ handleNotification
///   -> RemoveNotificationFromList.
/// Before it, the notifications the eUICC still holds are sent
/// (notifications.hpp), so that the install result of an earlier, interrupted
/// download reaches its SM-DP+ before the same profile is asked for again.
/// After initiateAuthentication any failure ends the session on both sides:
/// ES10b CancelSession with a reason, then ES9+ cancelSession (best effort).
/// One exception: a LoadBoundProfilePackage interrupted by the eUICC's
/// channel (no answer mid-load) starts the download again in a new session
/// (DownloadOptions::load_retries) without cancelling; the SM-DP+ names the
/// otPK.EUICC.ECKA the first package was bound with (bppEuiccOtpk) and the
/// eUICC and SM-DP+ bind the new package with the same one-time keys
/// (SGP.22 v2.2.2 §5.6.2, §5.7.5).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rsp/asn1/sgp22.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/lpa/es10_channel.hpp"
#include "rsp/lpa/es9_transport.hpp"
#include "rsp/lpa/notifications.hpp"
#include "rsp/lpa/step.hpp"
#include "rsp/messages/activation_code.hpp"

namespace rsp::lpa {

/// CancelSessionReason (SGP.22 v2.2.2 §5.7.14).
namespace cancel_reason {
inline constexpr std::int64_t kEndUserRejection = 0;
inline constexpr std::int64_t kPostponed = 1;
inline constexpr std::int64_t kTimeout = 2;
inline constexpr std::int64_t kPprNotAllowed = 3;
inline constexpr std::int64_t kMetadataMismatch = 4;
inline constexpr std::int64_t kLoadBppExecutionError = 5;
inline constexpr std::int64_t kUndefinedReason = 127;
}  // namespace cancel_reason

struct DownloadError {
  enum class Source : std::uint8_t {
    ActivationCode,  ///< the activation code did not parse
    Es9Transport,    ///< no HTTP answer from the SM-DP+ (or an unexpected HTTP status)
    Es9Function,     ///< the SM-DP+ answered Failed: subject_code/reason_code
    Es9Format,       ///< the SM-DP+'s answer did not parse
    Es10Transport,   ///< the eUICC did not answer or answered an error status word
    Euicc,           ///< the eUICC refused: euicc_code is its error/result code
    Es10Format,      ///< the eUICC's answer did not parse
    User,            ///< declined, or a required confirmation code is missing
  };
  Step step = Step::ParseActivationCode;
  Source source = Source::ActivationCode;
  std::string subject_code;  ///< ES9+ subject code (Es9Function)
  std::string reason_code;   ///< ES9+ reason code (Es9Function)
  /// The eUICC's code: AuthenticateErrorCode, DownloadErrorCode, or for the
  /// load the ErrorResult's errorReason (bpp_command_id says which command).
  std::optional<std::int64_t> euicc_code;
  std::optional<std::int64_t> bpp_command_id;
  std::optional<std::uint16_t> sw;  ///< ES10 status word (Es10Transport)
  std::string message;              ///< human-readable, never a secret
  bool session_cancelled = false;   ///< ES10b + ES9+ CancelSession both succeeded
  bool timed_out = false;           ///< Es9Transport: no answer in time
  /// The notifications pending on the eUICC before the download and what
  /// became of them (DownloadOptions::send_pending_notifications).
  PendingNotificationsReport pending_notifications;

  std::string to_string() const;
};

struct DownloadResult {
  Bytes transaction_id;
  Bytes iccid;
  asn1::sgp22::StoreMetadataRequest profile_metadata;
  Bytes isdp_aid;  ///< SuccessResult.aid
  asn1::sgp22::ProfileInstallationResult installation_result;
  bool notification_delivered = false;  ///< handleNotification answered 204
  bool notification_removed = false;    ///< RemoveNotificationFromList ok
  /// Downloads started again after an interrupted load (load_retries).
  int load_retries = 0;
  /// The notifications pending on the eUICC before the download and what
  /// became of them (DownloadOptions::send_pending_notifications).
  PendingNotificationsReport pending_notifications;
};

struct DownloadOptions {
  /// DeviceInfo for ctxParams1 (SGP.22 §4.2): TAC (4 octets) and capabilities.
  Bytes tac = {0x35, 0x29, 0x06, 0x11};
  asn1::sgp22::DeviceCapabilities device_capabilities = [] {
    asn1::sgp22::DeviceCapabilities c;
    c.gsmSupportedRelease = Bytes{0x0D, 0x00, 0x00};
    c.utranSupportedRelease = Bytes{0x0D, 0x00, 0x00};
    c.eutranSupportedRelease = Bytes{0x0F, 0x00, 0x00};
    return c;
  }();
  std::optional<Bytes> imei;
  /// Called when a step starts (the demo prints them).
  std::function<void(Step)> progress;
  /// Asked with the profile metadata before PrepareDownload; false declines
  /// the download (CancelSession endUserRejection). Default: accept.
  std::function<bool(const asn1::sgp22::StoreMetadataRequest&)> confirm;
  /// Skip handleNotification/RemoveNotificationFromList (leave the
  /// notification pending on the eUICC).
  bool skip_notification = false;
  /// First send the notifications pending on the eUICC
  /// (send_pending_notifications()); a failure to deliver one is reported in
  /// `pending_notifications` and does not stop the download.
  bool send_pending_notifications = true;
  /// How many times a LoadBoundProfilePackage interrupted by the eUICC's
  /// channel starts again in a new session; when none are left the session
  /// is cancelled with loadBppExecutionError.
  int load_retries = 1;
};

/// The CancelSessionReason the LPA sends after `e` when no other applies:
/// postponed for a refused or missing confirmation code (8.2.7 / 3.8, 2.2:
/// the order stays for a retry with the right code), timeout when the SM-DP+
/// did not answer in time, else undefinedReason. The user declining is
/// endUserRejection and a package that does not segment loadBppExecutionError.
std::int64_t failure_cancel_reason(const DownloadError& e);

/// Downloads with an SGP.22 activation code ("LPA:1$address$matchingId...").
/// A confirmation code is used when the SM-DP+ asks for one (ccRequiredFlag);
/// it never appears in errors or progress.
expected<DownloadResult, DownloadError> download_profile(const std::string& activation_code,
                                                         const std::optional<std::string>& confirmation_code,
                                                         Es10Channel& euicc, Es9Transport& smdp,
                                                         const DownloadOptions& options = {});

/// Downloads from `smdp_address` with `matching_id` (empty: none sent).
expected<DownloadResult, DownloadError> download_profile(const std::string& smdp_address,
                                                         const std::string& matching_id,
                                                         const std::optional<std::string>& confirmation_code,
                                                         Es10Channel& euicc, Es9Transport& smdp,
                                                         const DownloadOptions& options = {});

/// The LoadBoundProfilePackage segments of SGP.22 §2.5.5 from a BPP's DER:
/// BF36 tag+length with the BF23 element; A0 tag+length with the first '87';
/// each further '87'; A1 with the first '88'; each further '88'; A2 (when
/// present) like A0; A3 with the first '86'; each further '86'.
expected<std::vector<Bytes>, std::string> bpp_segments(ByteView bpp_der);

}  // namespace rsp::lpa
