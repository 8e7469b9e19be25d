#pragma once
// A TCP connection to 127.0.0.1:port from a chosen loopback source address:
// every 127/8 address is loopback, so one test can act as many peers.

#include <string>

namespace rsp::test_support {

/// The connected socket (the caller closes it), or -1 when it fails.
int connect_from(int port, const std::string& source = "127.0.0.1");

}  // namespace rsp::test_support
