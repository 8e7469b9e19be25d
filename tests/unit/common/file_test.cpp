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

TEST(File, NewFileIsWrittenOnceAndNeverReplaced) {
  auto dir = std::filesystem::temp_directory_path() / ("rsp_file_new_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto old_umask = ::umask(0);
  auto p = dir / "kek";
  ASSERT_TRUE(write_file_new(p, to_bytes("first")));
  ::umask(old_umask);
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // the default, whatever the umask
  auto again = write_file_new(p, to_bytes("second"));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos);
  EXPECT_EQ(*read_file(p), to_bytes("first"));
  // No temporary file is left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  std::filesystem::remove_all(dir);
}

TEST(File, MissingFileIsAnError) {
  auto r = read_file("/nonexistent/rsp/file");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace rsp
