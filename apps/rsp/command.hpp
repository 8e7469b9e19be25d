#pragma once
/// Command-group registry of the `rsp` tool. Each cmd_<group>.cpp defines
///   RSP_COMMAND_GROUP(pki) { auto* sub = app.add_subcommand("pki", "..."); ... }
/// and the group is added to the tool when linked in. Handlers return the
/// process exit code through `rsp::cli::exit_with`.

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace rsp::cli {

using GroupFn = void (*)(CLI::App& app);

struct Group {
  const char* name;
  GroupFn fn;
};

std::vector<Group>& groups();

struct Registrar {
  Registrar(const char* name, GroupFn fn) { groups().push_back({name, fn}); }
};

/// The subcommand `name` of `app`, created on first use, so that several
/// cmd_*.cpp files can add commands to one group (e.g. `rsp smdpp serve` and
/// `rsp smdpp profiles` live in different files).
inline CLI::App* group_command(CLI::App& app, const std::string& name, const std::string& description) {
  for (CLI::App* existing : app.get_subcommands([](CLI::App*) { return true; })) {
    if (existing->get_name() == name) return existing;
  }
  auto* sub = app.add_subcommand(name, description);
  sub->require_subcommand(1);
  return sub;
}

/// Thrown from a subcommand callback to finish with a given exit code
/// (CLI11's own mechanism; main turns it into the process status).
[[noreturn]] inline void exit_with(int code) {
  throw CLI::RuntimeError(code);
}

}  // namespace rsp::cli

#define RSP_COMMAND_GROUP(name)                                                  \
  static void rsp_cmd_group_##name(CLI::App& app);                               \
  static ::rsp::cli::Registrar rsp_cmd_registrar_##name(#name, &rsp_cmd_group_##name); \
  static void rsp_cmd_group_##name(CLI::App& app)
