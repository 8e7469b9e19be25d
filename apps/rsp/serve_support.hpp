#pragma once
// What the `serve` commands of the server roles share: their command-line
// flags and how they override the configuration, the access log's sink, the
// database connections and the start-up / stop sequence.

#include <fcntl.h>
#include <fmt/core.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "command.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/service/async_log.hpp"
#include "rsp/service/config.hpp"
#include "rsp/service/lifecycle.hpp"
#include "rsp/smsr/callbacks.hpp"
#include "rsp/store/open.hpp"

namespace rsp::cli {

/// The flags every `serve` command takes; each given one wins over its
/// configuration key (from the file, then the RSP_<ROLE>_* environment).
struct ServeFlags {
  std::string config;          ///< --config: the JSON configuration file, "" for none
  std::string listen;          ///< --listen host:port, "" when not given
  int admin_port = -1;         ///< --admin-port, -1 when not given
  bool insecure_http = false;  ///< --insecure-http
};

/// Declares the ServeFlags options on `cmd` and runs `run` with them when
/// the command is chosen.
inline void add_serve_flags(CLI::App& cmd, std::function<void(const ServeFlags&)> run) {
  auto flags = std::make_shared<ServeFlags>();
  cmd.add_option("--config", flags->config, "JSON configuration file");
  cmd.add_option("--listen", flags->listen, "host:port to bind (overrides the configuration)");
  cmd.add_option("--admin-port", flags->admin_port,
                 "Port of the admin listener, 0 picks one (overrides the configuration)");
  cmd.add_flag("--insecure-http", flags->insecure_http, "Plain HTTP without TLS (lab use only)");
  cmd.callback([flags, run = std::move(run)] { run(*flags); });
}

/// The configuration keys every `serve` command reads: its listeners, TLS
/// identity, the roots its callers' client certificates chain to, its
/// database and its workers. `listen`, `workers` and `max_body_bytes` have
/// defaults of each role's own.
struct ServeCommonConfig {
  ServeCommonConfig(std::string default_listen, std::int64_t default_workers, std::int64_t default_max_body_bytes)
      : listen(std::move(default_listen)), workers(default_workers), max_body_bytes(default_max_body_bytes) {}
  std::string listen;
  std::string admin_host = "127.0.0.1";
  std::int64_t admin_port = 0;
  std::string access_log = "-";
  std::string tls_cert;
  std::string tls_key;
  std::string client_trust;
  std::string database;
  bool insecure_http = false;
  std::int64_t workers;
  std::int64_t max_body_bytes;
};

/// The ServeCommonConfig keys followed by a role's `own` ones.
inline std::vector<service::ConfigKey> serve_keys(ServeCommonConfig& c, std::vector<service::ConfigKey> own) {
  std::vector<service::ConfigKey> all{{"listen", &c.listen},
                                      {"admin_host", &c.admin_host},
                                      {"admin_port", nullptr, nullptr, &c.admin_port},
                                      {"access_log", &c.access_log},
                                      {"tls_cert", &c.tls_cert},
                                      {"tls_key", &c.tls_key},
                                      {"client_trust", &c.client_trust},
                                      {"database", &c.database},
                                      {"insecure_http", nullptr, &c.insecure_http},
                                      {"workers", nullptr, nullptr, &c.workers},
                                      {"max_body_bytes", nullptr, nullptr, &c.max_body_bytes}};
  all.insert(all.end(), own.begin(), own.end());
  return all;
}

/// A serve command's configuration `config` through its `keys`: the file
/// named by --config, then the environment variables `env_prefix`<KEY>, then
/// the flags; the first error, or an admin_port outside 0..65535.
inline expected<void, std::string> load_serve_config(ServeCommonConfig& config,
                                                     const std::vector<service::ConfigKey>& keys,
                                                     const ServeFlags& flags, const std::string& env_prefix) {
  if (!flags.config.empty())
    if (auto r = service::apply_config_file(keys, flags.config); !r) return r;
  if (auto r = service::apply_environment(keys, env_prefix); !r) return r;
  if (flags.insecure_http) config.insecure_http = true;
  if (!flags.listen.empty()) config.listen = flags.listen;
  if (flags.admin_port >= 0) config.admin_port = flags.admin_port;
  if (config.admin_port < 0 || config.admin_port > 65535) return unexpected<std::string>("admin_port must be 0..65535");
  return {};
}

/// The folder that relative paths in the configuration start from: the
/// configuration file's, or the working directory without one.
inline std::filesystem::path config_folder(const std::string& config_file) {
  return config_file.empty() ? std::filesystem::current_path() : std::filesystem::absolute(config_file).parent_path();
}

/// Resolves a file named in the configuration against `folder` (config_folder).
inline std::function<std::string(const std::string&)> config_path_resolver(const std::filesystem::path& folder) {
  return [folder](const std::string& f) {
    const std::filesystem::path p(f);
    return p.is_relative() ? (folder / p).string() : p.string();
  };
}

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

/// Takes "callback_binding" ("json", the default, or "soap") out of each
/// caller of `callers` (the MNOs of `rsp smsr serve` and `rsp smdp serve`)
/// before their other keys are read; the callback URLs of those that want
/// SGP.02's SOAP binding, or an error in words naming `what`.
inline expected<std::set<std::string>, std::string> take_soap_callback_urls(nlohmann::json& callers,
                                                                           std::string_view what) {
  std::set<std::string> urls;
  if (!callers.is_array()) return urls;
  for (auto& m : callers) {
    if (!m.is_object() || !m.contains("callback_binding")) continue;
    const auto& b = m["callback_binding"];
    if (!b.is_string() || (b != "json" && b != "soap"))
      return unexpected(std::string(what) + ": callback_binding must be \"json\" or \"soap\"");
    if (b == "soap" && m.contains("callback_url") && m["callback_url"].is_string())
      urls.insert(m["callback_url"].get<std::string>());
    m.erase("callback_binding");
  }
  return urls;
}

/// The callback sender's bindings: SOAP for the URLs `soap_urls`, JSON for
/// the others; `from` is the server's own URL (wsa:From).
inline smsr::CallbackBindings callback_bindings(std::set<std::string> soap_urls, std::string from) {
  return smsr::CallbackBindings{[urls = std::move(soap_urls)](const std::string& url) {
                                  return urls.contains(url) ? smsr::CallbackBinding::Soap : smsr::CallbackBinding::Json;
                                },
                                std::move(from)};
}

}  // namespace rsp::cli
