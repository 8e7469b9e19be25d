#pragma once
/// What the `rsp lpa` commands share: the options every command takes, how a
/// result is printed (a human table, or with --json one object on standard
/// output: {"ok": true, "data": ...} or {"ok": false, "error": {...}}; the
/// schema is in the README) and how the SM-DP+ is reached for downloads and
/// notifications.

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lpa_euicc.hpp"
#include "rsp/lpa/es9_transport.hpp"
#include "rsp/lpa/notifications.hpp"

namespace rsp::cli::lpa_cli {

struct Globals {
  EuiccSpec euicc;
  bool json = false;
  /// --ci FILE|DIR (also --trust): CI certificates for the servers' TLS.
  std::vector<std::string> ci, resolve;
  bool insecure_http = false;
  /// --insecure: the servers' TLS certificates are not checked (lab switch).
  bool insecure = false;
};

/// Ends the command: the message (with `error` fields under --json) and exit 1.
[[noreturn]] void fail(const Globals& g, const std::string& message, nlohmann::json error = nlohmann::json::object());
/// Prints `data` as {"ok": true, "data": data} under --json, else `human`.
void done(const Globals& g, const nlohmann::json& data, const std::string& human);

/// Opens the eUICC of --euicc or fails.
std::unique_ptr<LpaEuicc> open(const Globals& g);
/// The ES9+/ES11 transport: HTTPS whose server certificate must chain to one
/// of the CI certificates of --ci (default: those the simulated eUICC holds)
/// that the eUICC lists in euiccCiPKIdListForVerification (lpa/tls_trust.hpp);
/// a card in a reader needs --ci. --insecure skips the check, with a warning.
std::unique_ptr<lpa::Es9Transport> es9(const Globals& g, LpaEuicc& euicc);
/// The same, the reason returned instead of ending the command.
expected<std::unique_ptr<lpa::Es9Transport>, std::string> try_es9(const Globals& g, LpaEuicc& euicc);

/// The notifications' fate as JSON and as lines of text.
nlohmann::json to_json(const lpa::PendingNotificationsReport& report);
std::string to_text(const lpa::PendingNotificationsReport& report);

}  // namespace rsp::cli::lpa_cli

namespace CLI {
class App;
}

namespace rsp::cli::lpa_cli {
/// `rsp lpa chip|profile|notification ...` (cmd_lpa_manage.cpp) and
/// `rsp lpa profile download` (cmd_lpa.cpp), under the group `lpa`.
void add_manage_commands(CLI::App& lpa, const std::shared_ptr<Globals>& g);
void add_profile_download(CLI::App& profile, const std::shared_ptr<Globals>& g);
/// `rsp lpa profile discovery` (cmd_lpa_discovery.cpp).
void add_profile_discovery(CLI::App& profile, const std::shared_ptr<Globals>& g);
}  // namespace rsp::cli::lpa_cli
