#pragma once
/// The HTTP paths of the SM-SR's ES1 and ES4 functions in this project's JSON
/// binding (docs/smsr-openapi.yaml), with each function's name as SGP.02
/// writes it (v4.2 §5.3 ES1, §5.4 ES4), used as metric label and in the
/// access log. SGP.02 binds these functions to SOAP (§6); the JSON binding
/// follows SGP.22 §6.5's style. Every client and server reads this table.

#include <string_view>

namespace rsp::m2m {

struct FunctionPath {
  std::string_view path;
  std::string_view name;
};

/// ES1 (EUM -> SM-SR), SGP.02 §5.3.1.
inline constexpr FunctionPath kEs1RegisterEis{"/gsma/m2m/es1/registerEIS", "ES1.RegisterEIS"};

/// ES4 (MNO -> SM-SR), SGP.02 §5.4.
enum class Es4Function {
  GetEis,
  AuditEis,
  EnableProfile,
  DisableProfile,
  DeleteProfile,
  UpdatePolicyRules,
  UpdateSubscriptionAddress,
  SetFallbackAttribute,
  SetEmergencyProfileAttribute,
  GetOperation,
};

/// In the order of Es4Function.
inline constexpr FunctionPath kEs4Functions[] = {
    {"/gsma/m2m/es4/getEIS", "ES4.GetEIS"},
    {"/gsma/m2m/es4/auditEIS", "ES4.AuditEIS"},
    {"/gsma/m2m/es4/enableProfile", "ES4.EnableProfile"},
    {"/gsma/m2m/es4/disableProfile", "ES4.DisableProfile"},
    {"/gsma/m2m/es4/deleteProfile", "ES4.DeleteProfile"},
    {"/gsma/m2m/es4/updatePolicyRules", "ES4.UpdatePolicyRules"},
    {"/gsma/m2m/es4/updateSubscriptionAddress", "ES4.UpdateSubscriptionAddress"},
    {"/gsma/m2m/es4/setFallbackAttribute", "ES4.SetFallbackAttribute"},
    {"/gsma/m2m/es4/setEmergencyProfileAttribute", "ES4.SetEmergencyProfileAttribute"},
    /// Not an SGP.02 function: the state of an operation accepted earlier
    /// (SGP.02 delivers it by callback; until the callbacks come, it is read).
    {"/gsma/m2m/es4/getOperation", "ES4.GetOperation"},
};

inline constexpr const FunctionPath& es4_function(Es4Function f) { return kEs4Functions[static_cast<int>(f)]; }

}  // namespace rsp::m2m
