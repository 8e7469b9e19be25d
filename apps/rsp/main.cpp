// The `rsp` tool: every role and utility of the platform as a subcommand.

#include <algorithm>
#include <cstdio>

#include "command.hpp"
#include "rsp/common/socket_io.hpp"

namespace rsp::cli {
std::vector<Group>& groups() {
  static std::vector<Group> g;
  return g;
}
}  // namespace rsp::cli

int main(int argc, char** argv) {
  // A peer that resets a connection must never end a command or a server.
  rsp::ignore_sigpipe();
  CLI::App app{"rsp: GSMA Remote SIM Provisioning platform (SGP.22 consumer, SGP.02 M2M)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "rsp 0.1.0");
  auto& gs = rsp::cli::groups();
  // Static registration order is unspecified; keep --help stable.
  std::sort(gs.begin(), gs.end(), [](const auto& a, const auto& b) {
    return std::string_view(a.name) < std::string_view(b.name);
  });
  for (const auto& g : gs) g.fn(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
