#pragma once
/// Elliptic-curve key agreement ECKA-DH (BSI TR-03111 §4.3.1): the shared
/// secret is the x-coordinate of d·Q, 32 bytes. SGP.22 §2.6.4.x (BPP key
/// establishment) and SGP.02 (ES8 key establishment) both use it. The caller
/// owns the secret and wipes it after key derivation.

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/ec_key.hpp"

namespace rsp::crypto {

/// ShS = x([d_own]Q_peer). Both keys must be on the same curve and `own` must
/// hold a private key; the peer point was validated when the EcKey was built.
CryptoResult<Bytes> ecka_shared_secret(const EcKey& own, const EcKey& peer);

}  // namespace rsp::crypto
