#pragma once
/// Making an M2M eUICC folder (`rsp euicc create --m2m`) and the facts an
/// EUM hands to the SM-SR to register it (ES1 RegisterEIS, SGP.02 §5.1.1):
/// as JSON with SGP.02's EIS element names in camelCase, keys included.
/// That JSON is meant for the registration only: print it, never log it.

#include <filesystem>
#include <string>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/euicc_m2m/state.hpp"

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

/// The registration facts of a card folder as JSON text (see above).
StoreResult<std::string> registration_json(const M2mStore& store);

}  // namespace rsp::euicc_m2m
