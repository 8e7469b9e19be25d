// `rsp profile inspect`: a human summary of an unprotected profile package
// (SAIP UPP, e.g. a TS.48 test profile).

#include <fmt/core.h>

#include <map>
#include <string>
#include <vector>

#include "command.hpp"
#include "rsp/asn1/runtime.hpp"
#include "rsp/asn1/upp.hpp"
#include "rsp/common/file.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/smdpp/inventory.hpp"

namespace {

namespace saip = rsp::asn1::saip;

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "rsp profile: {}\n", message);
  rsp::cli::exit_with(1);
}

/// Names of the members present in a SEQUENCE of optional NULLs (ServicesList).
std::string present_names(const rsp::asn1::Json& j) {
  std::string out;
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) out += (out.empty() ? "" : ", ") + it.key();
  return out;
}

void inspect(const std::string& file) {
  auto data = rsp::read_file(file);
  if (!data) fail(data.error().message);
  bool ber = false;
  auto elements = rsp::asn1::decode_profile_package(*data);
  if (!elements) {
    elements = rsp::asn1::decode_profile_package(*data, rsp::asn1::DecodeOptions{rsp::tlv::Mode::Ber});
    ber = true;
  }
  if (!elements) fail(file + ": not a SAIP profile package: " + elements.error().to_string());
  if (elements->empty() || !elements->front().header()) fail(file + ": the package does not start with a ProfileHeader");
  const saip::ProfileHeader& h = *elements->front().header();

  fmt::print("Profile package {} ({} bytes, {})\n", file, data->size(), ber ? "BER" : "DER");
  const std::string iccid = rsp::messages::iccid_to_digits(h.iccid);
  fmt::print("  ICCID:              {}\n", iccid.empty() ? rsp::to_hex(h.iccid) + " (not BCD)" : iccid);
  fmt::print("  Profile type:       {}\n", h.profileType.value_or("(none)"));
  fmt::print("  Package version:    {}.{}\n", static_cast<int>(h.major_version), static_cast<int>(h.minor_version));
  fmt::print("  Mandatory services: {}\n", present_names(rsp::asn1::to_json(h.eUICC_Mandatory_services)));
  fmt::print("  Mandatory GFSTEs:   {}\n", h.eUICC_Mandatory_GFSTEList.size());
  if (h.eUICC_Mandatory_AIDs)
    for (const auto& a : *h.eUICC_Mandatory_AIDs)
      fmt::print("  Mandatory AID:      {} version {}\n", rsp::to_hex(a.aid), rsp::to_hex(a.version));
  if (h.connectivityParameters) fmt::print("  Connectivity parameters: {} bytes\n", h.connectivityParameters->size());
  if (!elements->back().end()) fmt::print("  WARNING: the package does not finish with an End element\n");

  std::vector<std::string> order;
  std::map<std::string, int> counts;
  for (const auto& pe : *elements) {
    const std::string name = pe.alternative_name();
    if (counts[name]++ == 0) order.push_back(name);
  }
  fmt::print("Profile elements ({}):\n", elements->size());
  for (const auto& n : order) fmt::print("  {:<22} {}\n", n, counts[n]);

  std::string naas;
  for (const char* n : {"usim", "opt-usim", "isim", "opt-isim", "csim", "opt-csim", "iot", "opt-iot"})
    if (counts.count(n)) naas += (naas.empty() ? "" : ", ") + std::string(n);
  fmt::print("NAAs: {}\n", naas.empty() ? "(none)" : naas);
  int apps = 0;
  for (const auto& pe : *elements) {
    if (const auto* app = pe.application()) {
      ++apps;
      if (app->loadBlock) fmt::print("Application load package {}\n", rsp::to_hex(app->loadBlock->loadPackageAID));
      if (app->instanceList)
        for (const auto& i : *app->instanceList)
          fmt::print("  instance {} (class {}, package {})\n", rsp::to_hex(i.instanceAID), rsp::to_hex(i.classAID),
                     rsp::to_hex(i.applicationLoadPackageAID));
    }
  }
  if (apps == 0) fmt::print("Applications: (none)\n");
  fmt::print("Security domains: {}\n", counts.count("securityDomain") ? counts["securityDomain"] : 0);
}

}  // namespace

RSP_COMMAND_GROUP(profile) {
  auto* grp = rsp::cli::group_command(app, "profile", "SAIP profile packages");
  auto file = std::make_shared<std::string>();
  auto* ins = grp->add_subcommand("inspect", "Summarise a profile package: header, ICCID, type, elements, NAAs, applications");
  ins->add_option("FILE", *file, "Profile package (.der)")->required();
  ins->callback([file] {
    inspect(*file);
    rsp::cli::exit_with(0);
  });
}
