// `rsp euicc m2m-run` and `rsp euicc m2m-info`: the simulated M2M device
// (card and terminal together, m2m_device) run from its card folder, and what
// that folder holds. The wiring only: the SMPP client, the device, the
// simulated network; the protocol lives in the libraries.

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <set>

#include "command.hpp"
#include "rsp/common/file.hpp"
#include "rsp/euicc_m2m/es8_card.hpp"
#include "rsp/euicc_m2m/euicc.hpp"
#include "rsp/m2m_device/device.hpp"
#include "rsp/m2m_device/network.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/service/config.hpp"
#include "rsp/service/lifecycle.hpp"
#include "rsp/smpp/client.hpp"

namespace {

namespace em = rsp::euicc_m2m;

constexpr const char* kWho = "rsp euicc m2m-run";

[[noreturn]] void fail(const std::string& who, const std::string& message) {
  fmt::print(stderr, "{}: {}\n", who, message);
  std::fflush(stderr);
  rsp::cli::exit_with(1);
}

/// One timestamped line on standard error (never a key: the libraries log none).
void log_line(std::string_view line) {
  fmt::print(stderr, "{:%Y-%m-%dT%H:%M:%SZ} {}\n", fmt::gmtime(std::time(nullptr)), line);
  std::fflush(stderr);
}

struct RunArgs {
  std::string dir;
  std::string smsc;
  std::string system_id = "device";
  std::string password;
  std::string password_file;
  std::vector<std::string> address;
  std::string smsr_address;
  std::string smsr_host;
  std::vector<std::string> no_coverage;
  std::string coverage_file;
  double fallback_timeout = 60;
  double poll_interval = 1;
  double sms_reassembly_timeout = 120;  ///< ota::ReassemblyOptions::timeout
  std::size_t sms_pending = 16;         ///< ota::ReassemblyOptions::max_pending
};

/// The SMPP password: --password-file (first line), else --password, else empty.
std::string smpp_password(const RunArgs& a) {
  if (a.password_file.empty()) return a.password;
  auto bytes = rsp::read_file(a.password_file);
  if (!bytes) fail(kWho, "--password-file: " + bytes.error().message);
  std::string text(bytes->begin(), bytes->end());
  if (auto eol = text.find_first_of("\r\n"); eol != std::string::npos) text.erase(eol);
  return text;
}

rsp::smpp::Address e164(const std::string& digits, const char* option) {
  if (digits.empty() || digits.size() > 20 || digits.find_first_not_of("0123456789") != std::string::npos)
    fail(kWho, std::string(option) + " must be 1 to 20 digits (an international number)");
  return rsp::smpp::Address{digits, 1, 1};
}

std::chrono::milliseconds seconds_option(double seconds, const char* option) {
  if (!(seconds > 0) || seconds > 86400) fail(kWho, std::string(option) + " must be above 0 and at most 86400 seconds");
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

std::string enabled_iccid(em::M2mIsdR& isd_r) {
  auto state = isd_r.state();
  const auto* p = state.enabled();
  return p ? rsp::messages::iccid_to_digits(p->iccid) : std::string("none");
}

void run_device(const RunArgs& a) {
  // Signals blocked before any thread starts (the SMPP client's, the device's).
  rsp::service::StopSignals stop_signals;
  std::set<std::string> no_coverage;
  for (const auto& iccid : a.no_coverage) {
    if (!rsp::messages::iccid_from_digits(iccid)) fail(kWho, "--no-coverage " + iccid + ": not an ICCID");
    no_coverage.insert(iccid);
  }
  em::IsdROptions card_options;
  card_options.fallback_timeout = seconds_option(a.fallback_timeout, "--fallback-timeout");
  const auto interval = seconds_option(a.poll_interval, "--poll-interval");
  auto card = em::M2mEuicc::open(a.dir, card_options);
  if (!card) fail(kWho, a.dir + ": " + card.error().message);
  auto& isd_r = (*card)->isd_r();

  rsp::m2m_device::M2mDeviceOptions device_options;
  std::vector<rsp::smpp::Address> addresses;
  for (const auto& digits : a.address) addresses.push_back(e164(digits, "--address"));
  if (!addresses.empty()) device_options.msisdn = addresses.front();
  if (!a.smsr_address.empty()) device_options.smsr_address = e164(a.smsr_address, "--smsr-address");
  device_options.default_host = a.smsr_host;
  device_options.sms_reassembly.timeout = std::chrono::duration_cast<std::chrono::seconds>(
      seconds_option(a.sms_reassembly_timeout, "--sms-reassembly-timeout"));
  if (device_options.sms_reassembly.timeout.count() == 0) fail(kWho, "--sms-reassembly-timeout must be 1 s at least");
  if (a.sms_pending == 0 || a.sms_pending > 1024) fail(kWho, "--sms-pending must be 1 to 1024");
  device_options.sms_reassembly.max_pending = a.sms_pending;
  device_options.log = [](const std::string& line) { log_line(line); };
  // Scripts for an ISD-P (an M2M SM-DP's ES8 through the SM-SR's SendData):
  // key establishment and the profile download, on the card's ISD-Ps.
  auto store = em::M2mStore::open(a.dir);
  if (!store) fail(kWho, a.dir + ": " + store.error().message);
  auto es8 = em::Es8Card::open((*card)->isd_r_shared(), *store);
  if (!es8) fail(kWho, a.dir + ": " + es8.error().message);
  std::shared_ptr<em::Es8Card> es8_card(std::move(*es8));
  device_options.isdp = [es8_card](rsp::ByteView aid, rsp::ByteView c) { return es8_card->execute(aid, c); };
  // The binds outlive the device (declared before it): a message it queued
  // may still send its PoR through them while the device stops.
  std::vector<std::unique_ptr<rsp::smpp::SmppClient>> sms;
  rsp::m2m_device::M2mDevice device(isd_r, device_options);

  // One transceiver bind per address: each profile has its own MSISDN and the
  // simulated radio hears them all (the last bind carries the MO PoRs).
  if (!a.smsc.empty()) {
    if (addresses.empty()) fail(kWho, "--smsc needs --address (an MSISDN of the device, where the SMSC routes its SMS)");
    auto hp = rsp::service::split_listen(a.smsc);
    if (!hp || hp->second == 0) fail(kWho, "--smsc must be HOST:PORT");
    const std::string password = smpp_password(a);
    for (const auto& address : addresses) {
      rsp::smpp::SmppClientConfig c;
      c.host = hp->first;
      c.port = static_cast<std::uint16_t>(hp->second);
      // Transceiver: the device receives MT messages and sends its PoRs as MO.
      c.mode = rsp::smpp::BindMode::Transceiver;
      c.system_id = a.system_id;
      c.password = password;
      c.address = address;
      c.log = [](std::string_view line) { log_line(fmt::format("smpp: {}", line)); };
      // The handler from the start: what the SMSC held for the device comes right after the bind.
      auto client = rsp::smpp::SmppClient::connect(std::move(c), device.inbound());
      if (!client) fail(kWho, fmt::format("SMSC {} for {}: {}", a.smsc, address.digits, client.error().message));
      device.attach(**client);
      sms.push_back(std::move(*client));
    }
  }
  const auto stop_sms = [&sms] {
    for (auto& client : sms) client->stop();  // no SMS into a device being stopped
  };

  rsp::m2m_device::NetworkOptions net_options;
  net_options.no_coverage = no_coverage;
  if (!a.coverage_file.empty()) net_options.file = a.coverage_file;
  net_options.interval = interval;
  net_options.on_fallback = [&device] { device.notify_pending(); };
  net_options.log = [](const std::string& line) { log_line(line); };
  rsp::m2m_device::NetworkSimulator network(isd_r, std::move(net_options));
  if (auto applied = rsp::m2m_device::apply_coverage(isd_r, no_coverage); !applied) {
    fail(kWho, applied.error());
  } else {
    for (const auto& iccid : *applied) log_line("network: --no-coverage " + iccid + ": the card holds no such profile");
  }
  network.start();

  fmt::print("M2M eUICC {} from {}, enabled profile {}\n", rsp::to_hex(isd_r.eid()), a.dir, enabled_iccid(isd_r));
  if (!sms.empty()) {
    std::string list;
    for (const auto& d : a.address) list += (list.empty() ? "" : ", ") + d;
    fmt::print("SMS: bound to the SMSC {} as {} for {}\n", a.smsc, a.system_id, list);
  } else {
    fmt::print("SMS: no SMSC given (--smsc): no wake-up can reach the device\n");
  }
  if (!isd_r.pending_notifications().empty()) {
    if (a.smsr_host.empty()) {
      fmt::print("{} notification(s) pending: sent in the next session (no --smsr-host to send them now)\n",
                 isd_r.pending_notifications().size());
    } else {
      device.notify_pending();
    }
  }
  fmt::print("device running\n");
  std::fflush(stdout);

  const char* sig = stop_signals.wait();
  fmt::print("{} received, stopping\n", sig);
  std::fflush(stdout);
  network.stop();
  stop_sms();
  device.wait_idle(std::chrono::seconds(10));
  fmt::print("stopped, enabled profile {}\n", enabled_iccid(isd_r));
  std::fflush(stdout);
}

void run_info(const std::string& dir) {
  auto store = em::M2mStore::open(dir);
  if (!store) fail("rsp euicc m2m-info", store.error().message);
  auto eid = store->euicc().eid();
  auto state = store->load();
  if (!eid || !state) fail("rsp euicc m2m-info", "unreadable M2M card folder");
  fmt::print("EID {}\nSM-SR {}\n", *eid, state->smsr_id);
  // The ISD-R's key versions only (never a key): an SM-SR change replaces them.
  std::string scp80;
  for (const auto& k : state->scp80) scp80 += (scp80.empty() ? "" : " ") + std::to_string(k.version);
  fmt::print("ISD-R keys: SCP80 version(s) {}, SCP81 PSK version {}\n", scp80.empty() ? "none" : scp80,
             state->scp81_version);
  fmt::print("{} ISD-P(s)\n", state->isdps.size());
  for (const auto& p : state->isdps) {
    std::string pol1;
    if (p.pol1 & rsp::m2m::pol1::kDisableNotAllowed) pol1 += " disable-not-allowed";
    if (p.pol1 & rsp::m2m::pol1::kDeleteNotAllowed) pol1 += " delete-not-allowed";
    if (p.pol1 & rsp::m2m::pol1::kDeleteWhenDisabled) pol1 += " delete-when-disabled";
    // The connectivity parameters in hex (not secret: SMS centre, APN...).
    fmt::print("  {} {} {}{}{}{}{}{}\n", rsp::to_hex(p.aid), p.iccid.empty() ? "-" : rsp::messages::iccid_to_digits(p.iccid),
               rsp::m2m::name(p.state), p.fallback ? " fallback" : "", p.emergency ? " emergency" : "",
               p.coverage ? "" : " no-coverage", pol1.empty() ? "" : " POL1:" + pol1,
               p.connectivity.empty() ? "" : " connectivity:" + rsp::to_hex(p.connectivity));
  }
  fmt::print("{} notification(s) pending\n", state->notifications.size());
  for (const auto& n : state->notifications)
    fmt::print("  #{} ISD-P {}\n", n.seq_number, rsp::to_hex(n.isdp_aid));
}

}  // namespace

RSP_COMMAND_GROUP(euicc_m2m) {
  auto* euicc = rsp::cli::group_command(app, "euicc", "Simulated eUICCs (SGP.22 consumer, SGP.02 M2M) kept in a folder");

  auto a = std::make_shared<RunArgs>();
  auto* run = euicc->add_subcommand(
      "m2m-run",
      "Run the simulated M2M device (card and terminal) from its folder until SIGTERM: SMS wake-ups from the SMSC, "
      "PSK-TLS sessions to the SM-SR, the simulated network");
  run->add_option("--dir", a->dir, "M2M eUICC folder (rsp euicc create --m2m)")->required();
  run->add_option("--smsc", a->smsc, "SMSC HOST:PORT to bind to over SMPP 3.4 (transceiver)");
  run->add_option("--system-id", a->system_id, "SMPP system_id")->capture_default_str();
  run->add_option("--password", a->password, "SMPP password (visible to other users: prefer --password-file)");
  run->add_option("--password-file", a->password_file, "File whose first line is the SMPP password");
  run->add_option("--address", a->address, "An MSISDN of the device (digits), one bind at the SMSC each; repeat it for each profile's number");
  run->add_option("--smsr-address", a->smsr_address,
                  "Where proofs of receipt go by SMS (default: the sender of the message answered)");
  run->add_option("--smsr-host", a->smsr_host,
                  "SM-SR HOST:PORT for sessions the device opens before a wake-up named one (notifications)");
  run->add_option("--no-coverage", a->no_coverage, "ICCID whose profile finds no network (repeatable)");
  run->add_option("--coverage-file", a->coverage_file,
                  "File read every poll: ICCIDs without network, one a line ('#' comments); edit it to move the "
                  "device in and out of coverage");
  run->add_option("--fallback-timeout", a->fallback_timeout,
                  "Seconds without coverage on the enabled profile before the card falls back")
      ->capture_default_str();
  run->add_option("--poll-interval", a->poll_interval, "Seconds between two looks at the network")->capture_default_str();
  run->add_option("--sms-reassembly-timeout", a->sms_reassembly_timeout,
                  "Seconds the card holds part of a concatenated SMS for its other parts (3GPP TS 23.040 "
                  "§9.2.3.24.1) before it drops it")
      ->capture_default_str();
  run->add_option("--sms-pending", a->sms_pending,
                  "Concatenated SMS the card holds incomplete at most; the oldest goes first")
      ->capture_default_str();
  run->callback([a] { run_device(*a); });

  auto dir = std::make_shared<std::string>();
  auto* info = euicc->add_subcommand(
      "m2m-info", "Show an M2M eUICC folder: EID, the ISD-R's key versions (never a key), ISD-Ps (with their connectivity "
      "parameters in hex), pending notifications");
  info->add_option("--dir", *dir, "M2M eUICC folder")->required();
  info->callback([dir] { run_info(*dir); });
}
