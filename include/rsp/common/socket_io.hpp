#pragma once
/// Sending on a connected socket until everything is out, and the process
/// settings that keep a peer's reset from killing the process and let a
/// server hold many connections.

#include <cstddef>

namespace rsp {

/// Sends all `size` bytes (retrying after signals and short sends) without
/// ever raising SIGPIPE; false when the peer is gone or the socket's send
/// timeout passed.
bool send_all(int fd, const void* data, std::size_t size);

/// Makes a write to a connection the peer has reset fail with EPIPE instead
/// of raising SIGPIPE, whose default action ends the process. OpenSSL's
/// socket BIOs (used by the HTTPS client and by SSL_shutdown) write with
/// write(2), which has no MSG_NOSIGNAL, so the only reliable place is the
/// process's disposition: SIGPIPE is ignored. Called by main() of every
/// program and by the net component's client and server; idempotent, and it
/// leaves a handler someone installed in place.
void ignore_sigpipe();

/// Raises the soft limit on open descriptors (RLIMIT_NOFILE) to the hard
/// limit, for a server holding thousands of connections; returns the soft
/// limit now in force (0 when it cannot be read).
std::size_t raise_open_file_limit();

}  // namespace rsp
