// `rsp euicc`: create a simulated consumer eUICC folder, show it, and serve
// it to PC/SC (vpcd) or to lpac (stdio driver).

#include <fmt/core.h>

#include <cstdlib>
#include <memory>
#include <stop_token>

#include "command.hpp"
#include "rsp/card/card.hpp"
#include "rsp/euicc/isd_r.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/euicc_m2m/create.hpp"
#include "rsp/card/transport/lpac_stdio.hpp"
#include "rsp/card/transport/signal_stop.hpp"
#include "rsp/card/transport/vpcd.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/m2m/isdr_commands.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/pki/eid.hpp"
#include "rsp/pki/test_pki.hpp"

namespace {

using namespace rsp::euicc;
using namespace rsp::card;

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "rsp euicc: {}\n", message);
  rsp::cli::exit_with(1);
}

struct CreateArgs {
  std::string dir, pki, eid, default_dp;
  bool m2m = false;
  bool lenient_segments = false;
  std::string smsr_id = "smsr.rsp.local";
  std::string eum_id = "EUM-TEST";
  std::vector<std::string> mno{"bootstrap", "operational"};
  std::vector<std::string> msisdn;
  std::vector<std::string> second_pol1;
};

/// POL1 rule names (SGP.02 §2.4.3) to the card's bits.
std::uint8_t pol1_bits(const std::vector<std::string>& names) {
  std::uint8_t bits = 0;
  for (const auto& n : names) {
    if (n == "disable-not-allowed") {
      bits |= rsp::m2m::pol1::kDisableNotAllowed;
    } else if (n == "delete-not-allowed") {
      bits |= rsp::m2m::pol1::kDeleteNotAllowed;
    } else if (n == "delete-when-disabled") {
      bits |= rsp::m2m::pol1::kDeleteWhenDisabled;
    } else {
      fail("--second-pol1: '" + n + "' is none of disable-not-allowed, delete-not-allowed, delete-when-disabled");
    }
  }
  return bits;
}

/// An ICCID of 18 digits: the 89 industry prefix, "882" (the range ITU-T
/// E.118 leaves to international networks, as test cards use) and 13 random
/// digits.
rsp::Bytes random_iccid() {
  rsp::crypto::SystemRandom random;
  std::string digits = "89882";
  for (auto b : random.bytes(13)) digits.push_back(static_cast<char>('0' + b % 10));
  return rsp::messages::iccid_from_digits(digits).value();
}

/// A test MSISDN: 447700900 and three random digits (Ofcom keeps
/// 07700 900000-900999 for drama and tests).
std::string random_msisdn() {
  rsp::crypto::SystemRandom random;
  std::string digits = "447700900";
  for (auto b : random.bytes(3)) digits.push_back(static_cast<char>('0' + b % 10));
  return digits;
}

/// `--m2m`: the bootstrap profile (enabled, fallback attribute, POL1 "delete
/// not allowed") and a second, disabled profile, fresh SCP80 / SCP81 keys.
/// Prints the RegisterEIS request body (keys included) on standard output,
/// for the SM-SR, and nothing else: no key reaches a log.
void run_create_m2m(const CreateArgs& a, std::vector<IdentitySource> sources) {
  namespace em = rsp::euicc_m2m;
  if (a.mno.size() != 2) fail("--mno is given twice: the bootstrap profile's MNO, then the second profile's");
  if (!a.msisdn.empty() && a.msisdn.size() != 2)
    fail("--msisdn is given twice: the bootstrap profile's number, then the second profile's");
  for (const auto& m : a.msisdn)
    if (m.empty() || m.size() > 15 || m.find_first_not_of("0123456789") != std::string::npos)
      fail("--msisdn must be 1 to 15 digits (E.164)");
  em::M2mCreateOptions o;
  o.dir = a.dir;
  o.sources = std::move(sources);
  o.smsr_id = a.smsr_id;
  o.profiles = {
      {em::isdp_aid(0), random_iccid(), a.mno[0], rsp::m2m::pol1::kDeleteNotAllowed, true, true},
      {em::isdp_aid(1), random_iccid(), a.mno[1], pol1_bits(a.second_pol1), false, false},
  };
  auto store = em::create_m2m_euicc(o);
  if (!store) fail(store.error().message);
  em::RegistrationFacts facts;
  facts.eum_id = a.eum_id;
  for (std::size_t i = 0; i < o.profiles.size(); ++i) {
    std::string msisdn = a.msisdn.empty() ? random_msisdn() : a.msisdn[i];
    if (i > 0 && a.msisdn.empty())
      while (msisdn == facts.msisdn.begin()->second) msisdn = random_msisdn();
    facts.msisdn[rsp::messages::iccid_to_digits(o.profiles[i].iccid)] = msisdn;
  }
  auto body = em::registration_json(*store, facts);
  if (!body) fail(body.error().message);
  fmt::print("{}\n", *body);
}

void run_create(const CreateArgs& a) {
  std::filesystem::path pki_dir = a.pki;
  if (a.pki.empty()) {
    rsp::pki::TestPkiOptions o;
    o.out_dir = std::filesystem::path(a.dir) / "pki";
    if (!a.eid.empty()) {
      if (!rsp::pki::is_valid_eid(a.eid)) fail("--eid is not a valid EID (SGP.29)");
      o.eid = a.eid;
    }
    auto made = rsp::pki::make_test_pki(o);
    if (!made) fail(made.error().message);
    pki_dir = o.out_dir;
  }
  auto sources = find_identity_sources(pki_dir);
  if (!sources) fail(sources.error().message);
  if (a.m2m && a.lenient_segments) fail("--lenient-segments is for a consumer eUICC (SGP.22 BPP segments)");
  if (a.m2m) return run_create_m2m(a, std::move(*sources));
  CreateOptions o;
  o.dir = a.dir;
  o.sources = std::move(*sources);
  o.default_dp_address = a.default_dp;
  o.lenient_segments = a.lenient_segments;
  auto store = create_euicc(o);
  if (!store) fail(store.error().message);
  auto eid = store->eid();
  if (!a.eid.empty() && eid && *eid != a.eid) fail("the PKI's eUICC certificate names EID " + *eid);
  fmt::print("eUICC created in {}\nEID {}\n", a.dir, eid ? *eid : "?");
}

void run_info(const std::string& dir) {
  auto store = EuiccStore::open(dir);
  if (!store) fail(store.error().message);
  auto eid = store->eid();
  auto id = store->identity();
  auto state = store->load();
  if (!eid || !id || !state) fail("unreadable eUICC folder");
  fmt::print("EID {}\n", *eid);
  for (const auto& c : id->curves) {
    fmt::print("CI PKId ({}) {}\n", rsp::crypto::short_name(c.curve), rsp::to_hex(c.ci_pkid));
  }
  fmt::print("default SM-DP+ {}\nroot SM-DS {}\n",
             state->default_dp_address.empty() ? "(none)" : state->default_dp_address, state->root_ds_address);
  fmt::print("BPP segments {}\n", state->lenient_segments
                                      ? fmt::format("lenient (up to {} bytes)", rsp::euicc::kLenientMaxSegment)
                                      : std::string("strict (SGP.22's 1020 bytes)"));
  fmt::print("{} profile(s)\n", state->profiles.size());
  for (const auto& p : state->profiles) {
    fmt::print("  {} {} {:<8} class {} \"{}\" ({}){}\n", rsp::to_hex(p.isdp_aid), rsp::messages::iccid_to_digits(p.iccid),
               p.enabled ? "enabled" : "disabled", p.profile_class, p.profile_name, p.service_provider_name,
               p.nickname.empty() ? "" : " nickname \"" + p.nickname + "\"");
  }
  fmt::print("{} notification(s)\n", state->notifications.size());
  static const char* kEvents[] = {"install", "enable", "disable", "delete"};
  for (const auto& n : state->notifications) {
    fmt::print("  #{} {} {} -> {}\n", n.seq_number, kEvents[static_cast<int>(n.event)], rsp::messages::iccid_to_digits(n.iccid),
               n.address);
  }
}

std::unique_ptr<Card> open_card(const std::string& dir) {
  auto store = EuiccStore::open(dir);
  if (!store) fail(store.error().message);
  auto card = std::make_unique<Card>();
  card->add_application(std::make_shared<IsdR>(*store));
  card->add_application(std::make_shared<MinimalEcasd>());
  return card;
}

void run_vpcd(const std::string& dir, const std::string& host, std::uint16_t port) {
  auto card = open_card(dir);
  std::stop_source stop;
  transport::StopOnSignals signals(stop);
  transport::VpcdOptions o;
  o.host = host;
  o.port = port;
  o.log = [](std::string_view line) { fmt::print(stderr, "vpcd: {}\n", line); };
  auto r = transport::run_vpcd(*card, o, stop.get_token());
  if (!r) fail(std::string(transport::message(r.error())));
}

void run_lpac(const std::string& dir, const std::string& lpac, const std::vector<std::string>& args) {
  auto card = open_card(dir);
  std::string path = lpac;
  if (path.empty()) {
    const char* env = std::getenv("LPAC");
    path = env && *env ? env : "lpac";
  }
  rsp::cli::exit_with(transport::run_lpac(*card, path, args));
}

}  // namespace

RSP_COMMAND_GROUP(euicc) {
  auto* euicc = rsp::cli::group_command(app, "euicc", "Simulated eUICCs (SGP.22 consumer, SGP.02 M2M) kept in a folder");

  auto ca = std::make_shared<CreateArgs>();
  auto* create = euicc->add_subcommand("create", "Create an eUICC folder");
  create->add_option("--dir", ca->dir, "eUICC folder")->required();
  create->add_option("--pki", ca->pki,
                     "PKI folder (rsp pki init output or the SGP.26 layout); default: a fresh test PKI in DIR/pki");
  create->add_option("--eid", ca->eid, "EID for the fresh test PKI");
  create->add_option("--default-dp", ca->default_dp, "Default SM-DP+ address");
  create->add_flag("--m2m", ca->m2m,
                   "An M2M eUICC (SGP.02): ISD-R, ECASD, an enabled bootstrap profile with the fallback attribute and a "
                   "disabled second profile; prints the registration facts for the SM-SR as JSON (with its keys)");
  create->add_flag("--lenient-segments", ca->lenient_segments,
                   "Accept BPP segments up to " + std::to_string(rsp::euicc::kLenientMaxSegment) +
                       " bytes (servers that send 1036) instead of SGP.22's 1020; kept with the card");
  create->add_option("--smsr-id", ca->smsr_id, "With --m2m: the SM-SR the card is registered with")->capture_default_str();
  create->add_option("--eum-id", ca->eum_id, "With --m2m: the EUM's name in the EIS (the SM-SR's ES1 caller)")
      ->capture_default_str();
  create->add_option("--mno", ca->mno, "With --m2m: the MNO of the bootstrap profile, then of the second profile")
      ->capture_default_str();
  create->add_option("--second-pol1", ca->second_pol1,
                     "With --m2m: POL1 rules of the second profile (disable-not-allowed, delete-not-allowed, "
                     "delete-when-disabled; repeat or separate by commas)")
      ->delimiter(',');
  create->add_option("--msisdn", ca->msisdn,
                     "With --m2m: the MSISDN of the bootstrap profile, then of the second (default: test numbers)");
  create->callback([ca] { run_create(*ca); });

  auto dir = std::make_shared<std::string>();
  auto* info = euicc->add_subcommand("info", "Show EID, profiles and pending notifications");
  info->add_option("--dir", *dir, "eUICC folder")->required();
  info->callback([dir] { run_info(*dir); });

  auto vdir = std::make_shared<std::string>();
  auto host = std::make_shared<std::string>("127.0.0.1");
  auto port = std::make_shared<std::uint16_t>(transport::kVpcdDefaultPort);
  auto* vpcd = euicc->add_subcommand("vpcd", "Serve the eUICC to pcscd's virtual reader (vpcd) until Ctrl-C");
  vpcd->add_option("--dir", *vdir, "eUICC folder")->required();
  vpcd->add_option("--host", *host, "vpcd host")->capture_default_str();
  vpcd->add_option("--port", *port, "vpcd port")->capture_default_str();
  vpcd->callback([vdir, host, port] { run_vpcd(*vdir, *host, *port); });

  auto ldir = std::make_shared<std::string>();
  auto lpac = std::make_shared<std::string>();
  auto largs = std::make_shared<std::vector<std::string>>();
  auto* lp = euicc->add_subcommand("lpac", "Run lpac against the eUICC (stdio APDU driver): rsp euicc lpac --dir D -- chip info");
  lp->add_option("--dir", *ldir, "eUICC folder")->required();
  lp->add_option("--lpac", *lpac, "lpac binary (default: $LPAC or lpac on PATH)");
  lp->add_option("args", *largs, "lpac arguments");
  lp->callback([ldir, lpac, largs] { run_lpac(*ldir, *lpac, *largs); });
}
