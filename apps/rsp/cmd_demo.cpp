// `rsp demo`: the platform's main job on one machine, each step printed as it
// happens. Every step runs this same tool as a child process, so the demo shows
// exactly what a user would type; it holds no protocol logic of its own.

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "command.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;

/// Runs `rsp <args...>` and returns its exit status.
int run_self(const std::vector<std::string>& args) {
  std::string self = fs::read_symlink("/proc/self/exe").string();
  std::vector<char*> argv;
  argv.push_back(self.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  pid_t pid = 0;
  if (posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), environ) != 0) return 127;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

struct DemoOptions {
  std::string dir;
  bool keep = false;
};

int run_demo(const DemoOptions& opt) {
  fs::path dir;
  if (opt.dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "rsp-demo-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::fprintf(stderr, "demo: cannot create a temporary directory\n");
      return 1;
    }
    dir = tmpl;
  } else {
    dir = opt.dir;
    fs::create_directories(dir);
  }
  std::printf("rsp demo: working in %s\n", dir.c_str());

  struct Step {
    const char* title;
    std::vector<std::string> args;
  };
  const std::string pki = (dir / "pki").string();
  const std::vector<Step> steps = {
      {"Create a test PKI shaped like GSMA SGP.26 (CI, EUM, eUICC, SM-DP+, SM-DS, M2M TLS/PSK)",
       {"pki", "init", "--out", pki, "--curves", "nist,brp"}},
      {"Validate every certificate chain with the SGP.22 certificate profile", {"pki", "verify", pki}},
  };
  int n = 0;
  for (const auto& s : steps) {
    std::printf("\n[%d/%zu] %s\n      $ rsp", ++n, steps.size(), s.title);
    for (const auto& a : s.args) std::printf(" %s", a.c_str());
    std::printf("\n");
    int rc = run_self(s.args);
    if (rc != 0) {
      std::printf("demo: step %d failed (exit %d); files kept in %s\n", n, rc, dir.c_str());
      return rc;
    }
  }
  std::printf("\nrsp demo: all %zu steps completed\n", steps.size());
  if (!opt.keep && opt.dir.empty()) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  } else {
    std::printf("rsp demo: files kept in %s\n", dir.c_str());
  }
  return 0;
}

}  // namespace

RSP_COMMAND_GROUP(demo) {
  auto* cmd = app.add_subcommand("demo", "Run the platform's demo on this machine, step by step");
  auto opt = std::make_shared<DemoOptions>();
  cmd->add_option("--dir", opt->dir, "Work in this directory instead of a temporary one (kept afterwards)");
  cmd->add_flag("--keep", opt->keep, "Keep the temporary directory");
  cmd->callback([opt] {
    int rc = run_demo(*opt);
    if (rc != 0) rsp::cli::exit_with(rc);
  });
}
