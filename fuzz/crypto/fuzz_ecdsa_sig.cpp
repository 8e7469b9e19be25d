// ECDSA signature format conversion: DER <-> plain r||s must be strict and
// round-trip exactly.
#include <cstdint>
#include <cstdlib>

#include "rsp/crypto/ecdsa.hpp"

using namespace rsp;
using namespace rsp::crypto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView in(data, size);
  if (auto plain = der_to_plain(in)) {
    if (plain->size() != kPlainSignatureSize) std::abort();
    auto der = plain_to_der(*plain);
    if (!der || *der != Bytes(in.begin(), in.end())) std::abort();
  }
  if (auto der = plain_to_der(in)) {
    auto back = der_to_plain(*der);
    if (!back || *back != Bytes(in.begin(), in.end())) std::abort();
  }
  return 0;
}
