#include "rsp/common/allocator.hpp"

// Any C library header defines __GLIBC__ on glibc; without one the test
// below is always false and the setting silently never applies.
#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace rsp {

bool tune_allocator_for_server() {
#if defined(__GLIBC__)
  // A fixed trim threshold also stops glibc from raising it on its own, so
  // behaviour no longer depends on the allocation history.
  return mallopt(M_TRIM_THRESHOLD, 64 << 20) == 1;
#else
  return false;
#endif
}

}  // namespace rsp
