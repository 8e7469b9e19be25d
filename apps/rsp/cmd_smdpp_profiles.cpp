// `rsp smdpp profiles import|list|history|reinstate` and `rsp smdpp order`:
// the SM-DP+ profile inventory in its database, and a download order with its
// activation code.

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "activation_output.hpp"
#include "command.hpp"
#include "rsp/common/file.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/messages/activation_code.hpp"
#include "rsp/smdpp/es2_codes.hpp"
#include "rsp/smdpp/es2_service.hpp"
#include "rsp/smdpp/inventory.hpp"
#include "rsp/smdpp/qr.hpp"
#include "rsp/store/open.hpp"
#include "smdpp_keys.hpp"

namespace {

namespace fs = std::filesystem;
namespace sm = rsp::smdpp;

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "rsp smdpp: {}\n", message);
  rsp::cli::exit_with(1);
}

std::string describe(const rsp::smdpp::SmdppError& e) {
  return e.message + " (" + e.subject_code + "/" + e.reason_code + ")";
}

struct Opened {
  std::shared_ptr<rsp::store::Database> db;
  std::shared_ptr<sm::Inventory> inv;
};

/// The inventory in `path`, with the key-encryption key of its packages
/// when the command reads or writes them.
Opened open_inventory(const std::string& path, const sm::Clock& clock,
                      std::shared_ptr<const sm::KeyEncryptionKey> kek = nullptr) {
  auto db = rsp::store::open_database(path);
  if (!db) fail(db.error().message);
  rsp::cli::warn_if_database_readable(path, "rsp smdpp");
  Opened o;
  o.db = std::shared_ptr<rsp::store::Database>(std::move(*db));
  auto inv = sm::Inventory::open(o.db, clock, {std::move(kek), nullptr});
  if (!inv) fail(describe(inv.error()));
  o.inv = *inv;
  return o;
}

struct ImportArgs {
  std::vector<std::string> paths;
  std::string op, type, db, sp_name, profile_name, kek_file;
};

void run_import(const ImportArgs& a) {
  std::vector<fs::path> files;
  for (const auto& p : a.paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (const auto& e : fs::directory_iterator(p, ec))
        if (e.is_regular_file() && e.path().extension() == ".der") found.push_back(e.path());
      std::sort(found.begin(), found.end());
      if (found.empty()) fmt::print(stderr, "{}: no .der files\n", p);
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.emplace_back(p);
    }
  }
  sm::SystemClock clock;
  auto kek = rsp::cli::kek_or_exit(a.kek_file, a.db, "rsp smdpp");
  auto o = open_inventory(a.db, clock, std::move(kek));
  int imported = 0, duplicates = 0, rejected = 0;
  for (const auto& f : files) {
    auto data = rsp::read_file(f);
    if (!data) {
      fmt::print(stderr, "{}: rejected: {}\n", f.string(), data.error().message);
      ++rejected;
      continue;
    }
    sm::ImportProfile p;
    p.operator_name = a.op;
    p.profile_type = a.type;
    p.upp = std::move(*data);
    p.metadata.service_provider_name = a.sp_name;
    p.metadata.profile_name = a.profile_name;
    auto r = o.inv->import_profile(p);
    if (r) {
      auto rec = o.inv->profile(*r);
      fmt::print("{}: imported ICCID {} type {}\n", f.string(), *r,
                 rec && *rec ? (*rec)->profile_type : std::string("?"));
      ++imported;
    } else if (sm::is(r.error(), sm::es2codes::kIccidInUse)) {
      fmt::print(stderr, "{}: duplicate: {}\n", f.string(), r.error().message);
      ++duplicates;
    } else {
      fmt::print(stderr, "{}: rejected: {}\n", f.string(), r.error().message);
      ++rejected;
    }
  }
  fmt::print("{} imported, {} duplicate, {} rejected\n", imported, duplicates, rejected);
  rsp::cli::exit_with(rejected > 0 || files.empty() ? 1 : 0);
}

void run_list(const std::string& db, const std::string& op) {
  sm::SystemClock clock;
  auto o = open_inventory(db, clock);
  auto list = o.inv->list_profiles(op.empty() ? std::nullopt : std::optional<std::string>(op));
  if (!list) fail(describe(list.error()));
  // ON EUICC: the state its eUICC's signed notifications last reported
  // (installed, enabled, disabled, deleted), "-" before the installation.
  fmt::print("{:<22} {:<20} {:<12} {:<10} {}\n", "ICCID", "TYPE", "STATE", "ON EUICC", "OPERATOR");
  for (const auto& p : *list)
    fmt::print("{:<22} {:<20} {:<12} {:<10} {}\n", p.iccid, p.profile_type, sm::to_string(p.state),
               p.card_state.empty() ? "-" : p.card_state, p.operator_name);
  fmt::print("{} profile(s)\n", list->size());
  rsp::cli::exit_with(0);
}


std::string describe(const sm::TransitionRecord& t) {
  return fmt::format("{}  {} -> {}{}  {}", sm::utc_timestamp(t.at), t.from ? sm::to_string(*t.from) : "-", sm::to_string(t.to),
                     t.order_id ? fmt::format("  order {}", *t.order_id) : std::string(), t.cause);
}

void run_history(const std::string& db, const std::string& iccid) {
  sm::SystemClock clock;
  auto o = open_inventory(db, clock);
  auto p = o.inv->profile(iccid);
  if (!p) fail(describe(p.error()));
  if (!*p) fail("unknown ICCID " + iccid);
  auto h = o.inv->history(iccid);
  if (!h) fail(describe(h.error()));
  fmt::print("ICCID {} ({}, operator {}): {}\n", iccid, (**p).profile_type, (**p).operator_name,
             sm::to_string((**p).state));
  for (const auto& t : *h) fmt::print("  {}\n", describe(t));
  rsp::cli::exit_with(0);
}

struct ReinstateArgs {
  std::string db, iccid, reason;
  bool not_on_any_card = false;
};

void run_reinstate(const ReinstateArgs& a) {
  // The SM-DP+ cannot know whether a card holds the profile once its Bound
  // Profile Package was issued; only the operator can say it is on none.
  if (!a.not_on_any_card)
    fail("reinstating needs --not-on-any-card: the operator's statement that the profile is installed on no "
         "eUICC (its bound profile package was issued, so it may be on the card it went to)");
  if (a.reason.empty()) fail("reinstating needs --reason: why the profile is known to be on no eUICC");
  sm::SystemClock clock;
  auto o = open_inventory(a.db, clock);
  auto t = o.inv->reinstate_profile(a.iccid, a.reason);
  if (!t) fail("ICCID " + a.iccid + " not reinstated: " + describe(t.error()));
  fmt::print("ICCID {} reinstated; recorded in its history:\n  {}\n", a.iccid, describe(*t));
  rsp::cli::exit_with(0);
}

struct OrderArgs {
  std::string db, op, iccid, type, eid, cc_file, address, qr_png, matching_id;
  int cc_attempts = 3;
};

void run_order(const OrderArgs& a) {
  if (a.iccid.empty() == a.type.empty()) fail("give exactly one of --iccid and --type");
  std::optional<std::string> cc;
  if (!a.cc_file.empty()) {
    std::string error;
    cc = rsp::cli::read_secret_line(a.cc_file, error);
    if (!cc) fail(error);
  }
  sm::SystemClock clock;
  auto o = open_inventory(a.db, clock);
  sm::Es2Service es2(o.inv, sm::Es2Config{a.address, a.cc_attempts}, rsp::crypto::system_random());
  auto opt = [](const std::string& s) { return s.empty() ? std::nullopt : std::optional<std::string>(s); };
  auto iccid = es2.download_order(a.op, {opt(a.eid), opt(a.iccid), opt(a.type)});
  if (!iccid) fail("DownloadOrder: " + describe(iccid.error()));
  sm::ConfirmOrderRequest cr;
  cr.iccid = *iccid;
  cr.eid = opt(a.eid);
  cr.matching_id = opt(a.matching_id);
  cr.confirmation_code = cc;
  cr.release_flag = true;
  auto conf = es2.confirm_order(a.op, cr);
  if (!conf) {
    // Put the profile back rather than leave it reserved by a failed order.
    (void)es2.cancel_order(a.op, {*iccid, std::nullopt, std::nullopt, sm::FinalProfileStatus::Available});
    fail("ConfirmOrder: " + describe(conf.error()));
  }
  std::string error;
  if (rsp::cli::print_activation_code(a.address, *iccid, conf->eid, conf->matching_id, cc.has_value(), a.qr_png, error)
          .empty())
    fail(error);
  rsp::cli::exit_with(0);
}

}  // namespace

RSP_COMMAND_GROUP(smdpp_profiles) {
  auto* g = rsp::cli::group_command(app, "smdpp", "SM-DP+ server and inventory");

  auto* profiles = g->add_subcommand("profiles", "The SM-DP+ profile inventory (database)");
  profiles->require_subcommand(1);

  auto ia = std::make_shared<ImportArgs>();
  auto* imp = profiles->add_subcommand(
      "import",
      "Import SAIP profile packages (.der files, or folders of them); the ICCID comes from each ProfileHeader. "
      "Exit 1 when any file is rejected; duplicates are reported and skipped");
  imp->add_option("PATH", ia->paths, "Profile package files or folders")->required();
  imp->add_option("--operator", ia->op, "Owning operator")->required();
  imp->add_option("--type", ia->type, "Profile type (default: the header's profileType, else 'default')");
  imp->add_option("--db", ia->db, "SM-DP+ database: SQLite file (created when missing) or postgresql:// URL")->required();
  imp->add_option("--service-provider", ia->sp_name, "Service provider name shown to the user (default: operator)");
  imp->add_option("--profile-name", ia->profile_name, "Profile name shown to the user (default: type)");
  imp->add_option("--kek-file", ia->kek_file,
                  "Key-encryption key file (0600) the packages are stored encrypted under (default for a SQLite "
                  "database: DB.kek, made on first use; required with a postgresql:// URL)");
  imp->callback([ia] { run_import(*ia); });

  auto list_db = std::make_shared<std::string>();
  auto list_op = std::make_shared<std::string>();
  auto* list = profiles->add_subcommand("list", "List profiles: ICCID, type, state, state on the eUICC after the download, operator");
  list->add_option("--db", *list_db, "SM-DP+ database: SQLite file or postgresql:// URL")->required();
  list->add_option("--operator", *list_op, "Only this operator's profiles");
  list->callback([list_db, list_op] { run_list(*list_db, *list_op); });

  auto history_db = std::make_shared<std::string>();
  auto history_iccid = std::make_shared<std::string>();
  auto* history = profiles->add_subcommand("history", "A profile's state and every recorded transition with its cause");
  history->add_option("--db", *history_db, "SM-DP+ database: SQLite file or postgresql:// URL")->required();
  history->add_option("--iccid", *history_iccid, "The profile")->required();
  history->callback([history_db, history_iccid] { run_history(*history_db, *history_iccid); });

  auto ra = std::make_shared<ReinstateArgs>();
  auto* reinstate = profiles->add_subcommand(
      "reinstate",
      "Return a profile whose bound profile package was issued (downloaded or error) to the available profiles, on "
      "the operator's statement that it is installed on no eUICC; the statement and reason go into its history. "
      "ES2+ CancelOrder cannot do this once a package was issued");
  reinstate->add_option("--db", ra->db, "SM-DP+ database: SQLite file or postgresql:// URL")->required();
  reinstate->add_option("--iccid", ra->iccid, "The profile")->required();
  reinstate->add_flag("--not-on-any-card", ra->not_on_any_card,
                      "State that the profile is installed on no eUICC (required)");
  reinstate->add_option("--reason", ra->reason, "Why it is known to be on no eUICC (required, recorded)");
  reinstate->callback([ra] { run_reinstate(*ra); });

  auto oa = std::make_shared<OrderArgs>();
  auto* order = g->add_subcommand(
      "order", "Order a profile (ES2+ DownloadOrder + ConfirmOrder with release) and print its activation code and QR");
  order->add_option("--db", oa->db, "SM-DP+ database: SQLite file or postgresql:// URL")->required();
  order->add_option("--operator", oa->op, "Ordering operator")->required();
  order->add_option("--iccid", oa->iccid, "This profile");
  order->add_option("--type", oa->type, "Any available profile of this type");
  order->add_option("--eid", oa->eid, "Bind the order to this eUICC (32 digits)");
  order->add_option("--cc-file", oa->cc_file,
                    "File whose first line is the confirmation code the user must enter, '-' for standard input "
                    "(only its hash is stored)");
  order->add_option("--cc-attempts", oa->cc_attempts,
                    "Wrong confirmation codes allowed before the order is blocked (default 3)")
      ->check(CLI::Range(1, 100));
  order->add_option("--matching-id", oa->matching_id, "Matching ID (default: generated)");
  order->add_option("--address", oa->address, "SM-DP+ address (FQDN) for the activation code")->required();
  order->add_option("--qr-png", oa->qr_png, "Also write the QR code as a PNG file");
  order->callback([oa] { run_order(*oa); });
}
