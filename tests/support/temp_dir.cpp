#include "test_support/temp_dir.hpp"

#include <stdlib.h>

#include <string>

namespace rsp::test_support {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "rsp-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

}  // namespace rsp::test_support
