#pragma once
// `rsp smdpp serve` (or another role's serve) as a child process for end-to-end tests: its output read
// through a pipe, stopped by a signal (SIGTERM for a graceful stop, SIGKILL
// for a crash).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "run_tool.hpp"

extern char** environ;

namespace rsp::e2e {

/// `rsp <role> serve ...` (or another program) in the background, its output read through a pipe.
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& args, const std::string& role = "smdpp")
      : ServeProcess(Program{RSP_TOOL}, with_serve(role, args)) {}
  /// Any program, `argv` without the program's name (e.g. `rsp euicc m2m-run`
  /// or the test SMSC).
  struct Program {
    std::string path;
  };
  ServeProcess(const Program& program, const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<std::string> all{program.path};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    DefaultSignals attr;
    if (posix_spawn(&pid_, program.path.c_str(), &actions, attr.get(), argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~ServeProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }

  /// Reads output until a line contains `needle`; the rest of that line, or "".
  std::string wait_for(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto at = output_.find(needle, scanned_);
      if (at != std::string::npos) {
        const auto eol = output_.find('\n', at);
        if (eol != std::string::npos) {
          scanned_ = eol;
          return output_.substr(at + needle.size(), eol - at - needle.size());
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !read_some(static_cast<int>(left.count()))) return {};
    }
  }

  /// Sends `sig` and waits for the exit status (-1 on timeout).
  int signal_and_wait(int sig, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    if (pid_ <= 0 || exited_) return -1;  // never kill(-1, ...)
    ::kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        while (read_some(100)) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      read_some(50);
    }
    return -1;
  }

  /// The URL of the "listening on <url>" line, or "" when it did not come.
  std::string url(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    return wait_for("listening on ", timeout);
  }

  /// The admin listener's URL from the "admin on <url> ..." line printed
  /// before "listening on" (call after url()), or "".
  std::string admin_url() const {
    const auto at = output_.find("admin on ");
    if (at == std::string::npos) return {};
    const auto start = at + 9;
    return output_.substr(start, output_.find_first_of(" \n", start) - start);
  }

  /// A graceful stop: SIGTERM and the exit status (-1 when it did not end in time).
  int stop(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    return signal_and_wait(SIGTERM, timeout);
  }

  bool started() const { return pid_ > 0; }
  /// True while the process runs; once it ended, exit_status() says how.
  bool alive() {
    if (pid_ <= 0 || exited_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
    exited_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    while (read_some(100)) {
    }
    return false;
  }
  int exit_status() const { return status_; }
  /// What was read so far: output is read only while waiting (wait_for,
  /// url, stop...), so lines printed since then are not in it; see drain().
  const std::string& output() const { return output_; }
  /// Reads what the process printed until it is quiet for `quiet`; output().
  const std::string& drain(std::chrono::milliseconds quiet = std::chrono::milliseconds(300)) {
    if (fd_ >= 0)
      while (read_some(static_cast<int>(quiet.count()))) {
      }
    return output_;
  }

 private:
  static std::vector<std::string> with_serve(const std::string& role, const std::vector<std::string>& args) {
    std::vector<std::string> all{role, "serve"};
    all.insert(all.end(), args.begin(), args.end());
    return all;
  }
  bool read_some(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return false;
    output_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  bool exited_ = false;
  int status_ = -1;
  std::string output_;
  std::size_t scanned_ = 0;
};

}  // namespace rsp::e2e
