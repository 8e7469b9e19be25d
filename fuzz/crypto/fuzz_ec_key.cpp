// EcKey import from DER SubjectPublicKeyInfo, raw points and PEM. The first
// byte selects the importer.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rsp/crypto/ec_key.hpp"

using namespace rsp;
using namespace rsp::crypto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  ByteView in(data + 1, size - 1);
  CryptoResult<EcKey> key = unexpected(CryptoError{CryptoError::Code::InvalidKey, ""});
  switch (data[0] % 4) {
    case 0: key = EcKey::from_spki_der(in); break;
    case 1: key = EcKey::from_public_point(Curve::NistP256, in); break;
    case 2: key = EcKey::from_public_point(Curve::BrainpoolP256r1, in); break;
    default:
      key = EcKey::from_pem(std::string_view(reinterpret_cast<const char*>(in.data()), in.size()));
  }
  if (key) {
    Bytes point = key->public_point();
    auto again = EcKey::from_public_point(key->curve(), point);
    if (!again || again->public_point() != point) std::abort();
    auto spki = EcKey::from_spki_der(key->spki_der());
    if (!spki || spki->public_point() != point) std::abort();
  }
  return 0;
}
