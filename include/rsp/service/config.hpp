#pragma once
/// A server role's configuration: a JSON object in a file, then environment
/// overrides. Each key `<key>` may also come from the variable
/// `<PREFIX><KEY>` (the key in upper case, e.g. RSP_SMDPP_ADMIN_PORT for
/// admin_port with prefix "RSP_SMDPP_"), which wins over the file; command
/// line flags, applied by the caller afterwards, win over both.
///
/// Errors name the key or variable and never quote a value (a value may be a
/// secret).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "rsp/common/expected.hpp"

namespace rsp::service {

/// One configuration key and where its value goes (exactly one target).
struct ConfigKey {
  const char* name;
  std::string* text = nullptr;
  bool* flag = nullptr;
  std::int64_t* number = nullptr;
  nlohmann::json* json = nullptr;  ///< any JSON; from the environment, the variable's text parsed as JSON
};

/// Applies the keys of the JSON object in `file`; an unknown key or a value of
/// the wrong type is an error.
expected<void, std::string> apply_config_file(const std::vector<ConfigKey>& keys, const std::filesystem::path& file);
/// The same from a parsed JSON value (`where` names it in errors).
expected<void, std::string> apply_config_json(const std::vector<ConfigKey>& keys, const nlohmann::json& json,
                                              const std::string& where);
/// Applies `<prefix><KEY>` for every key whose variable is set.
expected<void, std::string> apply_environment(const std::vector<ConfigKey>& keys, const std::string& prefix);

/// "1/true/yes/on" and "0/false/no/off/" (any case).
std::optional<bool> parse_bool(std::string text);
/// A whole decimal integer.
std::optional<std::int64_t> parse_int(const std::string& text);
/// "host:port", "[v6]:port" or ":port" (host 0.0.0.0), port 0..65535.
expected<std::pair<std::string, int>, std::string> split_listen(const std::string& listen);

}  // namespace rsp::service
