#include "rsp/m2m/es_status.hpp"

namespace rsp::m2m {

namespace {
struct StatusName {
  ExecutionStatus status;
  std::string_view name;
};
/// SGP.02 §5.1.6.1.
constexpr StatusName kStatusNames[] = {
    {ExecutionStatus::ExecutedSuccess, "Executed-Success"},
    {ExecutionStatus::ExecutedWithWarning, "Executed-WithWarning"},
    {ExecutionStatus::Failed, "Failed"},
    {ExecutionStatus::Expired, "Expired"},
};
}  // namespace

std::string_view status_name(ExecutionStatus s) {
  for (const auto& n : kStatusNames)
    if (n.status == s) return n.name;
  return "Failed";
}

std::optional<ExecutionStatus> parse_status(std::string_view name) {
  for (const auto& n : kStatusNames)
    if (n.name == name) return n.status;
  return std::nullopt;
}

}  // namespace rsp::m2m
