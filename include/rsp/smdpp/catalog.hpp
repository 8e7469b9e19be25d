#pragma once
/// Download orders and the profiles they carry, as the SM-DP+ core sees them
/// (SGP.22 §3.1.2 / ES2+ DownloadOrder + ConfirmOrder, reduced to what the
/// ES9+ functions need). A PreparedProfile holds everything about a profile
/// that does not depend on the download session, computed once: the decoded
/// header, the StoreMetadataRequest, and, when a Profile Protection Key (PPK)
/// is used, the already protected sequenceOf86 segments (SGP.22 §2.5.5).

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/asn1/sgp22.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/crypto/bsp.hpp"
#include "rsp/crypto/ec_key.hpp"
#include "rsp/crypto/sha256.hpp"
#include "rsp/smdpp/error.hpp"

namespace rsp::crypto {
class Random;
}

namespace rsp::smdpp {

/// NotificationEvent bits (SGP.22 v2.2.2 §2.4a / ASN.1 NotificationEvent):
/// which profile management operations the eUICC reports.
namespace notification_event {
inline constexpr std::uint8_t kInstall = 1u << 0;
inline constexpr std::uint8_t kEnable = 1u << 1;
inline constexpr std::uint8_t kDisable = 1u << 2;
inline constexpr std::uint8_t kDelete = 1u << 3;
inline constexpr std::uint8_t kAll = kInstall | kEnable | kDisable | kDelete;
}  // namespace notification_event

/// One NotificationConfigurationInformation of the StoreMetadataRequest
/// (SGP.22 v2.2.2 §2.4a, §5.5.3 profileManagementOperation +
/// notificationAddress): the eUICC sends a notification of each operation in
/// `events` (notification_event bits) to `address`.
struct NotificationTarget {
  std::uint8_t events = 0;
  std::string address;
};

/// The NotificationEvent BIT STRING (DER, no trailing zero bits) of a mask of
/// notification_event bits.
asn1::BitString notification_event_bits(std::uint8_t events);
/// The notification_event bits set in a NotificationEvent BIT STRING.
std::uint8_t notification_event_mask(const asn1::BitString& bits);
/// "install,enable,disable,delete" (any subset, any order, "" or "none":
/// nothing) -> a mask; nullopt on an unknown word.
std::optional<std::uint8_t> parse_notification_events(std::string_view text);

struct ProfileMetadataInput {
  std::string service_provider_name;
  std::string profile_name;
  std::optional<std::int64_t> profile_class;  ///< absent: operational
  /// The StoreMetadataRequest goes out as '88' segments of at most this many
  /// bytes (SGP.22 v2.2.2 §2.5.5: sequenceOf88 may hold several); 0 or more
  /// than crypto::kBspMaxPayload: segments as large as one may be, so only
  /// metadata larger than that is split.
  std::size_t metadata_segment_size = 0;
  /// notificationConfigurationInfo: where the eUICC sends which
  /// notifications; empty: none asked for (the installation result still
  /// goes to the SM-DP+ of the download, SGP.22 §3.5).
  std::vector<NotificationTarget> notifications{};
};

class PreparedProfile {
 public:
  /// How much of the package prepare() decodes.
  enum class PackageCheck {
    Whole,       ///< every ProfileElement: a package not checked before
    HeaderOnly,  ///< the ProfileHeader: a package decoded whole when it was stored
  };

  /// Decodes the UPP (SAIP profile package), takes the ICCID from its
  /// ProfileHeader and builds the metadata. With `use_ppk` a fresh PPK
  /// (PPK-ENC, PPK-MAC, initial MCV) is drawn from `rng` and the profile data
  /// is protected with it now, so sessions only protect ReplaceSessionKeys.
  static SmdppResult<std::shared_ptr<const PreparedProfile>> prepare(Bytes upp, ProfileMetadataInput meta,
                                                                      bool use_ppk, crypto::Random& rng,
                                                                      PackageCheck check = PackageCheck::Whole);

  const Bytes& upp() const { return upp_; }
  const Bytes& iccid() const { return metadata_.iccid; }
  const asn1::sgp22::StoreMetadataRequest& metadata() const { return metadata_; }
  /// DER of the StoreMetadataRequest (BF25), the sequenceOf88 plaintext.
  const Bytes& metadata_der() const { return metadata_der_; }
  /// The largest '88' segment payload for the metadata (ProfileMetadataInput).
  std::size_t metadata_segment_size() const { return metadata_segment_size_; }
  bool uses_ppk() const { return ppk_.has_value(); }
  /// The ReplaceSessionKeysRequest DER (BF26), when a PPK is used.
  const Bytes& replace_session_keys_der() const { return rsk_der_; }
  /// Contents of each protected '86' segment (ciphertext || MAC), PPK only.
  const std::vector<Bytes>& ppk_segments() const { return ppk_segments_; }

 private:
  PreparedProfile() = default;
  Bytes upp_;
  asn1::sgp22::StoreMetadataRequest metadata_;
  Bytes metadata_der_;
  std::size_t metadata_segment_size_ = crypto::kBspMaxPayload;
  std::optional<crypto::BspKeys> ppk_;
  Bytes rsk_der_;
  std::vector<Bytes> ppk_segments_;
};

/// Why an order the eUICC named cannot be downloaded now. The catalog
/// decides it; the core answers it only after the EID check, so an eUICC
/// learns nothing about an order bound to another.
enum class OrderBlock {
  None,
  NotReleased,        ///< not (or no longer) released: 8.2 / 1.2
  Expired,            ///< past its validity: 8.8.5 / 4.10
  AttemptsExhausted,  ///< the maximum number of download attempts was reached: 8.8.5 / 6.4
  /// confirmation code attempts exhausted: 8.2.7 / 6.4, the code
  /// GetBoundProfilePackage gave when the last attempt failed
  ConfirmationCodeExhausted,
};

/// The SGP.22 v2.2.2 §5.6.2 code of a blocked order; nullopt for OrderBlock::None.
std::optional<codes::Code> order_block_code(OrderBlock block);

/// One download order (ES2+ DownloadOrder/ConfirmOrder result).
struct ProfileOrder {
  std::string matching_id;
  std::optional<std::string> eid;  ///< when bound to one eUICC
  /// SHA-256(confirmation code) when a confirmation code is required
  /// (SGP.22 §3.1.2: the eUICC sends SHA-256(SHA-256(CC) || transactionId)).
  std::optional<Bytes> cc_hash;
  int cc_attempts_left = 3;
  /// Set only when block is OrderBlock::None.
  std::shared_ptr<const PreparedProfile> profile;
  OrderBlock block = OrderBlock::None;
  /// otPK.EUICC.ECKA of the Bound Profile Package already issued to this
  /// eUICC for the order, when the SM-DP+ can bind a retry with the same
  /// one-time keys: AuthenticateClient sends it as smdpSigned2.bppEuiccOtpk
  /// (SGP.22 v2.2.2 §5.6.2, §5.7.5).
  std::optional<Bytes> bpp_euicc_otpk{};
};

/// What happened to an order, for the operator side (ES2+ HandleDownloadProgressInfo).
enum class OrderEvent { BppIssued, Installed, InstallFailed, Cancelled, CcRefused };

/// CancelSessionReason values (SGP.22 v2.2.2 §5.7.14 / §2.5.6 ASN.1). The
/// ASN.1 module of this project names 0..3; 4, 5 and 127 are the values
/// v2.2.2 adds, taken as such.
namespace cancel_reason {
inline constexpr std::int64_t kEndUserRejection = 0;
inline constexpr std::int64_t kPostponed = 1;
inline constexpr std::int64_t kTimeout = 2;
inline constexpr std::int64_t kPprNotAllowed = 3;
inline constexpr std::int64_t kMetadataMismatch = 4;
inline constexpr std::int64_t kLoadBppExecutionError = 5;
inline constexpr std::int64_t kUndefinedReason = 127;
}  // namespace cancel_reason

/// Whether a download cancelled for `reason` stays downloadable by the same
/// eUICC (postponed, timeout: the end user or the device may try again
/// later); every other reason ends it in error (SGP.22 v2.2.2 §3.1.3,
/// §5.6.5, as read here: the exact state rule could not be confirmed from
/// the text at hand).
bool cancel_keeps_order(std::int64_t reason);
/// "endUserRejection", ..., or "reason <n>" for a value SGP.22 does not name.
std::string cancel_reason_name(std::int64_t reason);

/// What a verified ProfileInstallationResult (SGP.22 §5.6.4, signed by the
/// eUICC the Bound Profile Package was issued to) says about the order's profile.
enum class InstallOutcome {
  Installed,  ///< finalResult successResult
  /// finalResult errorResult with errorReason
  /// installFailedDueToIccidAlreadyExistsOnEuicc (SGP.22 §5.7.6, ErrorReason 9)
  /// for the order's own ICCID: that eUICC holds the profile already (a
  /// download retried after the first installation's notification was lost),
  /// so the profile is installed there.
  AlreadyOnEuicc,
  Failed,  ///< any other errorResult
};

/// The outcome of `pir` for an order whose profile has `order_iccid` (SGP.22
/// Iccid, EF.ICCID coding; a plain BCD value is accepted too). The caller has
/// verified euiccSignPIR with the key of the eUICC the BPP was issued to.
InstallOutcome install_outcome(const asn1::sgp22::ProfileInstallationResult& pir, ByteView order_iccid);

/// The eUICC a Bound Profile Package was issued to (SGP.22 §3.1.3). A
/// durable catalog keeps it with the order, so that after a restart the
/// installation result (SGP.22 §5.6.4, verified with this key) still
/// completes the order and only this eUICC may retry the download.
struct IssuedDownload {
  std::string matching_id;
  std::string eid;
  Bytes transaction_id;
  crypto::Curve curve = crypto::Curve::NistP256;
  Bytes euicc_public_point;  ///< uncompressed point of the eUICC certificate's key
  /// The one-time keys the BPP was bound with (SGP.22 §3.1.3.3): otPK.EUICC.ECKA
  /// and the SM-DP+'s own otSK.DP.ECKA. A durable catalog keeps the private
  /// key sealed under its key-encryption key until the order ends, so that a
  /// retry with the same otPK.EUICC.ECKA gets the same session keys; it is
  /// never logged. Empty when the download's keys are not to be kept.
  Bytes euicc_otpk{};
  std::optional<crypto::EcKey> smdp_ot_key{};
  /// The BPP reused the one-time key pair kept from an earlier issue.
  bool ot_key_reused = false;
};

/// A profile management notification the eUICC signed (SGP.22 v2.2.2 §5.6.4
/// OtherSignedNotification: enable, disable or delete, §3.5), verified by
/// the core with the eUICC certificate it carried.
struct ProfileNotification {
  std::string eid;  ///< of the eUICC certificate that verified it
  Bytes iccid;      ///< the Iccid it names (EF.ICCID coding)
  std::uint8_t event = 0;  ///< exactly one notification_event bit
  std::int64_t seq_number = 0;
  Bytes signed_notification;  ///< DER of the PendingNotification, for the operator
};

/// What the catalog made of a verified ProfileNotification.
enum class NotificationRecord {
  Recorded,        ///< the profile's state on its eUICC changed; the operator is told
  UnknownProfile,  ///< no profile with this ICCID was installed by this SM-DP+
  OtherEuicc,      ///< the profile was installed on another eUICC
  Replayed,        ///< seqNumber not above the last one recorded, or the profile is deleted
  NotRecorded,     ///< the catalog keeps no state after the download
};

/// Where the core finds orders and reports progress. The store component
/// replaces the in-memory implementation. Every call says when the catalog
/// could not read or write its storage (SmdppError::storage): the core then
/// answers with a server error, never as if the order did not exist.
class ProfileCatalog {
 public:
  virtual ~ProfileCatalog() = default;
  /// The released order for `matching_id`, or for `eid` when no matchingId
  /// was sent; nullopt when there is none.
  virtual SmdppResult<std::optional<ProfileOrder>> find(const std::string& matching_id, const std::string& eid) = 0;
  /// One confirmation code attempt failed; returns the attempts left.
  virtual SmdppResult<int> record_cc_failure(const std::string& matching_id) = 0;
  virtual SmdppResult<void> record(const std::string& matching_id, OrderEvent event) = 0;
  /// The eUICC's verified, signed ProfileInstallationResult for the order
  /// (SGP.22 §5.6.4): OrderEvent::Installed for InstallOutcome::Installed and
  /// AlreadyOnEuicc (install_outcome() with the order's ICCID), else
  /// InstallFailed; the operator gets the result as resultData. Returns the
  /// outcome recorded, or why nothing was recorded: SmdppError::storage when
  /// the catalog could not store it (the eUICC's result must then be sent again).
  virtual SmdppResult<InstallOutcome> record_install_result(const std::string& matching_id,
                                                            const asn1::sgp22::ProfileInstallationResult& pir) {
    const auto outcome = pir.profileInstallationResultData.finalResult.successResult() != nullptr
                             ? InstallOutcome::Installed
                             : InstallOutcome::Failed;
    RSP_TRY_VOID(record(matching_id, outcome == InstallOutcome::Installed ? OrderEvent::Installed
                                                                        : OrderEvent::InstallFailed));
    return outcome;
  }
  /// ES9+.CancelSession (SGP.22 §5.6.5) of the order's session, with the
  /// reason the eUICC signed (cancel_reason; kUndefinedReason when it sent
  /// none): cancel_keeps_order() decides the profile's next state, and the
  /// operator hears of it. The default records OrderEvent::Cancelled.
  virtual SmdppResult<void> record_cancel(const std::string& matching_id, std::int64_t reason) {
    (void)reason;
    return record(matching_id, OrderEvent::Cancelled);
  }
  /// OrderEvent::BppIssued with the eUICC it went to. The core answers with
  /// the BPP only once this succeeded (the release is stored first).
  virtual SmdppResult<void> record_bpp_issued(const IssuedDownload& d) {
    return record(d.matching_id, OrderEvent::BppIssued);
  }
  /// The download issued under `transaction_id` whose installation result
  /// is still awaited, when the catalog keeps them across restarts; an error
  /// (SmdppError::storage) when the catalog could not be read.
  virtual SmdppResult<std::optional<IssuedDownload>> issued_download(const Bytes& transaction_id) {
    (void)transaction_id;
    return std::optional<IssuedDownload>();
  }
  /// The SM-DP+'s one-time key pair kept for the order from the BPP issued
  /// to `eid` with `euicc_otpk` (record_bpp_issued()), when the eUICC retries
  /// with that same otPK.EUICC.ECKA (SGP.22 v2.2.2 §5.6.3); nullopt when none
  /// is kept (the core then makes a fresh one).
  virtual SmdppResult<std::optional<crypto::EcKey>> kept_one_time_key(const std::string& matching_id,
                                                                      const std::string& eid, ByteView euicc_otpk) {
    (void)matching_id, (void)eid, (void)euicc_otpk;
    return std::optional<crypto::EcKey>();
  }
  /// A verified enable, disable or delete notification (SGP.22 v2.2.2 §3.5,
  /// §5.6.4): a durable catalog records the profile's state on the eUICC it
  /// was installed on and queues HandleDownloadProgressInfo for the
  /// operator; anything but NotificationRecord::Recorded changed nothing.
  /// SmdppError::storage when it could not be stored (the LPA sends it again).
  virtual SmdppResult<NotificationRecord> record_profile_notification(const ProfileNotification& n) {
    (void)n;
    return NotificationRecord::NotRecorded;
  }
};

class InMemoryProfileCatalog final : public ProfileCatalog {
 public:
  void add(ProfileOrder order);
  SmdppResult<std::optional<ProfileOrder>> find(const std::string& matching_id, const std::string& eid) override;
  SmdppResult<int> record_cc_failure(const std::string& matching_id) override;
  SmdppResult<void> record(const std::string& matching_id, OrderEvent event) override;
  SmdppResult<InstallOutcome> record_install_result(const std::string& matching_id,
                                                    const asn1::sgp22::ProfileInstallationResult& pir) override;
  /// Events recorded for an order, oldest first.
  std::vector<OrderEvent> events(const std::string& matching_id) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, ProfileOrder> orders_;
  std::map<std::string, std::vector<OrderEvent>> events_;
};

/// SHA-256 (confirmation code hashes), from the crypto component.
using crypto::sha256;

}  // namespace rsp::smdpp
