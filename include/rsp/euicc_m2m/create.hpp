#pragma once
/// Making an M2M eUICC folder (`rsp euicc create --m2m`) and the facts an
/// EUM hands to the SM-SR to register it (ES1 RegisterEIS, SGP.02 §5.3.1):
/// the body of a RegisterEIS request, {"eis": EIS}, the EIS in the SM-SR's
/// own binding (m2m/eis_json.hpp), keys included. That JSON is meant for the
/// registration only: print it, never log it.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/euicc_m2m/state.hpp"
#include "rsp/m2m/eis.hpp"

namespace rsp::euicc_m2m {

/// A profile present when the card leaves the factory.
struct PreinstalledProfile {
  Bytes isdp_aid;
  Bytes iccid;  ///< 10 bytes (EF.ICCID coding)
  std::string mno_id;
  std::uint8_t pol1 = 0;
  bool fallback = false;
  bool enabled = false;
};

/// What the EIS holds that the card does not: the EUM's name, the date of
/// manufacture, and each profile's subscription address (the network's).
struct RegistrationFacts {
  std::string eum_id;
  std::string production_date;  ///< ISO 8601 date; empty: today (UTC)
  /// MSISDN (digits) per ICCID (digits); a profile without one has none in the EIS.
  std::map<std::string, std::string> msisdn;
};

struct M2mCreateOptions {
  std::filesystem::path dir;
  std::vector<euicc::IdentitySource> sources;  ///< the ECASD's certificate and key (at least one)
  std::string smsr_id;
  std::vector<PreinstalledProfile> profiles;  ///< exactly one enabled, at most one fallback
  crypto::Random* random = nullptr;           ///< key source (default: the system CSPRNG)
};

/// The ISD-P AID SGP.02 §2.2.3 numbers from: A0000005591010FFFFFFFF89 000010 00
/// (bootstrap) and up, `n` counting from 0.
Bytes isdp_aid(std::uint32_t n);

/// Creates the folder: identity (euicc/store.hpp), then the M2M state with
/// fresh random SCP80 (AES, key version 1) and SCP81 keys.
StoreResult<M2mStore> create_m2m_euicc(const M2mCreateOptions& options);

/// The EIS of a card folder as the SM-SR registers it (keys included).
StoreResult<m2m::Eis> registration_eis(const M2mStore& store, const RegistrationFacts& facts);
/// The RegisterEIS request body for a card folder as JSON text (see above).
StoreResult<std::string> registration_json(const M2mStore& store, const RegistrationFacts& facts);

}  // namespace rsp::euicc_m2m
