#pragma once
/// The M2M SM-DP's profile inventory (SGP.02 §3.1: the SM-DP holds the
/// MNO's profiles until a DownloadProfile names one), schema component
/// "smdp.inventory" beside the download table, SQLite or PostgreSQL through
/// rsp/store.
///
/// One row per profile: ICCID, profile type, owning MNO, the SAIP package
/// (UPP) sealed at rest as the SM-DP+ seals its packages
/// (rsp/service/package_envelope.hpp: AES-256-GCM under a fresh DEK wrapped
/// by the operator's KEK, bound to the ICCID), and its state:
///   available  -> reserved (a DownloadProfile took it for an EID)
///   reserved   -> downloaded (on the eUICC) | available (released after a
///                 failed download whose ISD-P was deleted) | quarantined
///                 (the download failed and its ISD-P could not be deleted:
///                 the profile may still be on that eUICC, so it is not
///                 offered again; an operator decides)
///
/// Only the owning MNO's requests see a profile: another MNO's ICCID is
/// answered as unknown. Errors never carry package content or keys.
///
/// Beside it (table smdp_isdp_keys, one row per downloaded profile): the
/// ISD-P key set of the download, sealed under the same KEK, and the SCP03
/// sequence counter of its last secured command (keep_isdp_keys).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/m2m/es8.hpp"
#include "rsp/service/package_envelope.hpp"
#include "rsp/store/database.hpp"
#include "rsp/store/migrate.hpp"

namespace rsp::crypto {
class Random;
}

namespace rsp::smdp {

inline constexpr std::string_view kInventorySchemaComponent = "smdp.inventory";
std::span<const store::Migration> inventory_migrations();

enum class ProfileState { Available, Reserved, Downloaded, Quarantined };
/// "available", "reserved", "downloaded", "quarantined".
std::string_view profile_state_name(ProfileState s);
std::optional<ProfileState> parse_profile_state(std::string_view name);

/// A downloaded profile's state on the eUICC as the SM-DP last learned it:
/// from its own ES3 results (the download, a relayed Enable/Disable/DeleteISDP)
/// or from the SM-SR's ES3 Handle...Notification calls (es3_notifications.hpp).
/// Unknown until the first.
enum class EuiccState { Unknown, Enabled, Disabled, Deleted };
/// "", "enabled", "disabled", "deleted".
std::string_view euicc_state_name(EuiccState s);
std::optional<EuiccState> parse_euicc_state(std::string_view name);

struct InventoryProfile {
  std::string iccid;
  std::string profile_type;
  std::string mno_id;
  ProfileState state = ProfileState::Available;
  std::string eid;  ///< set once reserved
  std::int64_t package_size = 0;  ///< bytes of the package in clear
  EuiccState euicc_state = EuiccState::Unknown;
};

/// A downloaded profile's ISD-P key set from the ES8 key establishment
/// (m2m/es8.hpp), kept for its later ES8 commands
/// (ES8.UpdateConnectivityParameters, m2m/es8_connectivity.hpp): the ISD-P,
/// the key version, K-ENC / K-MAC / K-DEK, and the SCP03 sequence counter
/// of the last secured command this SM-DP made for it.
struct IsdpKeySet {
  Bytes isdp_aid;
  std::uint8_t key_version = 0;
  m2m::es8::DerivedKeys keys;  ///< receipt_key left empty
  std::uint32_t counter = 0;
};

struct InventoryError {
  enum class Kind {
    Unknown,      ///< no such profile for this MNO (or another MNO's)
    Unavailable,  ///< the profile exists but is not available (reserved, downloaded, quarantined)
    Duplicate,    ///< add(): the ICCID is in the inventory already
    Sealing,      ///< the package could not be sealed or opened (wrong KEK, tampered)
    Storage,
  };
  Kind kind = Kind::Storage;
  std::string message;
};
template <class T>
using InventoryResult = expected<T, InventoryError>;

class Inventory {
 public:
  /// Migrates the schema; `kek` seals the packages (null: packages are kept
  /// in clear, for lab use only, as the SM-DP+ allows).
  static InventoryResult<std::unique_ptr<Inventory>> open(std::shared_ptr<store::Database> db,
                                                          std::shared_ptr<const service::KeyEncryptionKey> kek);

  /// Adds profile `iccid` of `mno_id`, its package sealed.
  InventoryResult<void> add(const std::string& iccid, const std::string& profile_type, const std::string& mno_id,
                            ByteView upp, crypto::Random& rng);
  /// Takes one of `mno_id`'s available profiles for `eid`, by ICCID (when
  /// not empty) or else by profile type (the oldest added first).
  InventoryResult<InventoryProfile> reserve(const std::string& mno_id, const std::string& iccid,
                                            const std::string& profile_type, const std::string& eid);
  /// The package of `iccid`, opened.
  InventoryResult<Bytes> package(const std::string& iccid);
  /// Moves a reserved profile to `to` (Available clears its EID).
  InventoryResult<void> settle(const std::string& iccid, ProfileState to);
  /// `iccid` as `mno_id` may see it; Unknown for another MNO's.
  InventoryResult<InventoryProfile> get(const std::string& mno_id, const std::string& iccid);
  InventoryResult<std::vector<InventoryProfile>> list();

  /// `iccid` whatever its MNO (for what the SM-SR reports); nullopt when
  /// not in the inventory. A plain read: it joins the caller's open
  /// transaction on this database, if any.
  InventoryResult<std::optional<InventoryProfile>> find(const std::string& iccid);
  /// Records `iccid`'s state on the eUICC with a plain UPDATE (joining the
  /// caller's open transaction, if any); Unknown when no such profile.
  InventoryResult<void> record_euicc_state(const std::string& iccid, EuiccState state);

  /// Keeps (or replaces) profile `iccid`'s ISD-P key set, sealed at rest as
  /// the packages are (under the KEK, bound to the ICCID and to this use;
  /// in clear without a KEK), table smdp_isdp_keys.
  InventoryResult<void> keep_isdp_keys(const std::string& iccid, const IsdpKeySet& keys, crypto::Random& rng);
  /// The key set kept for `iccid`, nullopt when none (Sealing when it does
  /// not open).
  InventoryResult<std::optional<IsdpKeySet>> isdp_keys(const std::string& iccid);
  /// Records the sequence counter of the secured command about to be sent
  /// (before it leaves, so a counter is never used twice).
  InventoryResult<void> set_scp03_counter(const std::string& iccid, std::uint32_t counter);
  /// The profiles reserved for or downloaded to `eid` (their MNOs are the
  /// ones told of what happens to that eUICC), oldest first.
  InventoryResult<std::vector<InventoryProfile>> on_euicc(const std::string& eid);
  /// The SM-SR that manages `eid` as the last SM-SR change notification
  /// said (ES3.HandleSMSRChangeNotification, es3_notifications.hpp); nullopt
  /// when none came (the SM-SR named at the download is the one).
  InventoryResult<std::optional<std::string>> smsr_of(const std::string& eid);
  /// Records `smsr_id` as `eid`'s SM-SR (a plain write, joining the caller's
  /// open transaction, if any).
  InventoryResult<void> record_smsr(const std::string& eid, const std::string& smsr_id);

 private:
  Inventory(std::shared_ptr<store::Database> db, std::shared_ptr<const service::KeyEncryptionKey> kek)
      : db_(std::move(db)), kek_(std::move(kek)) {}
  std::shared_ptr<store::Database> db_;
  std::shared_ptr<const service::KeyEncryptionKey> kek_;
};

}  // namespace rsp::smdp
