#pragma once
// Runs programs (the `rsp` tool, openssl) for end-to-end tests and captures
// their output.

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

/// The public reference folder (SGP.26 PKI, TS.48 profiles), empty if absent.
std::filesystem::path reference_dir();

}  // namespace rsp::e2e
