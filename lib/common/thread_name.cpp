#include "rsp/common/thread_name.hpp"

#include <pthread.h>

#include <algorithm>

namespace rsp {

void set_thread_name(std::string_view name) {
#if defined(__linux__)
  char buf[16] = {};  // the kernel's TASK_COMM_LEN, with its terminating zero
  const std::size_t n = std::min(name.size(), sizeof buf - 1);
  std::copy_n(name.data(), n, buf);
  ::pthread_setname_np(::pthread_self(), buf);
#else
  (void)name;
#endif
}

}  // namespace rsp
