#pragma once
/// Names the calling thread as `top -H`, `ps -L`, perf and /proc show it
/// (/proc/self/task/<tid>/comm), so the threads of one process can be told
/// apart by their role: e.g. bench/smsr splits its CPU between the SM-SR's
/// threads and the simulated devices' by these names.

#include <string_view>

namespace rsp {

/// Linux keeps 15 characters of a thread's name: a longer `name` is cut
/// there. Does nothing where the platform has no thread names.
void set_thread_name(std::string_view name);

}  // namespace rsp
