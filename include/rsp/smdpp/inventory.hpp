#pragma once
/// The SM-DP+ profile inventory in a database: operators, profiles with
/// their SGP.22 states, download orders, the history of every state
/// transition and a durable outbox of ES2+ HandleDownloadProgressInfo
/// callbacks. One schema, applied by versioned migrations on open.
///
/// Profile states (SGP.22 §3.1.2, §5.3):
///
///   available --DownloadOrder--> allocated | linked (EID given)
///   allocated | linked --ConfirmOrder--> confirmed | released (releaseFlag)
///   confirmed --ReleaseProfile--> released
///   released --BPP issued--> downloaded --installation result--> installed | error
///   (a downloaded profile stays downloadable by the eUICC it was issued to,
///   e.g. after a lost answer or a restart, and by no other)
///   (an installation result saying that eUICC holds the ICCID already
///   also means installed: sql_catalog.hpp)
///   released --confirmation code attempts exhausted--> error
///   downloaded --session cancelled--> error
///   allocated | linked | confirmed | released | downloaded | error
///       --CancelOrder--> available | unavailable (finalProfileStatusIndicator)
///   downloaded | error --the operator's statement that the profile is on
///       no eUICC (reinstate_profile)--> available
///
/// Once a Bound Profile Package of the current order was issued (downloaded,
/// and error after it), the profile may be on a card: CancelOrder may make
/// it unavailable but not available, and only reinstate_profile, with the
/// operator's recorded statement, returns it to the pool.
/// installed and unavailable are final. Every transition is checked against
/// this table and recorded (time, cause, order) in the same transaction that
/// changes the state.
///
/// Profile packages hold the subscribers' keys (K, OPc): they are stored
/// encrypted under per-package keys wrapped by a key-encryption key
/// (package_envelope.hpp), which the inventory is opened with.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/service/outbox.hpp"
#include "rsp/service/package_envelope.hpp"
#include "rsp/service/sql_outbox.hpp"
#include "rsp/smdpp/catalog.hpp"
#include "rsp/smdpp/error.hpp"
#include "rsp/smdpp/server.hpp"
#include "rsp/store/database.hpp"
#include "rsp/store/migrate.hpp"

namespace rsp::smdpp {

enum class ProfileState { Available, Allocated, Linked, Confirmed, Released, Downloaded, Installed, Error, Unavailable };

std::string_view to_string(ProfileState s);
std::optional<ProfileState> profile_state_from_string(std::string_view s);
/// True when the state machine above allows `from` -> `to`.
bool transition_allowed(ProfileState from, ProfileState to);

/// The SM-DP+'s tables carry their schema version under this name (see store::migrate).
inline constexpr std::string_view kSchemaComponent = "smdpp";
/// The outbox (service::SqlOutbox) the HandleDownloadProgressInfo callbacks wait in.
inline constexpr std::string_view kCallbackOutbox = "smdpp.hdpi";
/// The outbox (service::SqlOutbox) the ES12 calls to SM-DSs wait in (Inventory::enable_smds_events).
inline constexpr std::string_view kSmdsOutbox = "smdpp.es12";
/// The SM-DP+ schema, oldest migration first.
std::span<const store::Migration> inventory_migrations();

/// 32 decimal digits (SGP.29 EID).
bool is_valid_eid(std::string_view eid);

struct ProfileRecord {
  std::string iccid;
  std::string operator_name;
  std::string profile_type;
  ProfileState state = ProfileState::Available;
  std::string service_provider_name;
  std::string profile_name;
  std::optional<std::int64_t> profile_class;
  std::string metadata;  ///< free-form JSON object text
  /// After the installation, the profile's state on its eUICC as its signed
  /// notifications report it: "installed", "enabled", "disabled", "deleted"
  /// (SGP.22 v2.2.2 §3.5); empty before (sql_catalog.hpp).
  std::string card_state{};
};

struct OrderRecord {
  std::int64_t id = 0;
  std::string iccid;
  std::string operator_name;
  std::optional<std::string> matching_id;
  std::optional<std::string> eid;
  std::optional<Bytes> cc_hash;  ///< SHA-256 of the confirmation code; never the code
  int cc_attempts_left = 0;
  std::optional<std::string> smds_address;
  bool active = false;  ///< the profile's current order
  /// The eUICC a Bound Profile Package of this order was issued to, if any.
  std::optional<std::string> download_eid;
  /// Seconds since the epoch after which the order cannot be downloaded.
  std::optional<std::int64_t> expires_at;
  /// Bound Profile Packages issued for the order so far.
  int download_attempts = 0;
};

struct TransitionRecord {
  std::string iccid;
  std::optional<ProfileState> from;  ///< none for the import
  ProfileState to = ProfileState::Available;
  std::string cause;
  std::optional<std::int64_t> order_id;
  std::int64_t at = 0;  ///< seconds since the epoch
};

/// One pending ES2+ HandleDownloadProgressInfo call (SGP.22 §5.3.5), as
/// due_outbox() shows it. The payload is the request body without its
/// header; the sender adds the header (functionRequesterIdentifier,
/// functionCallIdentifier) on delivery.
struct OutboxEntry {
  std::int64_t id = 0;
  std::string operator_name;
  std::optional<std::string> callback_url;  ///< as configured now
  std::string payload;  ///< JSON object text
  int attempts = 0;
};

struct ImportProfile {
  std::string operator_name;
  /// Empty: the ProfileHeader's profileType, else "default".
  std::string profile_type;
  Bytes upp;
  ProfileMetadataInput metadata;  ///< names shown to the user (StoreMetadataRequest)
  std::string extra_metadata = "{}";
};

/// Retries and back-off of the outbox (the service kit's, rsp/service/outbox.hpp).
using OutboxPolicy = service::OutboxPolicy;
/// Profile packages are sealed with the service kit's envelope (package_envelope.hpp).
using service::KeyEncryptionKey;

/// How the inventory keeps profile packages at rest (package_envelope.hpp).
struct PackageProtection {
  /// The key-encryption key. Without one, imports are refused and encrypted
  /// packages cannot be read; lists, orders and states work all the same.
  std::shared_ptr<const KeyEncryptionKey> kek;
  /// Draws the data keys and nonces; null: crypto::system_random().
  crypto::Random* rng = nullptr;
};

/// The stored packages by the key they are encrypted under.
struct PackageKeyCount {
  std::size_t under_kek = 0;  ///< under the inventory's key-encryption key
  std::size_t in_clear = 0;   ///< stored by a version before encryption at rest
  std::map<std::string, std::size_t> under_other;  ///< another key's id (hex) -> packages
};

/// What rewrap_packages() changed.
struct RewrapCount {
  std::size_t rewrapped = 0;  ///< data keys wrapped again under the new key
  std::size_t encrypted = 0;  ///< packages that were stored in clear
  std::size_t unchanged = 0;  ///< already under the new key
};

class Inventory {
 public:
  /// Migrates the database to the current schema and wraps it.
  static SmdppResult<std::shared_ptr<Inventory>> open(std::shared_ptr<store::Database> db, const Clock& clock,
                                                      PackageProtection protection = {});

  store::Database& db() { return *db_; }
  const Clock& clock() const { return clock_; }

  /// The operator's id, created on first use.
  SmdppResult<std::int64_t> ensure_operator(const std::string& name);
  SmdppResult<void> set_callback_url(const std::string& name, const std::string& url);
  /// The operator's id; nullopt when it is not registered.
  SmdppResult<std::optional<std::int64_t>> operator_id(const std::string& name);

  /// Validates the UPP (SAIP, ProfileHeader first with a 10-byte ICCID),
  /// stores it encrypted as available and returns the ICCID digits. A
  /// duplicate ICCID is refused with es2codes::kIccidInUse; a malformed
  /// package with codes::kInvalidRequest and the reason; without a
  /// key-encryption key with kExecutionError.
  SmdppResult<std::string> import_profile(const ImportProfile& p);

  /// Profiles, optionally of one operator, ordered by ICCID.
  SmdppResult<std::vector<ProfileRecord>> list_profiles(const std::optional<std::string>& operator_name = {});
  /// nullopt when absent or owned by another operator (when `operator_name` is set).
  SmdppResult<std::optional<ProfileRecord>> profile(const std::string& iccid,
                                                    const std::optional<std::string>& operator_name = {});
  /// The stored UPP, decrypted. A package under another key-encryption key,
  /// or whose stored envelope was changed, is an execution error whose
  /// message says which (package_envelope.hpp), never a key.
  SmdppResult<Bytes> profile_package(const std::string& iccid);
  /// Where a profile's package is kept, as a query that joins
  /// profile_packages (k) to the profile (p) reads it: `k.upp, p.upp_path`.
  struct StoredPackage {
    std::optional<Bytes> sealed;      ///< profile_packages.upp
    std::optional<std::string> path;  ///< profiles.upp_path, when the package is a file
  };
  /// The columns of StoredPackage, in its order, for such a query.
  static constexpr std::string_view kStoredPackageColumns = "k.upp, p.upp_path";
  /// The package of profile `iccid` from what such a query read, decrypted
  /// (the catalog reads it with the order a download names: one statement);
  /// errors as profile_package's.
  SmdppResult<Bytes> open_stored_package(const std::string& iccid, const StoredPackage& stored);
  /// A secret of the SM-DP+'s own (the one-time private key kept with an
  /// order) sealed under the key-encryption key with the package envelope,
  /// bound to `label` (a blob under another label does not open); an
  /// execution error without a key-encryption key. open_secret() refuses a
  /// blob that is not sealed. Errors never carry the secret.
  SmdppResult<Bytes> seal_secret(std::string_view label, ByteView secret);
  SmdppResult<Bytes> open_secret(std::string_view label, ByteView sealed);
  /// Counts the stored packages by the key they are encrypted under (from
  /// an index, without reading them): a start can tell that it was given
  /// the wrong key-encryption key before any download fails.
  SmdppResult<PackageKeyCount> package_keys();
  /// In one transaction, wraps the data key of every stored package again
  /// under `to` (the packages themselves are not encrypted again) and
  /// encrypts the packages stored in clear; this inventory's key opens the
  /// others. Any package that does not open stops it with nothing changed.
  /// Afterwards only `to` opens the packages: open the inventory with it.
  SmdppResult<RewrapCount> rewrap_packages(const KeyEncryptionKey& to);
  /// The profile's current (active) order.
  SmdppResult<std::optional<OrderRecord>> active_order(const std::string& iccid);
  SmdppResult<std::vector<TransitionRecord>> history(const std::string& iccid);

  /// Moves the profile to `to` when allowed and records the transition.
  /// Run inside a transaction together with the change that causes it;
  /// `from`, when given, is the state the caller read in that transaction
  /// (saves reading it again; the update still checks it).
  SmdppResult<void> transition(const std::string& iccid, ProfileState to, const std::string& cause,
                               std::optional<std::int64_t> order_id = {}, std::optional<ProfileState> from = {});
  /// What an installation result (SGP.22 §5.6.4) writes besides the state,
  /// folded into the statements transition() runs anyway: the state on the
  /// eUICC ('installed', with the result's seqNumber, §5.7.9) in the
  /// profile's UPDATE, and the order ending 'done' in the UPDATE that clears
  /// the kept one-time keys of the profile's orders.
  struct InstalledWrites {
    std::optional<std::int64_t> card_seq;
    std::int64_t done_order = 0;
  };
  /// transition() to ProfileState::Installed (only from Downloaded) with
  /// `writes`, for the order writes.done_order; two statements fewer than
  /// the transition and the writes each on their own.
  SmdppResult<void> transition_to_installed(const std::string& iccid, const std::string& cause, ProfileState from,
                                            const InstalledWrites& writes);
  /// Returns a profile whose Bound Profile Package was issued (downloaded,
  /// or error) to the available pool, on the operator's statement that it is
  /// on no eUICC: the current order is cancelled and the transition's cause
  /// records the statement with `reason` (1 to 500 characters, no control
  /// characters). Any other state is refused with es2codes::kIccidInvalidTransition
  /// (a profile without a BPP goes back with ES2+ CancelOrder). Returns the
  /// recorded transition.
  SmdppResult<TransitionRecord> reinstate_profile(const std::string& iccid, const std::string& reason);

  /// Queues a HandleDownloadProgressInfo for the profile's operator in the
  /// callback outbox; inside the caller's transaction it commits with it.
  SmdppResult<void> enqueue_progress(const std::string& iccid, const std::string& payload);
  /// The same for a caller that read the profile's operator already (one
  /// statement fewer in a download's transactions).
  SmdppResult<void> enqueue_progress_to(const std::string& operator_name, const std::string& payload);

  /// Entries due now (not delivered, attempts left, not leased), oldest first.
  SmdppResult<std::vector<OutboxEntry>> due_outbox(std::size_t limit = 100);
  /// The HandleDownloadProgressInfo callbacks in the service kit's outbox
  /// (rsp/service/sql_outbox.hpp, outbox kCallbackOutbox), the recipients
  /// being the operators: a claimed entry's destination is its operator's
  /// callback URL as configured when it is sent (empty: none).
  std::shared_ptr<service::SqlOutbox> callback_outbox() const { return outbox_; }

  std::int64_t now() const;

  /// The SM-DS events of orders with an smdsAddress (SGP.22 v2.2.2 §3.6):
  /// from now on transition() queues each order's ES12 RegisterEvent when
  /// its profile is released and its DeleteEvent when the order ends
  /// (installed, cancelled), in the outbox kSmdsOutbox and the transaction
  /// of the transition; `rsp_server_address` is this SM-DP+'s address the
  /// events name. Call once, before serving. See smds_events.hpp.
  SmdppResult<void> enable_smds_events(std::string rsp_server_address);
  /// The ES12 calls waiting to go (outbox kSmdsOutbox, recipients the SM-DS
  /// addresses, destinations their https:// URLs); null before enable_smds_events().
  std::shared_ptr<service::SqlOutbox> smds_outbox() const { return smds_outbox_; }
  /// Queues the DeleteEvent of every registered event whose order expired
  /// (SGP.22 §5.6.2: an expired order is no longer downloaded); returns how many.
  SmdppResult<std::size_t> expire_smds_events();

  /// Whether the database takes a durable write now: one row of its own is
  /// rewritten and committed (a database that only reads, is full or has lost
  /// its server fails). For health checks; the error says why.
  SmdppResult<void> check_writable();

 private:
  Inventory(std::shared_ptr<store::Database> db, const Clock& clock, PackageProtection protection,
            std::shared_ptr<service::SqlOutbox> outbox)
      : db_(std::move(db)), clock_(clock), protection_(std::move(protection)), outbox_(std::move(outbox)) {}
  crypto::Random& rng() const;
  std::shared_ptr<store::Database> db_;
  const Clock& clock_;
  PackageProtection protection_;
  std::shared_ptr<service::SqlOutbox> outbox_;
  std::shared_ptr<service::SqlOutbox> smds_outbox_;
  std::string smds_rsp_address_;
  SmdppResult<void> smds_event_after(const std::string& iccid, ProfileState to, std::optional<std::int64_t> order_id);
  /// transition() and, with `installed`, transition_to_installed().
  SmdppResult<void> transition_writing(const std::string& iccid, ProfileState to, const std::string& cause,
                                       std::optional<std::int64_t> order_id, std::optional<ProfileState> from,
                                       const InstalledWrites* installed);
};

/// Seconds since the epoch in the timestamp form of SGP.22 (YYYY-MM-DDThh:mm:ssZ, UTC).
std::string utc_timestamp(std::int64_t seconds);

/// A storage failure as an ES2+/ES9+ execution error (the engine message
/// only), with SmdppError::storage set.
SmdppError storage_error(const store::DbError& e);

}  // namespace rsp::smdpp
