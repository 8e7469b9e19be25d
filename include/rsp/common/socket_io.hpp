#pragma once
/// Sending on a connected socket until everything is out.

#include <cstddef>

namespace rsp {

/// Sends all `size` bytes (retrying after signals and short sends) without
/// ever raising SIGPIPE; false when the peer is gone or the socket's send
/// timeout passed.
bool send_all(int fd, const void* data, std::size_t size);

}  // namespace rsp
