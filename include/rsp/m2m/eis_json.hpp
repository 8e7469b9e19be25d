#pragma once
/// The JSON binding of the EIS (eis.hpp): camelCase of SGP.02's element
/// names. Parsing is strict, for input from the network: an unknown member,
/// a missing mandatory one, a wrong type, a value out of its range or of the
/// wrong length is an error naming the member's path ("isdR.scp80KeySets[0].kic")
/// and never quoting a value (a value may be a key).
///
/// Encoding can leave the keys out: an MNO (ES4 GetEIS) never sees them.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rsp/common/expected.hpp"
#include "rsp/m2m/eis.hpp"

namespace rsp::m2m {

struct EisJsonError {
  std::string path;     ///< the offending member, "" for the document
  std::string message;  ///< what is wrong with it, never its value
};

/// Names as the JSON carries them: "Created"/"Disabled"/"Enabled";
/// "DISABLE"/"DELETE"; "Not allowed"/"Auto-delete" (SGP.02 §2.4.4).
std::string_view state_name(ProfileState s);
expected<ProfileState, std::string> parse_state(std::string_view name);

/// Whether encoding includes the ISD-R's SCP80 key values and SCP81 key.
enum class Keys { Include, Omit };

nlohmann::json eis_to_json(const Eis& eis, Keys keys);
nlohmann::json profile_to_json(const ProfileInfo& p);
expected<Eis, EisJsonError> eis_from_json(const nlohmann::json& j);
expected<ProfileInfo, EisJsonError> profile_from_json(const nlohmann::json& j, const std::string& path);
expected<std::vector<PolicyRule>, EisJsonError> pol2_from_json(const nlohmann::json& j, const std::string& path);
nlohmann::json pol2_to_json(const std::vector<PolicyRule>& rules);
expected<SubscriptionAddress, EisJsonError> subscription_address_from_json(const nlohmann::json& j,
                                                                           const std::string& path);
nlohmann::json subscription_address_to_json(const SubscriptionAddress& a);
/// The ISD-R's keys alone (SCP80 key sets and SCP81 PSK), as the registry
/// seals them; and back into `isd_r`, whose AID is kept.
nlohmann::json isdr_keys_to_json(const IsdR& isd_r);
expected<void, EisJsonError> isdr_keys_from_json(const nlohmann::json& j, IsdR& isd_r);

/// True for 18..20 decimal digits.
bool is_iccid(std::string_view iccid);

}  // namespace rsp::m2m
