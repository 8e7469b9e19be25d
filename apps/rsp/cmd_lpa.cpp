// `rsp lpa`: the Local Profile Assistant (lpa component) on a simulated
// eUICC folder or a card in a PC/SC reader. This file: the options every
// command shares, their output, and the profile download (`rsp lpa profile
// download`, with `rsp lpa download` kept as its alias); the chip, profile
// and notification commands are in cmd_lpa_manage.cpp.

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "activation_output.hpp"
#include "command.hpp"
#include "lpa_cli.hpp"
#include "rsp/lpa/discovery.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/lpa/explain.hpp"
#include "rsp/lpa/es10_client.hpp"
#include "rsp/lpa/https_transport.hpp"
#include "rsp/lpa/tls_trust.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/net/tls.hpp"

namespace rsp::cli::lpa_cli {

void fail(const Globals& g, const std::string& message, nlohmann::json error) {
  if (g.json) {
    error["message"] = message;
    fmt::print("{}\n", nlohmann::json{{"ok", false}, {"error", error}}.dump());
  } else {
    fmt::print(stderr, "rsp lpa: {}\n", message);
  }
  exit_with(1);
}

void done(const Globals& g, const nlohmann::json& data, const std::string& human) {
  if (g.json) {
    fmt::print("{}\n", nlohmann::json{{"ok", true}, {"data", data}}.dump());
  } else if (!human.empty()) {
    fmt::print("{}", human);
  }
}

std::unique_ptr<LpaEuicc> open(const Globals& g) {
  auto e = open_lpa_euicc(g.euicc);
  if (!e) fail(g, e.error());
  return std::move(*e);
}

namespace {

/// The certificates of --ci: a file (PEM with one or more, or DER) or a
/// folder, whose files holding certificates are read (keys and other files
/// are passed over).
expected<std::vector<Bytes>, std::string> load_ci_option(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    auto certs = net::load_certificates(path);
    if (!certs) return unexpected("--ci " + path + ": " + certs.error().message);
    return std::move(*certs);
  }
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(path, ec))
    if (e.is_regular_file(ec)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<Bytes> out;
  for (const auto& f : files) {
    auto certs = net::load_certificates(f);
    if (certs) out.insert(out.end(), certs->begin(), certs->end());
  }
  if (out.empty()) return unexpected("--ci " + path + ": no certificate in this folder");
  return out;
}

}  // namespace

expected<std::unique_ptr<lpa::Es9Transport>, std::string> try_es9(const Globals& g, LpaEuicc& euicc) {
  lpa::HttpsEs9Options o;
  o.insecure_http = g.insecure_http;
  o.insecure = g.insecure;
  if (g.insecure && !g.insecure_http) {
    fmt::print(stderr, "rsp lpa: WARNING: --insecure: the TLS certificates of the SM-DP+ and SM-DS are not checked "
                       "(lab use only)\n");
  } else if (!g.insecure_http) {
    std::vector<Bytes> candidates;
    for (const auto& path : g.ci) {
      auto certs = load_ci_option(path);
      if (!certs) return unexpected(certs.error());
      candidates.insert(candidates.end(), certs->begin(), certs->end());
    }
    if (g.ci.empty()) candidates = euicc.ci_certificates();
    if (candidates.empty()) {
      return unexpected(euicc.describe() + " does not show its CI certificates: name them with --ci FILE|DIR "
                                           "(or, in a lab, --insecure)");
    }
    // Only the CIs the eUICC lists anchor the TLS (SGP.22 v2.2.2 §2.6.6; lpa/tls_trust.hpp).
    lpa::Es10Client es10(euicc.es10());
    auto anchors = lpa::ci_anchors(candidates, es10);
    if (!anchors) return unexpected(anchors.error());
    o.trust_anchors = std::move(anchors->anchors);
  }
  for (const auto& r : g.resolve) {
    const auto colon = r.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == r.size()) {
      return unexpected(std::string("--resolve wants HOST:ADDRESS"));
    }
    o.resolve[r.substr(0, colon)] = r.substr(colon + 1);
  }
  return std::unique_ptr<lpa::Es9Transport>(std::make_unique<lpa::HttpsEs9Transport>(std::move(o)));
}

std::unique_ptr<lpa::Es9Transport> es9(const Globals& g, LpaEuicc& euicc) {
  auto t = try_es9(g, euicc);
  if (!t) fail(g, t.error());
  return std::move(*t);
}

nlohmann::json to_json(const lpa::PendingNotificationsReport& report) {
  auto list = nlohmann::json::array();
  for (const auto& n : report.notifications) {
    list.push_back({{"seq", n.seq_number},
                    {"address", n.address},
                    {"iccid", n.iccid ? nlohmann::json(messages::iccid_to_digits(*n.iccid)) : nlohmann::json()},
                    {"install_result", n.install_result},
                    {"delivered", n.delivered},
                    {"removed", n.removed},
                    {"error", n.error}});
  }
  nlohmann::json j{{"notifications", list}};
  if (!report.error.empty()) j["error"] = report.error;
  return j;
}

std::string to_text(const lpa::PendingNotificationsReport& report) {
  std::string out;
  if (!report.error.empty()) out += fmt::format("pending notifications not sent: {}\n", report.error);
  for (const auto& n : report.notifications) {
    const std::string what = fmt::format(
        "pending notification {} ({}{}) to {}", n.seq_number, n.install_result ? "install result" : "notification",
        n.iccid ? ", ICCID " + messages::iccid_to_digits(*n.iccid) : std::string(), n.address.empty() ? "?" : n.address);
    if (n.delivered && n.removed)
      out += fmt::format("{}: delivered and removed\n", what);
    else if (n.delivered)
      out += fmt::format("{}: delivered, still on the eUICC: {}\n", what, n.error);
    else
      out += fmt::format("{}: not delivered, kept on the eUICC for a later attempt: {}\n", what, n.error);
  }
  return out;
}

namespace {

struct DownloadArgs {
  std::string activation_code, smdp, matching_id, confirmation_code, cc_file, imei, smds;
  bool no_notify = false;
};

nlohmann::json error_json(const lpa::DownloadError& e) {
  nlohmann::json j{{"step", lpa::to_string(e.step)}, {"session_cancelled", e.session_cancelled}};
  if (!e.subject_code.empty()) {
    j["subject_code"] = e.subject_code;
    j["reason_code"] = e.reason_code;
  }
  if (e.euicc_code) j["euicc_code"] = *e.euicc_code;
  if (e.bpp_command_id) j["bpp_command_id"] = *e.bpp_command_id;
  if (e.sw) j["sw"] = fmt::format("{:04X}", *e.sw);
  j["pending_notifications"] = to_json(e.pending_notifications);
  return j;
}

void run_download(const Globals& g, const DownloadArgs& a) {
  const bool by_code = !a.activation_code.empty();
  if (by_code && !a.smdp.empty()) fail(g, "give an activation code or --smdp ADDRESS, not both");
  if (!a.smds.empty() && (by_code || !a.smdp.empty())) fail(g, "--smds is for a download without an activation code");
  std::optional<std::string> cc;
  if (!a.confirmation_code.empty() && !a.cc_file.empty()) fail(g, "give --confirmation-code or --cc-file, not both");
  if (!a.confirmation_code.empty()) cc = a.confirmation_code;
  if (!a.cc_file.empty()) {
    std::string error;
    cc = read_secret_line(a.cc_file, error);
    if (!cc) fail(g, error);
  }
  lpa::DownloadOptions options;
  if (!a.imei.empty()) {
    // DeviceInfo.imei (SGP.22 §4.2): 8 octets, the IMEI's digits in BCD as
    // TS 24.008 codes it; here the 15 or 16 digits, nibble-swapped, F padded.
    const bool digits = a.imei.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || (a.imei.size() != 15 && a.imei.size() != 16)) fail(g, "--imei wants 15 or 16 digits");
    Bytes imei;
    for (std::size_t i = 0; i < 16; i += 2) {
      const auto lo = static_cast<std::uint8_t>(a.imei[i] - '0');
      const auto hi = static_cast<std::uint8_t>(i + 1 < a.imei.size() ? a.imei[i + 1] - '0' : 0xF);
      imei.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
    options.imei = std::move(imei);
  }
  // The install result stays on the eUICC for a later `notification process`.
  options.skip_notification = a.no_notify;
  // Progress on standard error, so that standard output stays the result.
  options.progress = [](lpa::Step s) { fmt::print(stderr, "  - {}\n", lpa::to_string(s)); };
  auto euicc = open(g);
  auto transport = es9(g, *euicc);
  // The library first sends what the eUICC still holds (SGP.22 §3.5), e.g.
  // the install result of an earlier download that was interrupted.
  // No activation code and no --smdp (SGP.22 §3.1.2): the eUICC's default
  // SM-DP+, else the first event the SM-DS holds for this eUICC (§3.6.2).
  std::string smdp = a.smdp, matching_id = a.matching_id;
  std::optional<lpa::EventRecord> event;
  if (!by_code && smdp.empty()) {
    auto target = lpa::download_target(a.smds, euicc->es10(), *transport, options);
    if (!target) fail(g, "discovery failed: " + lpa::explain(target.error()), error_json(target.error()));
    smdp = target->smdp_address;
    matching_id = target->matching_id;
    event = target->event;
    fmt::print(stderr, "  download from {}{}\n", smdp,
               event ? " (SM-DS event " + event->event_id + ")" : std::string(" (the eUICC's default SM-DP+)"));
  }
  auto r = by_code ? lpa::download_profile(a.activation_code, cc, euicc->es10(), *transport, options)
                   : lpa::download_profile(smdp, matching_id, cc, euicc->es10(), *transport, options);
  if (!r) {
    if (!g.json) fmt::print("{}", to_text(r.error().pending_notifications));
    fail(g, "download failed: " + lpa::explain(r.error()), error_json(r.error()));
  }
  const std::string iccid = messages::iccid_to_digits(r->iccid);
  nlohmann::json data{{"iccid", iccid},
                            {"isdp_aid", to_hex(r->isdp_aid)},
                            {"profile_name", r->profile_metadata.profileName},
                            {"service_provider_name", r->profile_metadata.serviceProviderName},
                            {"notification_delivered", r->notification_delivered},
                            {"notification_removed", r->notification_removed},
                            {"pending_notifications", to_json(r->pending_notifications)}};
  if (event) data["event"] = {{"event_id", event->event_id}, {"rsp_server_address", event->rsp_server_address}};
  done(g, data,
       to_text(r->pending_notifications) +
           fmt::format("installed ICCID {} in ISD-P {} (\"{}\" by {}); install notification {}\n", iccid,
                       to_hex(r->isdp_aid), r->profile_metadata.profileName, r->profile_metadata.serviceProviderName,
                       r->notification_delivered ? (r->notification_removed ? "delivered and removed" : "delivered")
                                                 : "pending"));
}

void add_download_options(CLI::App* dl, DownloadArgs& a) {
  dl->add_option("--smdp", a.smdp, "SM-DP+ address (host or host:port), instead of an activation code");
  dl->add_option("--matching-id", a.matching_id, "With --smdp: the matchingId (empty: none)");
  dl->add_option("--smds", a.smds,
                 "Without a code or --smdp: the SM-DS to find the event at (default: the eUICC's default SM-DP+, "
                 "else its root SM-DS)");
  dl->add_option("--confirmation-code", a.confirmation_code,
                 "The operator's confirmation code (visible to other users in the process list: --cc-file hides it)");
  dl->add_option("--cc-file", a.cc_file,
                 "File whose first line is the confirmation code, when the operator set one ('-': stdin)");
  dl->add_option("--imei", a.imei, "The device's IMEI (15 or 16 digits) sent in DeviceInfo");
  dl->add_flag("--no-notify", a.no_notify,
               "Leave the install notification on the eUICC ('notification process' sends it later)");
}

/// --ci, --insecure, --resolve, --insecure-http, --json and --isdr-aid on `cmd`.
void add_shared_options(CLI::App* cmd, Globals& g) {
  cmd->add_option("--ci,--trust", g.ci,
                  "CI certificates (a file, or a folder of them) the SM-DP+ and SM-DS TLS certificates must chain "
                  "to; only those the eUICC lists for verification count (default: the simulated eUICC's CIs)");
  cmd->add_flag("--insecure", g.insecure, "Do not check the servers' TLS certificates (lab use; warns on stderr)");
  cmd->add_option("--resolve", g.resolve, "HOST:ADDRESS, connect to ADDRESS for HOST (certificate still checked)");
  cmd->add_flag("--insecure-http", g.insecure_http, "Plain HTTP (lab SM-DP+ started with --insecure-http)");
  cmd->add_flag("--json", g.json, "One JSON object on standard output (schema in the README)");
  cmd->add_option("--isdr-aid", g.euicc.isdr_aid, "The ISD-R's AID in hex, for cards with a custom one");
}

}  // namespace

void add_profile_download(CLI::App& profile, const std::shared_ptr<Globals>& g) {
  auto* dl = profile.add_subcommand(
      "download",
      "Download a profile with an activation code (or --smdp and --matching-id), after sending the notifications "
      "the eUICC still holds; progress on standard error");
  auto a = std::make_shared<DownloadArgs>();
  dl->add_option("code", a->activation_code, "Activation code LPA:1$<SM-DP+ address[:port]>$<matchingId>...");
  dl->add_option("--ac", a->activation_code, "The activation code, as an option");
  add_download_options(dl, *a);
  dl->callback([g, a] { run_download(*g, *a); });
}

}  // namespace rsp::cli::lpa_cli

RSP_COMMAND_GROUP(lpa) {
  using namespace rsp::cli::lpa_cli;
  auto* g = rsp::cli::group_command(app, "lpa",
                                    "Local Profile Assistant: look at an eUICC, manage its profiles and notifications, "
                                    "download profiles (lpac's commands)");
  auto globals = std::make_shared<Globals>();
  g->add_option("--euicc", globals->euicc.target,
                "The eUICC: sim:DIR (a simulated card folder), pcsc (the first PC/SC reader with a card) or "
                "pcsc:NAME (a reader whose name contains NAME)");
  add_shared_options(g, *globals);
  add_manage_commands(*g, globals);

  // `rsp lpa download`: what the command was before `profile download`; kept as its alias.
  auto* dl = g->add_subcommand(
      "download", "Alias of 'profile download' with --ac CODE (after the notifications the eUICC still holds)");
  auto a = std::make_shared<DownloadArgs>();
  dl->add_option("--euicc", globals->euicc.target, "The eUICC (a simulated card folder, sim:DIR, pcsc[:NAME])");
  dl->add_option("--ac", a->activation_code, "Activation code LPA:1$<SM-DP+ address[:port]>$<matchingId>");
  add_download_options(dl, *a);
  add_shared_options(dl, *globals);
  dl->callback([globals, a] { run_download(*globals, *a); });
}
