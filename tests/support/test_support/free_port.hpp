#pragma once
// A loopback TCP port nobody listens on just now, for a server whose address
// must be known before it starts (0 when none could be had).

namespace rsp::test_support {

int free_port();

}  // namespace rsp::test_support
