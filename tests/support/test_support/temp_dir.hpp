#pragma once
// A fresh directory for one test, removed with everything in it when the
// object goes away. Shared by the unit and end-to-end tests.

#include <filesystem>

namespace rsp::test_support {

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

}  // namespace rsp::test_support
