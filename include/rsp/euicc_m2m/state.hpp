#pragma once
/// The M2M eUICC's persistent state (SGP.02): its ISD-Ps, the notifications
/// waiting for the SM-SR, and the ISD-R's keys. A card folder is an eUICC
/// folder (euicc/store.hpp: DIR/identity/ holds the EID and the EUM-signed
/// certificate and key the ECASD presents) plus
///
///   DIR/m2m/state.0, DIR/m2m/state.1   this state as JSON, in two slots
///
/// written as the consumer eUICC writes its state (euicc/state_slots.hpp):
/// every change is one durable write into the slot that does not hold the
/// newest record, so a kill at any moment leaves the old or the new state.
/// The slot files are created 0600: they hold the SCP80 keys and the SCP81
/// PSK, which leave the card folder only in `rsp euicc create --m2m`'s
/// output for the SM-SR's registration.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/scp81_psk.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/m2m/isdr_commands.hpp"

namespace rsp::euicc_m2m {

using euicc::StoreError;
template <class T>
using StoreResult = euicc::StoreResult<T>;

/// Quota of an ISD-P created without one.
inline constexpr std::uint32_t kDefaultIsdpQuota = 32 * 1024;

/// One ISD-P (SGP.02 §2.2.1.2) and the profile it holds.
struct IsdpRecord {
  Bytes aid;
  m2m::IsdpState state = m2m::IsdpState::kSelectable;
  Bytes iccid;  ///< 10 bytes once a profile is loaded
  bool fallback = false;
  bool emergency = false;
  std::uint8_t pol1 = 0;      ///< m2m::pol1 bits
  Bytes connectivity;         ///< connectivity parameters TLVs, as the SM-DP's ES8 command carried them
  std::uint32_t memory_quota = 0;
  std::string mno_id;         ///< the profile's MNO (informative)
  bool coverage = true;       ///< simulated network: false = no coverage for this profile
  /// The ISD-P's SCP03 key set from the ES8 key establishment (m2m/es8.hpp);
  /// version 0 and empty keys until then.
  std::uint8_t scp03_version = 0;
  Bytes scp03_enc;
  Bytes scp03_mac;
  Bytes scp03_dek;
  /// The SCP03 sequence counter of the last secured command the ISD-P
  /// accepted with that key set (ES8.UpdateConnectivityParameters,
  /// m2m/es8_connectivity.hpp); 0 until the first.
  std::uint32_t scp03_counter = 0;
  std::uint32_t profile_size = 0;  ///< bytes of the installed profile package (ES8 download)
};

/// One ISD-R SCP80 key set (ETSI TS 102 225, AES): the key version number
/// that KIc / KID name, its ciphering and checksum keys, and the counter of
/// the last command packet accepted.
struct Scp80KeySet {
  std::uint8_t version = 1;  ///< 1..15
  Bytes kic;                 ///< AES-CBC key (16 bytes)
  Bytes kid;                 ///< AES-CMAC key (16 bytes)
  std::uint64_t counter = 0; ///< 5-byte CNTR of TS 102 225
};

/// A notification for the SM-SR, queued until the SM-SR confirms it.
struct PendingNotification {
  std::uint32_t seq_number = 0;
  m2m::NotificationType type = m2m::NotificationType::kProfileChangeSucceeded;
  Bytes isdp_aid;  ///< the ISD-P enabled by the change
};

/// An SCP81 PSK of the ISD-R with the key version of its key set (GP
/// Amendment B: the PSK-TLS key is one of a key set's keys).
struct Scp81Key {
  std::uint8_t version = 1;
  crypto::Scp81Psk psk;
};

struct M2mState {
  std::string platform_type = "rsp-sim";
  std::string platform_version = "1.0.0";
  std::uint32_t memory_total = 512 * 1024;  ///< non-volatile bytes for ISD-Ps
  std::string smsr_id;                      ///< the SM-SR this eUICC is registered with
  /// The ISD-R's SIN and SDIN (the EIS's Sin / Sdin, SGP.02 ES1): what the
  /// ES8 key establishment puts in its CRT and SharedInfo (m2m/es8.hpp);
  /// empty for a card made without them.
  Bytes sin;
  Bytes sdin;
  std::vector<Scp80KeySet> scp80;
  crypto::Scp81Psk scp81;
  /// The key version of `scp81` (1 for the key set the EUM personalised).
  std::uint8_t scp81_version = 1;
  /// The new SM-SR's PSK during an SM-SR change (SGP.02 §3.8): made by its
  /// key establishment with the ISD-R, it replaces `scp81` when the current
  /// SM-SR deletes its key set.
  std::optional<Scp81Key> scp81_additional;
  std::vector<IsdpRecord> isdps;
  std::vector<PendingNotification> notifications;
  std::uint32_t next_seq_number = 1;

  IsdpRecord* find(ByteView aid);
  IsdpRecord* enabled();
  IsdpRecord* fallback();
  std::uint32_t memory_used() const;
};

/// The M2M part of a card folder. Cheap to copy (holds only the path).
class M2mStore {
 public:
  /// Opens a folder that holds an eUICC with M2M state.
  static StoreResult<M2mStore> open(const std::filesystem::path& dir);
  /// Writes the first M2M state into an eUICC folder (which must not hold one).
  static StoreResult<M2mStore> initialise(const euicc::EuiccStore& euicc, const M2mState& state);

  const euicc::EuiccStore& euicc() const { return euicc_; }
  StoreResult<M2mState> load() const;
  /// Replaces the state atomically and durably.
  StoreResult<void> save(const M2mState& state) const;

 private:
  /// The newest record this store (or a copy of it) read or wrote: a save
  /// checks it is still the newest with one header read instead of reading
  /// both slots (euicc::detail::is_newest_slot).
  struct Newest;
  explicit M2mStore(euicc::EuiccStore e);
  std::filesystem::path slots_dir() const;
  euicc::EuiccStore euicc_;
  std::shared_ptr<Newest> newest_;
};

}  // namespace rsp::euicc_m2m
