#pragma once
// Runs programs (the `rsp` tool, openssl) for end-to-end tests and captures
// their output.

#include <spawn.h>

#include <filesystem>
#include <string>
#include <vector>

#include "test_support/temp_dir.hpp"

namespace rsp::e2e {

struct RunResult {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr interleaved
};

/// Runs `program args...` with no shell, capturing stdout+stderr.
RunResult run(const std::string& program, const std::vector<std::string>& args);
/// Runs the `rsp` tool under test.
RunResult rsp(const std::vector<std::string>& args);
/// True when `program` is found on PATH.
bool on_path(const std::string& program);

using test_support::TempDir;

/// Spawn attributes that give the child the default action for every
/// signal the test process may ignore (SIGPIPE above all: the net component
/// ignores it in this process, and an ignored signal is inherited across
/// exec, which would hide a command that dies of it).
class DefaultSignals {
 public:
  DefaultSignals();
  ~DefaultSignals();
  DefaultSignals(const DefaultSignals&) = delete;
  DefaultSignals& operator=(const DefaultSignals&) = delete;
  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

/// The public reference folder (SGP.26 PKI, TS.48 profiles), empty if absent.
std::filesystem::path reference_dir();

}  // namespace rsp::e2e
