#pragma once
// What the `serve` commands of the server roles share: the access log's sink,
// the database connections and the start-up / stop sequence.

#include <fcntl.h>
#include <fmt/core.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "command.hpp"
#include "rsp/service/async_log.hpp"
#include "rsp/service/lifecycle.hpp"
#include "rsp/store/open.hpp"

namespace rsp::cli {

/// A server's database: on PostgreSQL a connection for each worker thread
/// and for the few threads of its own that use the database (outbox sender,
/// session purge, health check), so no worker waits for a connection.
inline store::OpenOptions serve_database_options(std::int64_t workers) {
  constexpr std::int64_t kOwnThreads = 4;
  return store::OpenOptions{static_cast<std::size_t>(workers + kOwnThreads)};
}

/// The access log's sink: standard output ("-" or empty), or a file appended
/// to (0600 when made); exits with a message naming `who` when it cannot be opened.
inline service::LogSink access_log_sink(const std::string& where, const std::string& who) {
  if (where.empty() || where == "-")
    return [](std::string_view line) {
      fmt::print("{}\n", line);
      std::fflush(stdout);
    };
  const int fd = ::open(where.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  std::shared_ptr<std::FILE> file;
  if (fd >= 0) file = std::shared_ptr<std::FILE>(::fdopen(fd, "a"), [](std::FILE* f) {
    if (f) std::fclose(f);
  });
  if (!file) {
    fmt::print(stderr, "{}: access_log {}: cannot open it for appending\n", who, where);
    std::fflush(stderr);
    exit_with(1);
  }
  auto mu = std::make_shared<std::mutex>();
  return [file, mu](std::string_view line) {
    std::lock_guard lock(*mu);
    fmt::print(file.get(), "{}\n", line);
    std::fflush(file.get());
  };
}

/// The end of every `serve` command, once its listeners run: prints the
/// start-up `lines`, then "listening on <url>" (the line scripts and tests wait
/// for), waits for SIGTERM or SIGINT (`signals` was made before any thread
/// started), then drains: runs `drain` in order (stop the listeners, finishing
/// the requests in flight, then the workers behind them) and prints "stopped".
inline void serve_until_stopped(service::StopSignals& signals, const std::vector<std::string>& lines,
                                const std::string& url, const std::vector<std::function<void()>>& drain) {
  for (const auto& line : lines) fmt::print("{}\n", line);
  fmt::print("listening on {}\n", url);
  std::fflush(stdout);
  const char* sig = signals.wait();
  fmt::print("{} received, finishing requests in flight\n", sig);
  std::fflush(stdout);
  for (const auto& step : drain)
    if (step) step();
  fmt::print("stopped\n");
  std::fflush(stdout);
}

}  // namespace rsp::cli
