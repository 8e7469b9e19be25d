#pragma once
/// Text that held secret material (a private key's PEM).

#include <string>

namespace rsp {

/// Overwrites `s` and empties it, as wipe(Bytes&) does for a buffer.
void wipe(std::string& s);

}  // namespace rsp
