#pragma once
/// The eUICC's persistent state: one folder per card.
///
///   DIR/identity/eid.txt                 EID (SGP.29, 32 digits)
///   DIR/identity/euicc_<c>.der           CERT.EUICC.ECDSA on curve c (nist, brp)
///   DIR/identity/euicc_<c>.sk.pem        SK.EUICC.ECDSA (mode 0600)
///   DIR/identity/eum_<c>.der             CERT.EUM.ECDSA
///   DIR/identity/ci_<c>.der              CERT.CI.ECDSA (trust anchor; its SKI is
///                                        the CI PKId for verification and signing)
///   DIR/state.0, DIR/state.1             addresses, profiles, notifications,
///                                        counters: JSON, in two slots
///   DIR/profiles/<isdp aid hex>.upp      installed profile content
///
/// Every change is one durable write of the state into the slot that does not
/// hold the newest record (rsp/euicc/state_slots.hpp): a crash at any moment leaves the
/// previous or the next whole state. Profile content files are written and
/// flushed before the state names them and removed after it stops naming
/// them, so at worst a file is left unreferenced. A DIR/state.json of an
/// older version is read until the first change replaces it.
/// EuiccStore caches nothing; a running card keeps its state in a StateCache.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/crypto/ec_key.hpp"

namespace rsp::euicc {

struct StoreError {
  std::string message;  ///< never contains key material
};
template <class T>
using StoreResult = expected<T, StoreError>;

/// NotificationEvent bit numbers (SGP.22 §2.4a / rsp.asn NotificationEvent).
enum class NotificationEvent : std::uint8_t { kInstall = 0, kEnable = 1, kDisable = 2, kDelete = 3 };

/// One NotificationConfigurationInformation (SGP.22 §2.4a ProfileInfo).
struct NotificationConfig {
  std::uint8_t events = 0;  ///< bit mask: 1 << NotificationEvent
  std::string address;
};

/// One installed profile (its ISD-P and Profile Metadata, SGP.22 §2.4a).
struct ProfileRecord {
  Bytes isdp_aid;
  Bytes iccid;  ///< 10 bytes, BCD with swapped nibbles as in EF.ICCID
  bool enabled = false;
  std::string nickname;
  std::string service_provider_name;
  std::string profile_name;
  std::optional<std::int64_t> icon_type;
  Bytes icon;
  std::int64_t profile_class = 2;  ///< ProfileClass: test 0, provisioning 1, operational 2
  std::vector<NotificationConfig> notification_config;
  Bytes profile_owner;   ///< DER OperatorID, empty when absent
  std::uint8_t ppr = 0;  ///< bit 1: PPR1 (no disable), bit 2: PPR2 (no delete)
  std::string content_file;  ///< file name under profiles/, empty when none
  std::uint32_t content_size = 0;
  std::uint32_t profile_elements = 0;  ///< summary of the installed SAIP package
};

/// A pending notification (SGP.22 §3.5), kept until RemoveNotificationFromList.
struct NotificationRecord {
  std::int64_t seq_number = 0;
  NotificationEvent event = NotificationEvent::kInstall;
  std::string address;
  Bytes iccid;
  Bytes pending_der;  ///< the signed PendingNotification as sent to the LPA
};

/// The one-time key pair of the last PrepareDownload (otSK.EUICC.ECKA, SGP.22
/// v2.2.2 §3.1.3.2, §5.7.5), kept until the download ends so that a retry in
/// a new session, whose smdpSigned2.bppEuiccOtpk names this otPK, uses it
/// again. Kept in the folder as a card keeps it in its non-volatile memory
/// (the folder is 0600, as the eUICC's own private key is).
struct RetainedOtKey {
  crypto::Curve curve = crypto::Curve::NistP256;
  std::string private_pem;  ///< never logged
  Bytes public_point;       ///< otPK.EUICC.ECKA
};

/// The largest '86'/'87'/'88' segment, tag, length and MAC included, a card
/// created with lenient segments takes (`rsp euicc create --lenient-segments`).
/// SGP.22 v2.2.2 §2.5.3 bounds a segment at 1020 bytes; some deployed and open
/// SM-DP+ servers apply that bound before the ISO 9797-1 method 2 padding and
/// send up to 1020 + 16 = 1036 bytes. A card's receive buffer is not given in
/// any spec we could read, so this bound is our choice, not a spec value: the
/// 1036 bytes seen in the field plus one more AES block (16 bytes) of margin.
inline constexpr std::size_t kLenientMaxSegment = 1052;

struct EuiccState {
  std::string default_dp_address;
  std::string root_ds_address = "lpa.ds.gsma.com";
  std::vector<ProfileRecord> profiles;
  std::vector<NotificationRecord> notifications;
  std::int64_t next_seq_number = 1;
  std::uint32_t next_isdp = 1;  ///< ISD-P AIDs are allocated from a counter
  std::int64_t next_transaction = 1;
  std::optional<RetainedOtKey> ot_key;
  /// A card option, set when the card is made: '86'/'87'/'88' segments up to
  /// kLenientMaxSegment instead of SGP.22's 1020 bytes (strict by default).
  bool lenient_segments = false;

  ProfileRecord* find_by_aid(ByteView aid);
  ProfileRecord* find_by_iccid(ByteView iccid);
  ProfileRecord* enabled_profile();
};

/// The card's keys and certificates for one curve.
struct CurveIdentity {
  crypto::Curve curve;
  Bytes euicc_cert;
  Bytes eum_cert;
  Bytes ci_cert;
  Bytes ci_pkid;  ///< subjectKeyIdentifier of the CI
};

struct Identity {
  std::string eid;
  std::vector<CurveIdentity> curves;
};

/// What `create_euicc` is built from: the files of a PKI, per curve.
struct IdentitySource {
  crypto::Curve curve;
  std::filesystem::path euicc_cert, euicc_key, eum_cert, ci_cert;
};

struct CreateOptions;

/// Access to one eUICC folder. Cheap to copy (holds only the path).
class EuiccStore {
 public:
  /// Opens an existing eUICC folder (checks identity/eid.txt).
  static StoreResult<EuiccStore> open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  StoreResult<std::string> eid() const;
  /// Certificates and CI key ids (no private keys).
  StoreResult<Identity> identity() const;
  /// The eUICC private key for `curve`.
  StoreResult<crypto::EcKey> private_key(crypto::Curve curve) const;

  StoreResult<EuiccState> load() const;
  /// Replaces the state atomically and durably.
  StoreResult<void> save(const EuiccState& state) const;

  /// Writes a profile content file (before the state names it).
  StoreResult<void> write_content(const std::string& name, ByteView data) const;
  StoreResult<Bytes> read_content(const std::string& name) const;
  /// Removes content files no profile of `state` names (after a save).
  void collect_garbage(const EuiccState& state) const;

 private:
  friend StoreResult<EuiccStore> create_euicc(const CreateOptions& options);
  explicit EuiccStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

/// The state a running card last read or wrote, so that it reads its folder
/// again only when another writer changed it: a command checks the two slot
/// headers (a few bytes) instead of reading and parsing the state. Empty
/// until first used, so an idle card holds no state.
class StateCache {
 public:
  StateCache();
  ~StateCache();
  StateCache(const StateCache&) = delete;
  StateCache& operator=(const StateCache&) = delete;

  /// As EuiccStore::load.
  StoreResult<EuiccState> load(const EuiccStore& store);
  /// As EuiccStore::save; on failure the next load reads the folder again.
  StoreResult<void> save(const EuiccStore& store, const EuiccState& state);

 private:
  struct Entry;
  std::unique_ptr<Entry> entry_;
};

struct CreateOptions {
  std::filesystem::path dir;
  std::vector<IdentitySource> sources;  ///< at least one
  std::string default_dp_address;
  std::string root_ds_address = "lpa.ds.gsma.com";
  bool lenient_segments = false;  ///< EuiccState::lenient_segments
};

/// Creates the folder (which must not hold an eUICC yet) from PKI files: the
/// EID is the eUICC certificate's subject serialNumber.
StoreResult<EuiccStore> create_euicc(const CreateOptions& options);

/// The identity files in a PKI folder: the flat layout of `rsp pki init`
/// (CERT_EUICC_ECDSA_NIST.pem ...) or the SGP.26 layout (eUICC/, EUM/,
/// CertificateIssuer/ with *.der and SK_*.pem). Both curves when present.
StoreResult<std::vector<IdentitySource>> find_identity_sources(const std::filesystem::path& pki_dir);


}  // namespace rsp::euicc
