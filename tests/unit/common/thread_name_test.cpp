#include "rsp/common/thread_name.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <string>
#include <thread>

namespace rsp {
namespace {

std::string name_of_this_thread() {
  char buf[64] = {};
  if (::pthread_getname_np(::pthread_self(), buf, sizeof buf) != 0) return "?";
  return buf;
}

TEST(ThreadName, NamesTheCallingThread) {
  std::string seen;
  std::thread t([&] {
    set_thread_name("smsr-wake-up");
    seen = name_of_this_thread();
  });
  t.join();
  EXPECT_EQ(seen, "smsr-wake-up");
}

TEST(ThreadName, LongNamesAreCutAtFifteenCharacters) {
  std::string seen;
  std::thread t([&] {
    set_thread_name("a-name-longer-than-fifteen");
    seen = name_of_this_thread();
  });
  t.join();
  EXPECT_EQ(seen, "a-name-longer-t");
}

TEST(ThreadName, EmptyNameIsAccepted) {
  std::string seen;
  std::thread t([&] {
    set_thread_name("");
    seen = name_of_this_thread();
  });
  t.join();
  EXPECT_EQ(seen, "");
}

}  // namespace
}  // namespace rsp
