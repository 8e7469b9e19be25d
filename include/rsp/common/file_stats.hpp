#pragma once
/// How many disk flushes (fsync or fdatasync of a file or of its folder) the
/// durable file writes of this process made (rsp/common/file.hpp and the
/// simulated cards' state slots): what state files cost the disk, for
/// benchmarks (bench/smsr counts the simulated cards' apart from the SM-SR's
/// database).

#include <cstdint>

namespace rsp {

std::uint64_t file_flushes();
/// Counts one more (called just before each such flush).
void count_file_flush();

}  // namespace rsp
