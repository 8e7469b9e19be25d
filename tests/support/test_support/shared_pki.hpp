#pragma once
// The test PKI (`pki::make_test_pki` with its defaults: both curves) shared by
// the tests of one program, made in a temporary folder on first use. The
// program links rsp_pki.

#include <filesystem>

#include <gtest/gtest.h>

#include "rsp/pki/test_pki.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::test_support {

inline const std::filesystem::path& shared_test_pki_dir() {
  static TempDir dir;
  static const bool made = [] {
    pki::TestPkiOptions o;
    o.out_dir = dir.path();
    auto r = pki::make_test_pki(o);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r.has_value();
  }();
  (void)made;
  return dir.path();
}

}  // namespace rsp::test_support
