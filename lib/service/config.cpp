#include "rsp/service/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "rsp/common/file.hpp"

namespace rsp::service {

std::optional<bool> parse_bool(std::string v) {
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off" || v.empty()) return false;
  return std::nullopt;
}

std::optional<std::int64_t> parse_int(const std::string& v) {
  std::int64_t out = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size()) return std::nullopt;
  return out;
}

expected<void, std::string> apply_config_json(const std::vector<ConfigKey>& keys, const nlohmann::json& json,
                                              const std::string& where) {
  if (!json.is_object()) return unexpected("the configuration " + where + " must be a JSON object");
  for (const auto& item : json.items()) {
    const std::string name = item.key();
    const auto& value = item.value();
    auto it = std::find_if(keys.begin(), keys.end(), [&name](const ConfigKey& k) { return name == k.name; });
    if (it == keys.end()) return unexpected("unknown configuration key '" + name + "' in " + where);
    if (it->text) {
      if (!value.is_string()) return unexpected("configuration key '" + name + "' must be a string");
      *it->text = value.get<std::string>();
    } else if (it->flag) {
      if (!value.is_boolean()) return unexpected("configuration key '" + name + "' must be true or false");
      *it->flag = value.get<bool>();
    } else if (it->json) {
      *it->json = value;
    } else if (it->number) {
      if (!value.is_number_integer()) return unexpected("configuration key '" + name + "' must be an integer");
      *it->number = value.get<std::int64_t>();
    }
  }
  return {};
}

expected<void, std::string> apply_config_file(const std::vector<ConfigKey>& keys, const std::filesystem::path& file) {
  auto data = read_file(file);
  if (!data) return unexpected("cannot read the configuration " + file.string() + ": " + data.error().message);
  auto json = nlohmann::json::parse(data->begin(), data->end(), nullptr, false);
  if (json.is_discarded()) return unexpected("the configuration " + file.string() + " is not valid JSON");
  return apply_config_json(keys, json, file.string());
}

expected<void, std::string> apply_environment(const std::vector<ConfigKey>& keys, const std::string& prefix) {
  for (const auto& k : keys) {
    std::string var = prefix;
    for (const char* p = k.name; *p; ++p) var += static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
    const char* v = std::getenv(var.c_str());
    if (!v) continue;
    if (k.text) {
      *k.text = v;
    } else if (k.flag) {
      auto b = parse_bool(v);
      if (!b) return unexpected(var + " must be true or false");
      *k.flag = *b;
    } else if (k.json) {
      auto j = nlohmann::json::parse(v, nullptr, false);
      if (j.is_discarded()) return unexpected(var + " must be JSON");
      *k.json = std::move(j);
    } else if (k.number) {
      auto n = parse_int(v);
      if (!n) return unexpected(var + " must be an integer");
      *k.number = *n;
    }
  }
  return {};
}

expected<std::pair<std::string, int>, std::string> split_listen(const std::string& listen) {
  std::string host;
  std::string port_text;
  if (!listen.empty() && listen.front() == '[') {
    const auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
      return unexpected("listen must be host:port, got '" + listen + "'");
    host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return unexpected("listen must be host:port, got '" + listen + "'");
    host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  if (host.empty()) host = "0.0.0.0";
  auto port = parse_int(port_text);
  if (!port || *port < 0 || *port > 65535) return unexpected("listen port must be 0..65535, got '" + port_text + "'");
  return std::pair<std::string, int>{host, static_cast<int>(*port)};
}

}  // namespace rsp::service
