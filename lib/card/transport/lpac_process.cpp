// Spawns lpac on pipes and serves its stdio APDU driver.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

#include "rsp/card/transport/lpac_stdio.hpp"

extern char** environ;

namespace rsp::card::transport {

namespace {

/// A line longer than this is passed through in pieces (never an APDU
/// request: those stay below 200 KiB even for extended APDUs).
constexpr std::size_t kMaxLine = 16u << 20;

struct Pipe {
  int read = -1;
  int write = -1;
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read = fds[0];
    write = fds[1];
    return true;
  }
  void close_read() { close_fd(read); }
  void close_write() { close_fd(write); }
  ~Pipe() {
    close_read();
    close_write();
  }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

/// Restores the previous SIGPIPE disposition on scope exit.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &previous_);
  }
  ~IgnoreSigpipe() { sigaction(SIGPIPE, &previous_, nullptr); }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

 private:
  struct sigaction previous_ {};
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(w));
  }
  return true;
}

// The child's environment: ours, with LPAC_APDU forced to stdio.
std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "LPAC_APDU=", 10) != 0) env.emplace_back(*e);
  }
  env.emplace_back("LPAC_APDU=stdio");
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 127;
}

// Reads the child's output line by line; APDU requests are answered on
// `to_child`, everything else is copied to `out`.
void serve(LpacStdioBridge& bridge, int from_child, int to_child, std::ostream& out) {
  std::string buffer;
  char chunk[4096];
  bool child_listening = true;
  for (;;) {
    const ssize_t r = ::read(from_child, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(r));
    std::size_t start = 0;
    for (std::size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
      const std::string_view line(buffer.data() + start, nl - start);
      if (auto reply = bridge.handle_line(line)) {
        if (child_listening) child_listening = write_all(to_child, *reply + "\n");
      } else {
        out << line << '\n';
        out.flush();
      }
    }
    buffer.erase(0, start);
    if (buffer.size() > kMaxLine) {
      out << buffer;
      buffer.clear();
    }
  }
  if (!buffer.empty()) out << buffer << '\n';
  out.flush();
}

}  // namespace

int run_lpac(Card& card, const std::string& lpac_path, const std::vector<std::string>& args,
             std::ostream& out) {
  IgnoreSigpipe no_sigpipe;
  Pipe to_child;
  Pipe from_child;
  if (!to_child.open() || !from_child.open()) {
    std::cerr << "lpac: cannot create pipes: " << std::strerror(errno) << '\n';
    return 127;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child.read, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_child.write, STDOUT_FILENO);

  std::vector<std::string> argv_strings{lpac_path};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = child_environment();
  auto argv = pointers(argv_strings);
  auto envp = pointers(env_strings);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, lpac_path.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::cerr << "lpac: cannot start " << lpac_path << ": " << std::strerror(rc) << '\n';
    return 127;
  }
  to_child.close_read();
  from_child.close_write();

  LpacStdioBridge bridge(card);
  serve(bridge, from_child.read, to_child.write, out);
  to_child.close_write();
  return wait_exit(pid);
}

int run_lpac(Card& card, const std::string& lpac_path, const std::vector<std::string>& args) {
  return run_lpac(card, lpac_path, args, std::cout);
}

}  // namespace rsp::card::transport
