#pragma once
// A minimal SAIP profile package for end-to-end tests that import profiles
// into `rsp smdpp serve`.

#include <string>

#include "rsp/common/bytes.hpp"

namespace rsp::e2e {

/// ProfileHeader (version 2.3, profileType "e2e", the given EF.ICCID-coded
/// ICCID of 10 bytes in hex, USIM service, no GFSTE) then End.
inline Bytes minimal_upp(const std::string& iccid_hex) {
  return *from_hex("A01D 800102 810103 8203653265 830A" + iccid_hex + " A5028100 A600  AA05A003810163");
}

}  // namespace rsp::e2e
