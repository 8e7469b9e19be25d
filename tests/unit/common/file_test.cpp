#include "rsp/common/file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

namespace rsp {
namespace {

TEST(File, AtomicWriteSetsModeAndReadsBack) {
  auto dir = std::filesystem::temp_directory_path() / ("rsp_file_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / "key.pem";
  Bytes data{'s', 'e', 'c', 'r', 'e', 't'};
  ASSERT_TRUE(write_file_atomic(p, data, std::filesystem::perms(0600)));
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = read_file(p);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, data);
  EXPECT_FALSE(std::filesystem::exists(dir / "key.pem.tmp"));
  std::filesystem::remove_all(dir);
}

TEST(File, MissingFileIsAnError) {
  auto r = read_file("/nonexistent/rsp/file");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace rsp
