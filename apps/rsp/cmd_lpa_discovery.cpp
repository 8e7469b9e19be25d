// `rsp lpa profile discovery [--smds ADDR]`: the eUICC's event records at an
// SM-DS (SGP.22 v2.2.2 §3.6.2, ES11), from the given SM-DS or the eUICC's
// root SM-DS; a human table or, with --json, {"smds": ..., "events": [...]}.

#include <fmt/core.h>

#include <CLI/CLI.hpp>

#include "lpa_cli.hpp"
#include "rsp/lpa/discovery.hpp"
#include "rsp/lpa/explain.hpp"

namespace rsp::cli::lpa_cli {

namespace {

void run_discovery(const Globals& g, const std::string& smds) {
  auto euicc = open(g);
  auto transport = es9(g, *euicc);
  lpa::DownloadOptions options;
  options.progress = [](lpa::Step s) { fmt::print(stderr, "  - {}\n", lpa::to_string(s)); };
  auto r = lpa::discover_events(smds, euicc->es10(), *transport, options);
  if (!r) {
    nlohmann::json e{{"step", lpa::to_string(r.error().step)}};
    if (!r.error().subject_code.empty()) {
      e["subject_code"] = r.error().subject_code;
      e["reason_code"] = r.error().reason_code;
    }
    if (r.error().euicc_code) e["euicc_code"] = *r.error().euicc_code;
    fail(g, "discovery failed: " + lpa::explain(r.error()), e);
  }
  auto events = nlohmann::json::array();
  std::string text = fmt::format("SM-DS {}: {} event{}\n", r->smds_address, r->events.size(),
                                 r->events.size() == 1 ? "" : "s");
  if (!r->events.empty()) text += fmt::format("{:<40} {}\n", "EVENT ID", "RSP SERVER");
  for (const auto& e : r->events) {
    events.push_back({{"event_id", e.event_id}, {"rsp_server_address", e.rsp_server_address}});
    text += fmt::format("{:<40} {}\n", e.event_id, e.rsp_server_address);
  }
  done(g, nlohmann::json{{"smds", r->smds_address}, {"events", events}}, text);
}

}  // namespace

void add_profile_discovery(CLI::App& profile, const std::shared_ptr<Globals>& g) {
  auto* d = profile.add_subcommand(
      "discovery", "The eUICC's events at an SM-DS (ES11): where a profile waits for it, without an activation code");
  auto smds = std::make_shared<std::string>();
  d->add_option("--smds", *smds, "SM-DS address (host or host:port; default: the eUICC's root SM-DS)");
  d->callback([g, smds] { run_discovery(*g, *smds); });
}

}  // namespace rsp::cli::lpa_cli
