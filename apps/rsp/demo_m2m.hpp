#pragma once
// `rsp demo m2m` (cmd_demo_m2m.cpp), registered beside `rsp demo` in cmd_demo.cpp.

#include <string>

namespace rsp::cli {

/// Runs the M2M demo in `dir` (made if missing; empty: a temporary folder,
/// removed afterwards unless `keep`); the exit code.
int run_demo_m2m(const std::string& dir, bool keep);

}  // namespace rsp::cli
