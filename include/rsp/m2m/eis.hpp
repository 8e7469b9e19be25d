#pragma once
/// The eUICC Information Set (SGP.02 v4.2 §5.1.1.2.x "EIS" and the data types
/// it uses): what the EUM registers at the SM-SR (ES1 RegisterEIS, §5.3.1)
/// and what an MNO reads (ES4 GetEIS, §5.4.4). The SM-SR keeps it in its
/// registry, its keys encrypted at rest.
///
/// The JSON binding (eis_json.hpp) uses camelCase of SGP.02's element names.
/// Binary values (AIDs, keys, the ECASD certificate, connectivity
/// parameters) are upper- or lower-case hex.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rsp/common/bytes.hpp"

namespace rsp::m2m {

/// §5.1.1.2.x ProfileInfo state.
enum class ProfileState { Created, Disabled, Enabled };

/// POL2 (SGP.02 §2.4.4 "Policy Rules", §5.1.1.2.x PolicyRule): a rule names a
/// subject (the profile), an action on it and a qualification.
enum class PolicyAction { Disable, Delete };
/// "Not allowed": the action is refused; "Auto-delete": the profile is
/// deleted when it gets disabled (only with the action Delete).
enum class PolicyQualification { NotAllowed, AutoDelete };

struct PolicyRule {
  PolicyAction action = PolicyAction::Disable;
  PolicyQualification qualification = PolicyQualification::NotAllowed;
  bool operator==(const PolicyRule&) const = default;
};

/// §5.1.1.2.x SubscriptionAddress: at least one of the two.
struct SubscriptionAddress {
  std::string msisdn;  ///< E.164 digits, may be empty
  std::string imsi;    ///< 6..15 digits, may be empty
  bool operator==(const SubscriptionAddress&) const = default;
};

/// One ISD-P and its profile (§5.1.1.2.x ProfileInfo).
struct ProfileInfo {
  std::string iccid;  ///< 18..20 digits (the F padding of the card file is not kept)
  Bytes isdp_aid;     ///< 5..16 bytes
  std::string mno_id;
  std::string smdp_id;
  ProfileState state = ProfileState::Created;
  bool fallback_attribute = false;
  /// SGP.02 v4: the profile that emergency calls use (at most one per eUICC).
  bool emergency_profile_attribute = false;
  SubscriptionAddress subscription_address;
  std::vector<PolicyRule> pol2;
  Bytes connectivity_parameters;  ///< as SGP.02 §4.1.3.x carries them (TLV), may be empty
  std::int64_t allocated_memory = 0;
  bool operator==(const ProfileInfo&) const = default;
};

/// An SCP80 key set of the ISD-R (ETSI TS 102 225 §5.1: KIc ciphers, KID
/// checksums; GlobalPlatform key version 1..127).
struct Scp80KeySet {
  enum class Algorithm { Aes, TripleDes };  ///< KIc: AES-CBC / 3DES-CBC; KID: AES-CMAC / 3DES MAC
  int version = 1;
  Algorithm algorithm = Algorithm::Aes;
  Bytes kic;
  Bytes kid;
  std::uint64_t counter = 0;  ///< TS 102 225 §5.1.1: 5 bytes, the last value used
  bool operator==(const Scp80KeySet&) const = default;
};

/// The ISD-R's SCP81 pre-shared key (GlobalPlatform Amendment B, PSK-TLS).
struct Scp81Psk {
  Bytes identity;  ///< the PSK identity the eUICC sends
  Bytes key;       ///< 16 or 32 bytes
  bool operator==(const Scp81Psk&) const = default;
};

struct IsdR {
  Bytes aid;
  /// SGP.02 securityDomain Sin / Sdin (optional; empty when not given): the
  /// ISD-R's security domain issuer and image numbers, which the ES8 key
  /// establishment puts in its CRT and SharedInfo (m2m/es8.hpp). 1..127 bytes.
  Bytes sin;
  Bytes sdin;
  std::vector<Scp80KeySet> scp80_key_sets;
  std::optional<Scp81Psk> scp81_psk;
  bool operator==(const IsdR&) const = default;
};

struct Ecasd {
  Bytes aid;
  Bytes certificate;  ///< the eUICC certificate (DER), signed by the EUM
  bool operator==(const Ecasd&) const = default;
};

/// §5.1.1.2.x EIS.
struct Eis {
  std::string eid;  ///< 32 digits
  std::string eum_id;
  std::string production_date;  ///< ISO 8601 date, "2026-12-03" (or a date-time)
  std::string platform_type;
  std::string platform_version;
  std::int64_t remaining_memory = 0;
  std::int64_t available_memory_for_profiles = 0;
  std::string smsr_id;
  IsdR isd_r;
  Ecasd ecasd;
  std::vector<ProfileInfo> profiles;
  bool operator==(const Eis&) const = default;

  /// The profile with `iccid`, or null.
  const ProfileInfo* profile(std::string_view iccid) const;
  ProfileInfo* profile(std::string_view iccid);
};

/// True when a POL2 rule of `p` forbids `action` ("Not allowed").
bool pol2_forbids(const ProfileInfo& p, PolicyAction action);
/// True when `p` is deleted as soon as it is disabled ("Auto-delete").
bool pol2_auto_delete(const ProfileInfo& p);

}  // namespace rsp::m2m
