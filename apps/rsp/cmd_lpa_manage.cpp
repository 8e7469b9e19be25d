// `rsp lpa chip|profile|notification`: the eUICC as lpac users know it, over
// the typed ES10 client (SGP.22 §5.7): chip facts, the default SM-DP+, the
// memory reset; the profile list, enable, disable, delete and nickname; the
// notifications the eUICC keeps, listed, sent or removed.

#include <fmt/core.h>

#include <CLI/CLI.hpp>

#include "command.hpp"
#include "lpa_cli.hpp"
#include "rsp/lpa/es10_client.hpp"
#include "rsp/lpa/explain.hpp"
#include "rsp/lpa/profile_ref.hpp"
#include "rsp/messages/iccid.hpp"

namespace rsp::cli::lpa_cli {
namespace {

namespace sg = asn1::sgp22;
using nlohmann::json;

template <class T>
T es10(const Globals& g, expected<T, lpa::Es10Error> r, const char* function) {
  if (!r) {
    fail(g, fmt::format("ES10 {}: {}", function, r.error().message),
         {{"function", function}, {"sw", fmt::format("{:04X}", r.error().sw)}});
  }
  return std::move(*r);
}

void check_result(const Globals& g, lpa::EuiccFunction f, std::int64_t code, const char* what) {
  if (code == 0) return;
  fail(g, std::string(what) + " failed: " + lpa::explain_euicc(f, code), {{"euicc_code", code}});
}

std::string version(const Bytes& v) {
  // VersionType (SGP.22 §5.7.8): major, minor, revision in three octets.
  if (v.size() != 3) return to_hex(v);
  return fmt::format("{}.{}.{}", v[0], v[1], v[2]);
}

/// The named bits of a BIT STRING that are set.
json bit_names(const asn1::BitString& b, std::initializer_list<const char*> names) {
  json out = json::array();
  std::size_t i = 0;
  for (const char* n : names) {
    if (i < b.bit_count() && b.test(i)) out.push_back(n);
    ++i;
  }
  return out;
}

/// extCardResource (SGP.22 §5.7.8, coded as ETSI TS 102 226 §8.2.1.3.2's
/// Extended Card Resources Information): '81' installed applications,
/// '82' free non-volatile memory, '83' free volatile memory, each an
/// unsigned big-endian number. Unknown tags are skipped.
json card_resources(const Bytes& ext) {
  json out = json::object();
  std::size_t at = 0;
  while (at + 2 <= ext.size()) {
    const std::uint8_t tag = ext[at], len = ext[at + 1];
    if (len > 8 || at + 2 + len > ext.size()) break;
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < len; ++i) value = value << 8 | ext[at + 2 + i];
    if (tag == 0x81) out["installed_applications"] = value;
    if (tag == 0x82) out["free_nvm"] = value;
    if (tag == 0x83) out["free_ram"] = value;
    at += 2 + len;
  }
  return out;
}

json hex_list(const std::vector<asn1::pkix::SubjectKeyIdentifier>& ids) {
  json out = json::array();
  for (const auto& id : ids) out.push_back(to_hex(id));
  return out;
}

void chip_info(const Globals& g) {
  auto euicc = open(g);
  lpa::Es10Client c(euicc->es10());
  const auto eid = es10(g, c.get_eid(), "GetEID");
  const auto addresses = es10(g, c.get_euicc_configured_addresses(), "GetEuiccConfiguredAddresses");
  const auto info = es10(g, c.get_euicc_info2(), "GetEUICCInfo2");
  static const char* kCategories[] = {"other", "basic", "medium", "contactless"};
  const json resources = card_resources(info.extCardResource);
  json data{
      {"eid", to_hex(eid.eidValue)},
      {"default_smdp", addresses.defaultDpAddress.value_or("")},
      {"root_smds", addresses.rootDsAddress},
      {"euicc_info2",
       {{"profile_version", version(info.profileVersion)},
        {"svn", version(info.svn)},
        {"firmware_version", version(info.euiccFirmwareVer)},
        {"pp_version", version(info.ppVersion)},
        {"globalplatform_version", info.globalplatformVersion ? version(*info.globalplatformVersion) : ""},
        {"javacard_version", info.javacardVersion ? version(*info.javacardVersion) : ""},
        {"card_resources", resources},
        {"ci_pkids_for_verification", hex_list(info.euiccCiPKIdListForVerification)},
        {"ci_pkids_for_signing", hex_list(info.euiccCiPKIdListForSigning)},
        {"rsp_capabilities",
         bit_names(info.rspCapability, {"additionalProfile", "crlSupport", "rpmSupport", "testProfileSupport"})},
        {"uicc_capabilities",
         bit_names(info.uiccCapability,
                   {"contactlessSupport", "usimSupport", "isimSupport", "csimSupport", "akaMilenage", "akaCave",
                    "akaTuak128", "akaTuak256", "rfu1", "rfu2", "gbaAuthenUsim", "gbaAuthenISim", "mbmsAuthenUsim",
                    "eapClient", "javacard", "multos", "multipleUsimSupport", "multipleIsimSupport",
                    "multipleCsimSupport"})},
        {"category", info.euiccCategory && *info.euiccCategory >= 0 && *info.euiccCategory <= 3
                         ? kCategories[*info.euiccCategory]
                         : ""},
        {"sas_accreditation_number", info.sasAcreditationNumber}}}};
  std::string h = fmt::format("EID                {}\n", to_hex(eid.eidValue));
  h += fmt::format("default SM-DP+     {}\n", addresses.defaultDpAddress.value_or("(none)"));
  h += fmt::format("root SM-DS         {}\n", addresses.rootDsAddress);
  h += fmt::format("SGP.22 version     {} (profile package {}, firmware {})\n", version(info.svn),
                   version(info.profileVersion), version(info.euiccFirmwareVer));
  if (resources.contains("free_nvm")) {
    h += fmt::format("free memory        {} bytes non-volatile", resources["free_nvm"].get<std::uint64_t>());
    if (resources.contains("free_ram")) h += fmt::format(", {} bytes volatile", resources["free_ram"].get<std::uint64_t>());
    h += "\n";
  }
  const auto join = [](const json& a) {
    std::string s;
    for (const auto& e : a) s += (s.empty() ? "" : ", ") + e.get<std::string>();
    return s.empty() ? std::string("(none)") : s;
  };
  const auto& i2 = data["euicc_info2"];
  h += fmt::format("CIs (verification) {}\n", join(i2["ci_pkids_for_verification"]));
  h += fmt::format("CIs (signing)      {}\n", join(i2["ci_pkids_for_signing"]));
  h += fmt::format("RSP capabilities   {}\n", join(i2["rsp_capabilities"]));
  h += fmt::format("UICC capabilities  {}\n", join(i2["uicc_capabilities"]));
  if (!info.sasAcreditationNumber.empty()) h += fmt::format("SAS accreditation  {}\n", info.sasAcreditationNumber);
  done(g, data, h);
}

void chip_default_smdp(const Globals& g, const std::string& address) {
  auto euicc = open(g);
  sg::SetDefaultDpAddressRequest req;
  req.defaultDpAddress = address;
  const auto r = es10(g, lpa::Es10Client(euicc->es10()).set_default_dp_address(req), "SetDefaultDpAddress");
  check_result(g, lpa::EuiccFunction::SetDefaultDpAddress, r.setDefaultDpAddressResult, "SetDefaultDpAddress");
  done(g, json{{"default_smdp", address}},
       address.empty() ? "default SM-DP+ address removed\n" : fmt::format("default SM-DP+ is now {}\n", address));
}

void chip_purge(const Globals& g, bool yes) {
  if (!yes) fail(g, "chip purge deletes every operational and test profile: confirm with --yes");
  auto euicc = open(g);
  sg::EuiccMemoryResetRequest req;
  using V = sg::EuiccMemoryResetRequest::resetOptions_values;
  // SGP.22 §5.7.19 / §3.3.1: operational and field-loaded test profiles, and the default SM-DP+ address.
  req.resetOptions = asn1::BitString::from_bits({V::deleteOperationalProfiles, V::deleteFieldLoadedTestProfiles,
                                                 V::resetDefaultSmdpAddress});
  const auto r = es10(g, lpa::Es10Client(euicc->es10()).euicc_memory_reset(req), "eUICCMemoryReset");
  using R = sg::EuiccMemoryResetResponse::resetResult_values;
  if (r.resetResult != R::ok && r.resetResult != R::nothingToDelete) {
    check_result(g, lpa::EuiccFunction::MemoryReset, r.resetResult, "eUICCMemoryReset");
  }
  done(g, json{{"nothing_to_delete", r.resetResult == R::nothingToDelete}},
       r.resetResult == R::nothingToDelete ? "the eUICC held nothing to delete\n"
                                           : "eUICC memory reset: profiles deleted, default SM-DP+ cleared\n");
}

const char* state_name(const sg::ProfileInfo& p) {
  if (!p.profileState) return "?";
  return *p.profileState == sg::ProfileState_values::enabled ? "enabled" : "disabled";
}

const char* class_name(sg::ProfileClass c) {
  switch (c) {
    case sg::ProfileClass_values::test: return "test";
    case sg::ProfileClass_values::provisioning: return "provisioning";
    case sg::ProfileClass_values::operational: return "operational";
    default: return "?";
  }
}

void profile_list(const Globals& g) {
  auto euicc = open(g);
  const auto r = es10(g, lpa::Es10Client(euicc->es10()).get_profiles_info(), "GetProfilesInfo");
  const auto* list = r.profileInfoListOk();
  if (!list) fail(g, "GetProfilesInfo: the eUICC answered an error", {{"euicc_code", 127}});
  json data = json::array();
  std::string h = fmt::format("{:<20} {:<8} {:<12} {:<32} {:<20} {}\n", "ICCID", "STATE", "CLASS", "ISD-P AID",
                              "NICKNAME", "PROVIDER / NAME");
  for (const auto& p : *list) {
    const std::string iccid = p.iccid ? messages::iccid_to_digits(*p.iccid) : "";
    const std::string aid = p.isdpAid ? to_hex(*p.isdpAid) : "";
    data.push_back({{"iccid", iccid},
                    {"isdp_aid", aid},
                    {"state", state_name(p)},
                    {"class", class_name(p.profileClass_or_default())},
                    {"nickname", p.profileNickname.value_or("")},
                    {"service_provider_name", p.serviceProviderName.value_or("")},
                    {"profile_name", p.profileName.value_or("")}});
    h += fmt::format("{:<20} {:<8} {:<12} {:<32} {:<20} {} / {}\n", iccid, state_name(p),
                     class_name(p.profileClass_or_default()), aid, p.profileNickname.value_or(""),
                     p.serviceProviderName.value_or(""), p.profileName.value_or(""));
  }
  if (list->empty()) h = "no profiles on the eUICC\n";
  done(g, data, h);
}

struct ChangeArgs {
  std::string id;
  bool no_refresh = false;
  bool no_notify = false;
};

enum class Change { Enable, Disable, Delete };

/// After a change the eUICC holds a signed notification for the profile's
/// SM-DP+ (SGP.22 §3.2.1-§3.2.3, when its notificationConfigurationInfo asks
/// for one); it is sent now with any others still pending, and kept on the
/// eUICC for a later `notification process` when it cannot be delivered.
lpa::PendingNotificationsReport notify(const Globals& g, LpaEuicc& euicc) {
  auto transport = try_es9(g, euicc);
  if (!transport) return {{}, "not sent: " + transport.error()};
  return lpa::send_pending_notifications(euicc.es10(), **transport);
}

void profile_change(const Globals& g, Change change, const ChangeArgs& a) {
  auto ref = lpa::parse_profile_ref(a.id);
  if (!ref) fail(g, ref.error());
  auto euicc = open(g);
  lpa::Es10Client c(euicc->es10());
  const bool by_iccid = ref->kind == lpa::ProfileRef::Kind::Iccid;
  const char* verb = "";
  switch (change) {
    case Change::Enable: {
      sg::EnableProfileRequest req;
      if (by_iccid) req.profileIdentifier.set_iccid(ref->value);
      else req.profileIdentifier.set_isdpAid(ref->value);
      // refreshFlag (SGP.22 §5.7.16): true asks the eUICC to REFRESH the
      // device (the modem reloads the new profile); --no-refresh for a device
      // that resets the card itself.
      req.refreshFlag = !a.no_refresh;
      const auto r = es10(g, c.enable_profile(req), "EnableProfile");
      check_result(g, lpa::EuiccFunction::EnableProfile, r.enableResult, "EnableProfile");
      verb = "enabled";
      break;
    }
    case Change::Disable: {
      sg::DisableProfileRequest req;
      if (by_iccid) req.profileIdentifier.set_iccid(ref->value);
      else req.profileIdentifier.set_isdpAid(ref->value);
      req.refreshFlag = !a.no_refresh;  // as for EnableProfile (§5.7.17)
      const auto r = es10(g, c.disable_profile(req), "DisableProfile");
      check_result(g, lpa::EuiccFunction::DisableProfile, r.disableResult, "DisableProfile");
      verb = "disabled";
      break;
    }
    case Change::Delete: {
      sg::DeleteProfileRequest req;
      if (by_iccid) req.set_iccid(ref->value);
      else req.set_isdpAid(ref->value);
      const auto r = es10(g, c.delete_profile(req), "DeleteProfile");
      check_result(g, lpa::EuiccFunction::DeleteProfile, r.deleteResult, "DeleteProfile");
      verb = "deleted";
      break;
    }
  }
  std::string h = fmt::format("profile {} {}\n", a.id, verb);
  json data{{"profile", a.id}, {"result", verb}};
  if (!a.no_notify) {
    const auto report = notify(g, *euicc);
    data["notifications"] = to_json(report);
    h += to_text(report);
  }
  done(g, data, h);
}

void profile_nickname(const Globals& g, const std::string& id, const std::string& name) {
  auto ref = lpa::parse_profile_ref(id);
  if (!ref) fail(g, ref.error());
  if (ref->kind != lpa::ProfileRef::Kind::Iccid) fail(g, "SetNickname names the profile by its ICCID (SGP.22 §5.7.21)");
  // profileNickname is UTF8String (SIZE(0..64)) (§5.7.21).
  if (name.size() > 64) fail(g, "a nickname has at most 64 bytes");
  auto euicc = open(g);
  sg::SetNicknameRequest req;
  req.iccid = ref->value;
  req.profileNickname = name;
  const auto r = es10(g, lpa::Es10Client(euicc->es10()).set_nickname(req), "SetNickname");
  check_result(g, lpa::EuiccFunction::SetNickname, r.setNicknameResult, "SetNickname");
  done(g, json{{"iccid", id}, {"nickname", name}}, fmt::format("profile {} is now called \"{}\"\n", id, name));
}

const char* event_name(const sg::NotificationEvent& e) {
  using V = sg::NotificationEvent_values;
  if (e.bit_count() > V::notificationInstall && e.test(V::notificationInstall)) return "install";
  if (e.bit_count() > V::notificationEnable && e.test(V::notificationEnable)) return "enable";
  if (e.bit_count() > V::notificationDisable && e.test(V::notificationDisable)) return "disable";
  if (e.bit_count() > V::notificationDelete && e.test(V::notificationDelete)) return "delete";
  return "?";
}

void notification_list(const Globals& g) {
  auto euicc = open(g);
  const auto r = es10(g, lpa::Es10Client(euicc->es10()).list_notification(), "ListNotification");
  const auto* list = r.notificationMetadataList();
  if (!list) fail(g, "ListNotification: the eUICC answered an error", {{"euicc_code", 127}});
  json data = json::array();
  std::string h = fmt::format("{:<6} {:<8} {:<20} {}\n", "SEQ", "EVENT", "ICCID", "ADDRESS");
  for (const auto& n : *list) {
    const std::string iccid = n.iccid ? messages::iccid_to_digits(*n.iccid) : "";
    data.push_back({{"seq", n.seqNumber},
                    {"event", event_name(n.profileManagementOperation)},
                    {"iccid", iccid},
                    {"address", n.notificationAddress}});
    h += fmt::format("{:<6} {:<8} {:<20} {}\n", n.seqNumber, event_name(n.profileManagementOperation), iccid,
                     n.notificationAddress);
  }
  if (list->empty()) h = "no notifications pending on the eUICC\n";
  done(g, data, h);
}

void notification_process(const Globals& g, const std::vector<std::int64_t>& seqs) {
  auto euicc = open(g);
  auto transport = es9(g, *euicc);
  const auto report = lpa::send_notifications(euicc->es10(), *transport, seqs);
  if (!report.error.empty()) fail(g, report.error);
  std::size_t kept = 0;
  for (const auto& n : report.notifications) kept += n.removed ? 0 : 1;
  if (kept != 0) {
    if (!g.json) fmt::print("{}", to_text(report));
    json e = to_json(report);
    fail(g, fmt::format("{} of {} notification(s) not delivered; they stay on the eUICC for the next run", kept,
                        report.notifications.size()),
         e);
  }
  done(g, to_json(report),
       report.notifications.empty() ? "no notifications pending on the eUICC\n" : to_text(report));
}

void notification_remove(const Globals& g, const std::vector<std::int64_t>& seqs) {
  auto euicc = open(g);
  lpa::Es10Client c(euicc->es10());
  json data = json::array();
  std::string h;
  for (const std::int64_t seq : seqs) {
    const auto r = es10(g, c.remove_notification_from_list(seq), "RemoveNotificationFromList");
    check_result(g, lpa::EuiccFunction::RemoveNotification, r.deleteNotificationStatus,
                 fmt::format("RemoveNotificationFromList {}", seq).c_str());
    data.push_back(seq);
    h += fmt::format("notification {} removed (not sent)\n", seq);
  }
  done(g, json{{"removed", data}}, h);
}

}  // namespace

void add_manage_commands(CLI::App& lpa, const std::shared_ptr<Globals>& g) {
  auto group = [&](CLI::App& parent, const char* name, const char* help) {
    auto* sub = parent.add_subcommand(name, help);
    sub->require_subcommand(1);
    sub->fallthrough();
    return sub;
  };
  auto leaf = [&](CLI::App* parent, const char* name, const char* help) {
    auto* sub = parent->add_subcommand(name, help);
    sub->fallthrough();
    return sub;
  };

  auto* chip = group(lpa, "chip", "The eUICC itself");
  leaf(chip, "info", "EID, default SM-DP+, root SM-DS and EUICCInfo2 in words")->callback([g] { chip_info(*g); });
  auto addr = std::make_shared<std::string>();
  auto* dp = leaf(chip, "default-smdp", "Set the default SM-DP+ address (ES10a SetDefaultDpAddress; '' removes it)");
  dp->add_option("address", *addr, "SM-DP+ address")->required();
  dp->callback([g, addr] { chip_default_smdp(*g, *addr); });
  auto yes = std::make_shared<bool>(false);
  auto* purge = leaf(chip, "purge", "Memory reset: delete every operational and test profile (needs --yes)");
  purge->add_flag("--yes", *yes, "Yes, delete them");
  purge->callback([g, yes] { chip_purge(*g, *yes); });

  auto* profile = group(lpa, "profile", "The profiles on the eUICC");
  leaf(profile, "list", "ICCID, state, class, ISD-P AID, nickname, provider and name of each profile")
      ->callback([g] { profile_list(*g); });
  const std::pair<const char*, Change> changes[] = {
      {"enable", Change::Enable}, {"disable", Change::Disable}, {"delete", Change::Delete}};
  for (const auto& [name, change] : changes) {
    auto a = std::make_shared<ChangeArgs>();
    auto* cmd = leaf(profile, name,
                     fmt::format("{} a profile by ICCID or ISD-P AID, then send the notifications pending on the eUICC",
                                 change == Change::Enable    ? "Enable"
                                 : change == Change::Disable ? "Disable"
                                                             : "Delete")
                         .c_str());
    cmd->add_option("id", a->id, "ICCID (digits) or ISD-P AID (hex)")->required();
    if (change != Change::Delete) {
      cmd->add_flag("--no-refresh", a->no_refresh, "refreshFlag false: the device, not the eUICC, resets the card");
    }
    cmd->add_flag("--no-notify", a->no_notify, "Leave the new notification on the eUICC ('notification process' later)");
    cmd->callback([g, a, c = change] { profile_change(*g, c, *a); });
  }
  auto nick = std::make_shared<std::pair<std::string, std::string>>();
  auto* nickname = leaf(profile, "nickname", "Set a profile's nickname (ES10c SetNickname)");
  nickname->add_option("iccid", nick->first, "ICCID")->required();
  nickname->add_option("name", nick->second, "The nickname (at most 64 bytes; '' clears it)")->required();
  nickname->callback([g, nick] { profile_nickname(*g, nick->first, nick->second); });
  add_profile_download(*profile, g);
  add_profile_discovery(*profile, g);

  auto* notification = group(lpa, "notification", "The notifications the eUICC keeps for the SM-DP+s");
  leaf(notification, "list", "Sequence number, event, ICCID and address of each pending notification")
      ->callback([g] { notification_list(*g); });
  auto process_seqs = std::make_shared<std::vector<std::int64_t>>();
  auto* process = leaf(notification, "process",
                       "Send pending notifications (all, or the given sequence numbers) each to its SM-DP+; "
                       "removed from the eUICC only once delivered");
  process->add_option("seq", *process_seqs, "Sequence numbers");
  process->callback([g, process_seqs] { notification_process(*g, *process_seqs); });
  auto remove_seqs = std::make_shared<std::vector<std::int64_t>>();
  auto* remove = leaf(notification, "remove", "Remove notifications from the eUICC without sending them");
  remove->add_option("seq", *remove_seqs, "Sequence numbers")->required();
  remove->callback([g, remove_seqs] { notification_remove(*g, *remove_seqs); });
}

}  // namespace rsp::cli::lpa_cli
