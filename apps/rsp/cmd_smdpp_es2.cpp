// `rsp smdpp es2 ...`: the operator's side of ES2+ (SGP.22 §5.3) over HTTPS
// with an API key: download-order, confirm-order, cancel-order,
// release-profile, and `order` (DownloadOrder + ConfirmOrder with release)
// printing the activation code and its QR code. The API key and the
// confirmation code are read from files, never taken on the command line.

#include <fmt/core.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "activation_output.hpp"
#include "command.hpp"
#include "rsp/messages/functions.hpp"
#include "rsp/messages/header.hpp"
#include "rsp/net/client.hpp"

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "rsp smdpp es2: {}\n", message);
  std::fflush(stdout);
  std::fflush(stderr);
  rsp::cli::exit_with(1);
}

struct Es2Args {
  std::string url, op, key_file, cert_file, cert_key_file;
  std::vector<std::string> trust, resolve;
  std::string iccid, type, eid, matching_id, cc_file, smds_address, qr_png;
  std::string final_status = "Available";
  bool release = false;
};

/// One operator connection to the SM-DP+'s ES2+ endpoint.
class Es2Client {
 public:
  explicit Es2Client(const Es2Args& a) : op_(a.op) {
    if (a.key_file.empty() && a.cert_file.empty()) fail("give a client certificate (--cert/--key), an API key (--api-key-file), or both");
    if (a.cert_file.empty() != a.cert_key_file.empty()) fail("--cert and --key go together");
    if (!a.key_file.empty()) {
      std::string error;
      auto key = rsp::cli::read_secret_line(a.key_file, error);
      if (!key) fail("API key: " + error);
      authorization_ = "Bearer " + *key;
    }
    rsp::net::HttpsClientOptions o;
    if (!a.cert_file.empty()) {
      // Mutual TLS (SGP.22 §2.6.6): the operator is identified by its certificate.
      auto id = rsp::net::TlsIdentity::load(a.cert_file, a.cert_key_file);
      if (!id) fail("client certificate: " + id.error().message);
      o.identity = std::move(*id);
    }
    o.base_url = a.url;
    o.user_agent = "rsp-es2/0.1";
    for (const auto& f : a.trust) {
      auto certs = rsp::net::load_certificates(f);
      if (!certs) fail(f + ": " + certs.error().message);
      o.trust_anchors.insert(o.trust_anchors.end(), certs->begin(), certs->end());
    }
    for (const auto& r : a.resolve) {
      const auto colon = r.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == r.size()) fail("--resolve wants HOST:ADDRESS");
      if (a.url.find("://" + r.substr(0, colon)) != std::string::npos) o.connect_to = r.substr(colon + 1);
    }
    auto c = rsp::net::HttpsClient::create(std::move(o));
    if (!c) fail(a.url + ": " + c.error().message);
    client_ = std::move(*c);
  }

  /// Calls `function`; a failed function ends the command with its codes.
  json call(const std::string& function, json body) {
    static std::atomic<int> n{0};
    body["header"] = rsp::messages::to_json(rsp::messages::RequestHeader{
        op_, fmt::format("rsp-{}-{}-{}", ::getpid(), function, ++n)});
    rsp::net::Headers headers{{"X-Admin-Protocol", std::string(rsp::messages::kAdminProtocol)}};
    if (!authorization_.empty()) headers.emplace_back("Authorization", authorization_);
    auto r = client_->request("POST", std::string(rsp::messages::kEs2Prefix) + function, rsp::messages::dump(body),
                              std::string(rsp::messages::kJsonContentType), headers);
    if (!r) fail(function + ": " + r.error().message);
    if (r->status == 401 || r->status == 403)
      fail(function + ": HTTP " + std::to_string(r->status) + ", the SM-DP+ did not accept the " +
           (authorization_.empty() ? "client certificate" : "credentials"));
    if (r->status != 200) fail(function + ": HTTP " + std::to_string(r->status));
    auto j = rsp::messages::parse_json_object(r->body);
    if (!j) fail(function + ": the response is not a JSON object");
    auto h = j->find("header");
    if (h == j->end()) fail(function + ": the response has no header");
    auto header = rsp::messages::parse_response_header(*h);
    if (!header) fail(function + ": bad response header: " + header.error().to_string());
    if (!header->succeeded()) {
      const auto& d = header->function_execution_status.status_code_data;
      fail(fmt::format("{} failed: {}/{} {}", function, d ? d->subject_code : "?", d ? d->reason_code : "?",
                       d && d->message ? *d->message : ""));
    }
    return std::move(*j);
  }

 private:
  std::string op_;
  std::string authorization_;
  std::unique_ptr<rsp::net::HttpsClient> client_;
};

std::optional<std::string> read_cc(const Es2Args& a) {
  if (a.cc_file.empty()) return std::nullopt;
  std::string error;
  auto cc = rsp::cli::read_secret_line(a.cc_file, error);
  if (!cc) fail(error);
  return cc;
}

std::string text(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string download_order(Es2Client& c, const Es2Args& a) {
  json body = json::object();
  if (!a.eid.empty()) body["eid"] = a.eid;
  if (!a.iccid.empty()) body["iccid"] = a.iccid;
  if (!a.type.empty()) body["profileType"] = a.type;
  const json r = c.call("downloadOrder", body);
  const std::string iccid = text(r, "iccid");
  if (iccid.empty()) fail("downloadOrder: the response has no iccid");
  return iccid;
}

void confirm_and_print(Es2Client& c, const Es2Args& a, const std::string& iccid, bool release,
                       const std::optional<std::string>& cc) {
  json body = {{"iccid", iccid}, {"releaseFlag", release}};
  if (!a.eid.empty()) body["eid"] = a.eid;
  if (!a.matching_id.empty()) body["matchingId"] = a.matching_id;
  if (cc) body["confirmationCode"] = *cc;
  if (!a.smds_address.empty()) body["smdsAddress"] = a.smds_address;
  const json r = c.call("confirmOrder", body);
  const std::string eid = text(r, "eid");
  std::string error;
  if (rsp::cli::print_activation_code(text(r, "smdpAddress"), iccid,
                                      eid.empty() ? std::nullopt : std::optional<std::string>(eid),
                                      text(r, "matchingId"), cc.has_value(), a.qr_png, error)
          .empty())
    fail(error);
  if (!release) fmt::print("\nnot released yet: the download starts after release-profile\n");
}

void run_order(const Es2Args& a) {
  if (a.iccid.empty() == a.type.empty()) fail("give exactly one of --iccid and --type");
  const auto cc = read_cc(a);
  Es2Client c(a);
  const std::string iccid = download_order(c, a);
  try {
    confirm_and_print(c, a, iccid, true, cc);
  } catch (const CLI::RuntimeError&) {
    // Put the profile back rather than leave it reserved by a failed order.
    try {
      c.call("cancelOrder", {{"iccid", iccid}, {"finalProfileStatusIndicator", "Available"}});
    } catch (const CLI::RuntimeError&) {
    }
    throw;
  }
  rsp::cli::exit_with(0);
}

void run_download_order(const Es2Args& a) {
  if (a.iccid.empty() && a.type.empty()) fail("give --iccid or --type");
  Es2Client c(a);
  fmt::print("ICCID: {}\n", download_order(c, a));
  rsp::cli::exit_with(0);
}

void run_confirm_order(const Es2Args& a) {
  const auto cc = read_cc(a);
  Es2Client c(a);
  confirm_and_print(c, a, a.iccid, a.release, cc);
  rsp::cli::exit_with(0);
}

void run_cancel_order(const Es2Args& a) {
  if (a.final_status != "Available" && a.final_status != "Unavailable")
    fail("--final-status is Available or Unavailable");
  Es2Client c(a);
  json body = {{"iccid", a.iccid}, {"finalProfileStatusIndicator", a.final_status}};
  if (!a.eid.empty()) body["eid"] = a.eid;
  if (!a.matching_id.empty()) body["matchingId"] = a.matching_id;
  c.call("cancelOrder", body);
  fmt::print("order for ICCID {} cancelled, profile {}\n", a.iccid, a.final_status);
  rsp::cli::exit_with(0);
}

void run_release_profile(const Es2Args& a) {
  Es2Client c(a);
  c.call("releaseProfile", {{"iccid", a.iccid}});
  fmt::print("profile {} released\n", a.iccid);
  rsp::cli::exit_with(0);
}

void add_connection(CLI::App* cmd, Es2Args& a) {
  cmd->add_option("--url", a.url, "The SM-DP+ base URL, e.g. https://smdp.example.com")->required();
  cmd->add_option("--operator", a.op, "This operator's functionRequesterIdentifier")->required();
  cmd->add_option("--api-key-file", a.key_file, "File whose first line is this operator's API key ('-': stdin)");
  cmd->add_option("--cert", a.cert_file, "This operator's TLS client certificate (PEM/DER; mutual TLS)");
  cmd->add_option("--key", a.cert_key_file, "The private key of --cert (PEM/DER)");
  cmd->add_option("--trust", a.trust, "PEM file with the root certificate(s) of the SM-DP+ TLS certificate");
  cmd->add_option("--resolve", a.resolve, "HOST:ADDRESS, connect to ADDRESS for HOST (certificate still checked)");
}

}  // namespace

RSP_COMMAND_GROUP(smdpp_es2) {
  auto* g = rsp::cli::group_command(app, "smdpp", "SM-DP+ server and inventory");
  auto* es2 = g->add_subcommand("es2", "ES2+ operator client over HTTPS with an API key (SGP.22 §5.3)");
  es2->require_subcommand(1);

  auto oa = std::make_shared<Es2Args>();
  auto* order = es2->add_subcommand(
      "order", "DownloadOrder + ConfirmOrder (released): print the activation code and its QR code");
  add_connection(order, *oa);
  order->add_option("--iccid", oa->iccid, "This profile");
  order->add_option("--type", oa->type, "Any available profile of this type");
  order->add_option("--eid", oa->eid, "Bind the order to this eUICC (32 digits)");
  order->add_option("--matching-id", oa->matching_id, "Matching ID (default: generated by the SM-DP+)");
  order->add_option("--cc-file", oa->cc_file, "File whose first line is the confirmation code ('-': stdin)");
  order->add_option("--qr-png", oa->qr_png, "Also write the QR code as a PNG file");
  order->add_option("--smds-address", oa->smds_address, "SM-DS to register the event with (needs --eid)");
  order->callback([oa] { run_order(*oa); });

  auto da = std::make_shared<Es2Args>();
  auto* dl = es2->add_subcommand("download-order", "ES2+ DownloadOrder: reserve a profile, print its ICCID");
  add_connection(dl, *da);
  dl->add_option("--iccid", da->iccid, "This profile");
  dl->add_option("--type", da->type, "Any available profile of this type");
  dl->add_option("--eid", da->eid, "Link the profile to this eUICC");
  dl->callback([da] { run_download_order(*da); });

  auto ca = std::make_shared<Es2Args>();
  auto* conf = es2->add_subcommand("confirm-order", "ES2+ ConfirmOrder: print the activation code and its QR code");
  add_connection(conf, *ca);
  conf->add_option("--iccid", ca->iccid, "The ordered profile")->required();
  conf->add_option("--eid", ca->eid, "The eUICC");
  conf->add_option("--matching-id", ca->matching_id, "Matching ID (default: generated by the SM-DP+)");
  conf->add_option("--cc-file", ca->cc_file, "File whose first line is the confirmation code ('-': stdin)");
  conf->add_option("--smds-address", ca->smds_address, "SM-DS to register the event with");
  conf->add_flag("--release", ca->release, "Release the profile for download now (releaseFlag)");
  conf->add_option("--qr-png", ca->qr_png, "Also write the QR code as a PNG file");
  conf->callback([ca] { run_confirm_order(*ca); });

  auto xa = std::make_shared<Es2Args>();
  auto* cancel = es2->add_subcommand("cancel-order", "ES2+ CancelOrder");
  add_connection(cancel, *xa);
  cancel->add_option("--iccid", xa->iccid, "The ordered profile")->required();
  cancel->add_option("--eid", xa->eid, "The order's eUICC");
  cancel->add_option("--matching-id", xa->matching_id, "The order's matching ID");
  cancel->add_option("--final-status", xa->final_status, "Available (default) or Unavailable");
  cancel->callback([xa] { run_cancel_order(*xa); });

  auto ra = std::make_shared<Es2Args>();
  auto* rel = es2->add_subcommand("release-profile", "ES2+ ReleaseProfile");
  add_connection(rel, *ra);
  rel->add_option("--iccid", ra->iccid, "The confirmed profile")->required();
  rel->callback([ra] { run_release_profile(*ra); });
}
