#include "test_support/pg_server.hpp"

#include "test_support/free_port.hpp"

#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <vector>

namespace rsp::test_support {

namespace fs = std::filesystem;

namespace {

/// Runs a program without a shell, its output appended to `log`; the exit code.
int run(const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (FILE* f = std::fopen(log.c_str(), "a")) {
      ::dup2(::fileno(f), 1);
      ::dup2(::fileno(f), 2);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// The first line a command prints (for pg_config).
std::string first_output_line(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[512];
    if (std::fgets(buf, sizeof buf, p)) out = buf;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

/// The folder with initdb/postgres/pg_ctl: pg_config's, else the newest
/// /usr/lib/postgresql/<version>/bin.
fs::path find_bindir() {
  std::error_code ec;
  const fs::path configured = first_output_line("pg_config --bindir 2>/dev/null");
  if (!configured.empty() && fs::exists(configured / "initdb", ec) && fs::exists(configured / "postgres", ec))
    return configured;
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(e.path() / "bin" / "initdb", ec) && fs::exists(e.path() / "bin" / "postgres", ec))
      found.push_back(e.path() / "bin");
  if (found.empty()) return {};
  std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
    return std::atoi(a.parent_path().filename().c_str()) < std::atoi(b.parent_path().filename().c_str());
  });
  return found.back();
}

}  // namespace

PgServer::PgServer() { ok_ = start(); }

PgServer::~PgServer() { stop(); }

PgServer& PgServer::shared() {
  static PgServer server;
  return server;
}

EngineDatabase engine_database(const std::string& engine, const std::filesystem::path& dir, const std::string& name) {
  EngineDatabase out;
  if (engine == "sqlite") {
    out.location = (dir / (name + ".db")).string();
    return out;
  }
  auto& server = PgServer::shared();
  if (!server.ok()) {
    out.skip = "PostgreSQL not available: " + server.why();
  } else if (!server.create_database(name)) {
    out.error = server.why();
  } else {
    out.location = server.url(name);
  }
  return out;
}

bool PgServer::start() {
  bindir_ = find_bindir();
  if (bindir_.empty()) {
    why_ = "PostgreSQL server binaries not found (Debian package postgresql)";
    return false;
  }
  // Short path: the unix socket name must fit in sun_path.
  std::string tmpl = "/tmp/rsp-pg-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    why_ = "cannot create a temporary folder";
    return false;
  }
  dir_ = tmpl;
  as_postgres_ = ::geteuid() == 0;
  if (as_postgres_) {
    const passwd* pw = ::getpwnam("postgres");
    if (!pw) {
      why_ = "running as root and there is no `postgres` system user to run the server";
      return false;
    }
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      why_ = "cannot hand the temporary folder to the postgres user";
      return false;
    }
  }
  const fs::path log = dir_ / "server.log";
  const auto as_server = [this](std::vector<std::string> args) {
    if (as_postgres_) args.insert(args.begin(), {"runuser", "-u", "postgres", "--"});
    return args;
  };
  if (run(as_server({(bindir_ / "initdb").string(), "-D", (dir_ / "data").string(), "-U", "postgres", "-A", "trust",
                     "-E", "UTF8", "--locale=C", "--no-sync"}),
          dir_ / "initdb.log") != 0) {
    why_ = "initdb failed (see " + (dir_ / "initdb.log").string() + ")";
    return false;
  }
  port_ = free_port();
  if (port_ == 0) {
    why_ = "no free port";
    return false;
  }
  options_ = "-k " + dir_.string() + " -p " + std::to_string(port_) +
             " -c listen_addresses= -c fsync=off -c full_page_writes=off -c max_connections=50";
  running_ = true;  // from here on, stop() tries pg_ctl stop
  if (!resume()) {
    why_ = "the PostgreSQL server did not start (see " + log.string() + ")";
    return false;
  }
  return true;
}

int PgServer::pg_ctl(const std::vector<std::string>& args) {
  std::vector<std::string> full = {(bindir_ / "pg_ctl").string()};
  full.insert(full.end(), args.begin(), args.end());
  if (as_postgres_) full.insert(full.begin(), {"runuser", "-u", "postgres", "--"});
  return run(full, dir_ / "pg_ctl.log");
}

bool PgServer::pause() {
  return pg_ctl({"stop", "-D", (dir_ / "data").string(), "-m", "immediate", "-w", "-s"}) == 0;
}

bool PgServer::resume() {
  return pg_ctl({"start", "-D", (dir_ / "data").string(), "-w", "-t", "60", "-s", "-l",
                 (dir_ / "server.log").string(), "-o", options_}) == 0;
}

void PgServer::stop() {
  if (running_) {
    pause();
    running_ = false;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string PgServer::url(const std::string& database) const {
  return "postgresql://postgres@/" + database + "?host=" + dir_.string() + "&port=" + std::to_string(port_);
}

bool PgServer::create_database(const std::string& name) {
  if (!ok_) return false;
  if (run({(bindir_ / "createdb").string(), "-h", dir_.string(), "-p", std::to_string(port_), "-U", "postgres", name},
          dir_ / "createdb.log") != 0) {
    why_ = "createdb " + name + " failed";
    return false;
  }
  return true;
}

}  // namespace rsp::test_support
