// `rsp lpa download`: the LPA's profile download (lpa component) from an
// activation code into a simulated eUICC folder, over HTTPS to the SM-DP+,
// after the notifications the eUICC still holds.

#include <fmt/core.h>

#include <memory>

#include "activation_output.hpp"
#include "command.hpp"
#include "rsp/card/card.hpp"
#include "rsp/euicc/isd_r.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/lpa/es10_channel.hpp"
#include "rsp/lpa/https_transport.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/net/tls.hpp"

namespace {

using namespace rsp;

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "rsp lpa: {}\n", message);
  cli::exit_with(1);
}

struct DownloadArgs {
  std::string euicc_dir, activation_code, cc_file;
  std::vector<std::string> trust, resolve;
  bool insecure_http = false;
};

/// What became of the notifications the eUICC held before the download.
void print_pending(const lpa::PendingNotificationsReport& report) {
  if (!report.error.empty()) fmt::print("pending notifications not sent: {}\n", report.error);
  for (const auto& n : report.notifications) {
    const std::string what =
        fmt::format("pending notification {} ({}{}) to {}", n.seq_number, n.install_result ? "install result" : "notification",
                    n.iccid ? ", ICCID " + rsp::messages::iccid_to_digits(*n.iccid) : std::string(), n.address);
    if (n.delivered && n.removed)
      fmt::print("{}: delivered and removed\n", what);
    else if (n.delivered)
      fmt::print("{}: delivered, still on the eUICC: {}\n", what, n.error);
    else
      fmt::print("{}: not delivered, kept on the eUICC for a later attempt: {}\n", what, n.error);
  }
}

void run_download(const DownloadArgs& a) {
  auto store = euicc::EuiccStore::open(a.euicc_dir);
  if (!store) fail("eUICC: " + store.error().message);
  lpa::HttpsEs9Options o;
  o.insecure_http = a.insecure_http;
  if (a.trust.empty()) {
    // The CIs the eUICC trusts are the roots of the SM-DP+ TLS certificates (SGP.22 §2.6.6).
    auto id = store->identity();
    if (!id) fail("eUICC identity: " + id.error().message);
    for (const auto& c : id->curves) o.trust_anchors.push_back(c.ci_cert);
  }
  for (const auto& f : a.trust) {
    auto certs = net::load_certificates(f);
    if (!certs) fail(f + ": " + certs.error().message);
    o.trust_anchors.insert(o.trust_anchors.end(), certs->begin(), certs->end());
  }
  for (const auto& r : a.resolve) {
    const auto colon = r.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == r.size()) fail("--resolve wants HOST:ADDRESS");
    o.resolve[r.substr(0, colon)] = r.substr(colon + 1);
  }
  lpa::HttpsEs9Transport es9(std::move(o));

  card::Card card;
  card.add_application(std::make_shared<euicc::IsdR>(*store));
  card.add_application(std::make_shared<card::MinimalEcasd>());
  auto es10 = lpa::card_channel(card);
  if (auto selected = es10.select_isd_r(); !selected) fail("the eUICC did not select its ISD-R: " + selected.error().message);

  lpa::DownloadOptions options;
  options.progress = [](lpa::Step s) { fmt::print("  - {}\n", lpa::to_string(s)); };
  std::optional<std::string> cc;
  if (!a.cc_file.empty()) {
    std::string error;
    cc = cli::read_secret_line(a.cc_file, error);
    if (!cc) fail(error);
  }
  // The library first sends what the eUICC still holds (SGP.22 §3.5), e.g.
  // the install result of an earlier download that was interrupted.
  auto r = lpa::download_profile(a.activation_code, cc, es10, es9, options);
  print_pending(r ? r->pending_notifications : r.error().pending_notifications);
  if (!r) fail("download failed: " + r.error().to_string());
  fmt::print("installed ICCID {} in ISD-P {} (\"{}\" by {}); install notification {}\n",
             rsp::messages::iccid_to_digits(r->iccid), to_hex(r->isdp_aid), r->profile_metadata.profileName,
             r->profile_metadata.serviceProviderName,
             r->notification_delivered ? (r->notification_removed ? "delivered and removed" : "delivered")
                                       : "pending");
}

}  // namespace

RSP_COMMAND_GROUP(lpa) {
  auto* g = rsp::cli::group_command(app, "lpa", "Local Profile Assistant: download profiles into an eUICC");
  auto* dl = g->add_subcommand(
      "download",
      "Download a profile from an SM-DP+ with an activation code, after sending the notifications the eUICC still "
      "holds (each removed once its SM-DP+ accepted it)");
  auto a = std::make_shared<DownloadArgs>();
  dl->add_option("--euicc", a->euicc_dir, "Simulated eUICC folder (rsp euicc create)")->required();
  dl->add_option("--ac", a->activation_code, "Activation code LPA:1$<SM-DP+ address>$<matchingId>")->required();
  dl->add_option("--cc-file", a->cc_file,
                 "File whose first line is the confirmation code, when the operator set one ('-': stdin)");
  dl->add_option("--trust", a->trust, "Trusted root certificates for the SM-DP+ TLS (default: the eUICC's CIs)");
  dl->add_option("--resolve", a->resolve, "HOST:ADDRESS, connect to ADDRESS for HOST (certificate still checked)");
  dl->add_flag("--insecure-http", a->insecure_http, "Plain HTTP (lab SM-DP+ started with --insecure-http)");
  dl->callback([a] { run_download(*a); });
}
