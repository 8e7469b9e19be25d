#pragma once
/// ES2+ caller authentication. SGP.22 §2.6.6 carries ES2+ over mutually
/// authenticated TLS: an operator is configured by its client certificate
/// (pinned leaf), or by the root that issued it and the subject it carries,
/// and identified from the handshake. A secret API key per operator, sent as
/// "Authorization: Bearer <key>", stays as an alternative. The configuration
/// and both mechanisms live in the service kit (rsp/service/caller_config.hpp);
/// the SM-DP+ names its callers operators.
///
/// The authenticated name is the only functionRequesterIdentifier the caller
/// may use (es2_json.hpp).

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rsp/service/caller_config.hpp"

namespace rsp::smdpp {

using service::load_api_key_hash;
using OperatorCredential = service::CallerCredential;
using OperatorAuthenticator = service::CallerAuthenticator;

/// The `operators` configuration (service::parse_caller_config).
inline expected<std::vector<OperatorCredential>, std::string> parse_operator_config(
    const nlohmann::json& operators, const std::filesystem::path& base_dir = {}) {
  return service::parse_caller_config(operators, base_dir, "operators");
}

}  // namespace rsp::smdpp
