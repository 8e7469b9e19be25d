#pragma once
/// Small filesystem helpers that report errors as values.

#include <filesystem>
#include <string>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp {

struct IoError {
  std::string message;
};

expected<Bytes, IoError> read_file(const std::filesystem::path& path);
/// Writes atomically (temp file + fsync + rename) with the given permissions,
/// so a crash never leaves a half-written file; use 0600 for key material.
expected<void, IoError> write_file_atomic(const std::filesystem::path& path, ByteView data,
                                          std::filesystem::perms perms = std::filesystem::perms(0644));
/// Writes a file that must not exist yet, whole or not at all: into a
/// temporary file beside it (mode `perms`), flushed, then linked to `path`,
/// which fails ("already exists") rather than replace a file, even one that
/// appears meanwhile. For keys that must never be overwritten.
expected<void, IoError> write_file_new(const std::filesystem::path& path, ByteView data,
                                       std::filesystem::perms perms = std::filesystem::perms(0600));
/// Writes in place, then flushes the file and its folder entry: cheaper than
/// write_file_atomic, for a file nothing names until this returns (a crash
/// can leave it partial, so whatever names it afterwards must be written
/// after it).
expected<void, IoError> write_file_durable(const std::filesystem::path& path, ByteView data,
                                           std::filesystem::perms perms = std::filesystem::perms(0644));

}  // namespace rsp
