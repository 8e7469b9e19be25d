#pragma once
/// The ProfileCatalog of the SM-DP+ core over the database inventory: the
/// ES9+ functions find released orders here, and what happens during a
/// download moves the profile through its states (inventory.hpp) and queues
/// an ES2+ HandleDownloadProgressInfo for the operator.
///
/// Event -> transition (each in one transaction with its outbox entry):
/// An order is refused (find(), and again in the transaction of BppIssued)
/// when its profile is not released (8.2 / 1.2), past its expiry (8.8.5 /
/// 4.10), its attempts are used up (8.8.5 / 6.4) or its confirmation code
/// attempts are (8.2.7 / 6.4); without a matchingId an eUICC gets its own
/// download in progress before any other released order bound to its EID.
///
///   BppIssued      released -> downloaded           (notificationPointId 3)
///                  with the eUICC (EID, key, transactionId) kept on the
///                  order, and the one-time keys (otPK.EUICC.ECKA, the
///                  SM-DP+'s otSK.DP.ECKA sealed under the KEK) until the
///                  profile leaves downloaded; again by the same eUICC:
///                  downloaded stays, with the same one-time keys when it
///                  sends the same otPK.EUICC.ECKA (SGP.22 v2.2.2 §5.6.3)
///   Installed      downloaded -> installed          (4, Executed-Success)
///                  also for an errorResult installFailedDueToIccidAlreadyExistsOnEuicc
///                  about the order's ICCID from the eUICC the BPP went to
///                  (InstallOutcome::AlreadyOnEuicc): the profile is on that card
///   InstallFailed  downloaded -> error              (4, Failed)
///   Cancelled      downloaded -> error; before the BPP the order stays
///                  released for a new attempt        (3, Failed)
///   CancelSession  postponed, timeout: released | downloaded stay (the
///                  same eUICC may download again); any other reason:
///                  released | downloaded -> error    (3, Failed, the reason named)
///   cc failure     attempts - 1; at 0 released -> error and the order blocked (2, Failed)
///
/// After the installation the profile's state on its eUICC (card_state:
/// installed, then enabled, disabled, deleted) follows the notifications
/// that eUICC signs (record_profile_notification): only from the eUICC the
/// BPP went to, only with a seqNumber above the last one recorded (the
/// installation result's included), nothing after deleted; each recorded one
/// goes to the operator as HandleDownloadProgressInfo (notificationPointId
/// 5 enable, 6 disable, 7 delete, Executed-Success, resultData the signed
/// notification). The SGP.22 state stays installed.

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "rsp/crypto/random.hpp"
#include "rsp/smdpp/catalog.hpp"
#include "rsp/smdpp/inventory.hpp"

namespace rsp::smdpp {

struct SqlCatalogOptions {
  /// Protect each profile once with a Profile Protection Key (SGP.22 §2.5.5).
  bool use_ppk = false;
  /// Prepared profiles kept in memory (by ICCID).
  std::size_t cache_size = 256;
  /// Bound Profile Packages issued per order at most, retries included; a
  /// further AuthenticateClient answers 8.8.5 / 6.4 (SGP.22 v2.2.2 §5.6.2).
  /// 0: no limit.
  int max_download_attempts = 0;
  /// Per profile type: the StoreMetadataRequest goes out in '88' segments of
  /// at most this many bytes (ProfileMetadataInput::metadata_segment_size).
  std::map<std::string, std::size_t> metadata_segment_sizes{};
  /// Where the eUICC sends its profile management notifications: every
  /// StoreMetadataRequest carries a notificationConfigurationInfo with this
  /// address (the SM-DP+'s own) and the events of the profile's type
  /// (SGP.22 v2.2.2 §2.4a, §3.5); empty: none asked for.
  std::string notification_address{};
  /// notification_event bits asked for, by default for every profile type ...
  std::uint8_t notification_events = notification_event::kAll;
  /// ... and per profile type where it differs.
  std::map<std::string, std::uint8_t> notification_events_by_type{};
};

/// What one download writes (SGP.22 §3.1.3), and how durably, on SQLite:
///   * InitiateAuthentication, AuthenticateClient: the session only (memory
///     on SQLite: a crash loses it, the LPA starts again); the order is read.
///   * GetBoundProfilePackage, a wrong confirmation code: one flushed
///     transaction (attempts left, the block at zero, the outbox entry)
///     before the answer, so that crashing the server gives no extra guess.
///   * GetBoundProfilePackage: one flushed transaction before the answer:
///     released -> downloaded, the eUICC and transactionId, the download
///     attempt counted, the one-time keys sealed, the outbox entry. This is
///     the download's one disk flush (shared with others by group commit).
///   * HandleNotification (installation result): one transaction without a
///     flush of its own (record_checked() says why it may wait for the next).
///   * CancelSession, a PrepareDownload error, the later notifications:
///     flushed transactions, outside the successful download.
class SqlProfileCatalog final : public ProfileCatalog {
 public:
  SqlProfileCatalog(std::shared_ptr<Inventory> inventory, crypto::Random& rng, SqlCatalogOptions options = {});

  SmdppResult<std::optional<ProfileOrder>> find(const std::string& matching_id, const std::string& eid) override;
  SmdppResult<int> record_cc_failure(const std::string& matching_id) override;
  SmdppResult<void> record(const std::string& matching_id, OrderEvent event) override;
  SmdppResult<InstallOutcome> record_install_result(const std::string& matching_id,
                                                    const asn1::sgp22::ProfileInstallationResult& pir) override;
  SmdppResult<void> record_bpp_issued(const IssuedDownload& d) override;
  SmdppResult<void> record_cancel(const std::string& matching_id, std::int64_t reason) override;
  SmdppResult<std::optional<IssuedDownload>> issued_download(const Bytes& transaction_id) override;
  SmdppResult<std::optional<crypto::EcKey>> kept_one_time_key(const std::string& matching_id, const std::string& eid,
                                                              ByteView euicc_otpk) override;
  SmdppResult<NotificationRecord> record_profile_notification(const ProfileNotification& n) override;

  /// The last storage or preparation failure (for logs; no secrets).
  std::string last_error() const;

 private:
  SmdppResult<std::optional<ProfileOrder>> find_order(const std::string& matching_id, const std::string& eid);
  SmdppResult<int> cc_failure(const std::string& matching_id);
  SmdppResult<void> cancel(const std::string& matching_id, std::int64_t reason);
  SmdppResult<NotificationRecord> profile_notification(const ProfileNotification& n);
  SmdppResult<void> bpp_issued(const IssuedDownload& d);
  /// Records `event`; with `pir`, the event is the one its install_outcome() names.
  SmdppResult<InstallOutcome> record_checked(const std::string& matching_id, OrderEvent event,
                                             const asn1::sgp22::ProfileInstallationResult* pir = nullptr);
  /// The prepared profile `p`, from the cache or from its package: the one
  /// `stored` names when the order's query read it along, else read now.
  SmdppResult<std::shared_ptr<const PreparedProfile>> prepared(const ProfileRecord& p,
                                                               const Inventory::StoredPackage* stored = nullptr);
  /// The notificationConfigurationInfo of a profile of `profile_type`.
  std::vector<NotificationTarget> notification_targets(const std::string& profile_type) const;
  /// The SM-DP+'s one-time private key of `d`, sealed for its order; nullopt
  /// when it is not kept (none given, no key-encryption key).
  std::optional<Bytes> seal_one_time_key(std::int64_t order_id, const std::string& iccid, const IssuedDownload& d);
  void note(const SmdppError& e);

  /// What the installation result records of an order whose BPP this
  /// catalog issued (bpp_issued), kept from then: the installation result's
  /// transaction then reads only whether the order is still active (a key
  /// lookup) instead of the order, its profile and operator joined. The
  /// profile is downloaded then, and the UPDATE that moves it on checks so.
  /// Without it (another instance issued the BPP, a restart, dropped, a
  /// retry) the order is read as for any other event.
  struct IssuedOrder {
    std::string iccid;
    std::string profile_type;
    std::string operator_name;  ///< the recipient of the order's progress
    std::optional<std::string> eid;  ///< the EID the order is bound to
  };
  /// At most this many are kept, the oldest dropped first: one per download
  /// between its BPP and its installation result.
  static constexpr std::size_t kIssuedOrdersKept = 4096;
  void remember_issued(std::int64_t order_id, IssuedOrder o);
  std::optional<IssuedOrder> take_issued(std::int64_t order_id);
  std::unordered_map<std::int64_t, IssuedOrder> issued_;
  std::deque<std::int64_t> issued_fifo_;  ///< remember_issued() order; ids taken since may remain

  std::shared_ptr<Inventory> inv_;
  crypto::Random& rng_;
  SqlCatalogOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const PreparedProfile>> cache_;
  std::string last_error_;
};

/// The HandleDownloadProgressInfo body (without header) for an event
/// (SGP.22 §5.3.5): eid, iccid, profileType, timestamp, notificationPointId,
/// notificationPointStatus and, when given, resultData (base64; for the
/// installation point the eUICC's signed ProfileInstallationResult).
std::string progress_payload(const std::optional<std::string>& eid, const std::string& iccid,
                             const std::string& profile_type, std::int64_t timestamp, int notification_point,
                             const std::optional<SmdppError>& failure, const Bytes* result_data = nullptr);

}  // namespace rsp::smdpp
