#pragma once
// Runs programs (the `rsp` tool, openssl) for end-to-end tests and captures
// their output.

#include <filesystem>
#include <string>
#include <vector>

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

/// A fresh directory removed at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// The public reference folder (SGP.26 PKI, TS.48 profiles), empty if absent.
std::filesystem::path reference_dir();

}  // namespace rsp::e2e
