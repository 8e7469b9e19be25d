#include "rsp/common/allocator.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace rsp {

void tune_allocator_for_server() {
#if defined(__GLIBC__)
  // A fixed trim threshold also stops glibc from raising it on its own, so
  // behaviour no longer depends on the allocation history.
  (void)mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

}  // namespace rsp
