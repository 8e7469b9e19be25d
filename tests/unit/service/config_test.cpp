// The configuration reader: a JSON file, then RSP_<ROLE>_<KEY> overrides.

#include "rsp/service/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "test_support/temp_dir.hpp"

namespace rsp::service {
namespace {

struct Settings {
  std::string listen = "127.0.0.1:8443";
  bool insecure = false;
  std::int64_t workers = 8;
  nlohmann::json operators = nlohmann::json::array();
  std::vector<ConfigKey> keys() {
    return {{"listen", &listen}, {"insecure_http", nullptr, &insecure}, {"workers", nullptr, nullptr, &workers},
            {"operators", nullptr, nullptr, nullptr, &operators}};
  }
};

TEST(Config, FileThenEnvironment) {
  test_support::TempDir dir;
  const auto file = dir.path() / "c.json";
  std::ofstream(file) << R"({"listen": "0.0.0.0:1", "workers": 3, "insecure_http": true, "operators": [{"name": "a"}]})";
  Settings s;
  ASSERT_TRUE(apply_config_file(s.keys(), file));
  EXPECT_EQ(s.listen, "0.0.0.0:1");
  EXPECT_EQ(s.workers, 3);
  EXPECT_TRUE(s.insecure);
  EXPECT_EQ(s.operators[0]["name"], "a");
  ::setenv("RSP_TESTROLE_WORKERS", "5", 1);
  ::setenv("RSP_TESTROLE_INSECURE_HTTP", "off", 1);
  ::setenv("RSP_TESTROLE_OPERATORS", R"([{"name": "b"}])", 1);
  auto r = apply_environment(s.keys(), "RSP_TESTROLE_");
  ::unsetenv("RSP_TESTROLE_OPERATORS");
  ::unsetenv("RSP_TESTROLE_INSECURE_HTTP");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(s.workers, 5);
  EXPECT_FALSE(s.insecure);
  EXPECT_EQ(s.operators[0]["name"], "b");
  EXPECT_EQ(s.listen, "0.0.0.0:1");  // no variable: the file's value stays
  ::setenv("RSP_TESTROLE_WORKERS", "five-secret", 1);
  r = apply_environment(s.keys(), "RSP_TESTROLE_");
  ::unsetenv("RSP_TESTROLE_WORKERS");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "RSP_TESTROLE_WORKERS must be an integer");  // the value is not quoted
}

TEST(Config, RefusesUnknownKeysAndWrongTypes) {
  Settings s;
  auto bad = [&](const char* text, const std::string& expected) {
    auto r = apply_config_json(s.keys(), nlohmann::json::parse(text), "c.json");
    ASSERT_FALSE(r) << text;
    EXPECT_NE(r.error().find(expected), std::string::npos) << r.error();
  };
  bad(R"({"colour": "blue"})", "unknown configuration key 'colour' in c.json");
  bad(R"({"listen": 7})", "'listen' must be a string");
  bad(R"({"workers": "7"})", "'workers' must be an integer");
  bad(R"({"workers": 1.5})", "'workers' must be an integer");
  bad(R"({"insecure_http": "yes"})", "must be true or false");
  bad(R"([1])", "must be a JSON object");
  test_support::TempDir dir;
  std::ofstream(dir.path() / "bad.json") << "{listen";
  auto r = apply_config_file(s.keys(), dir.path() / "bad.json");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("not valid JSON"), std::string::npos);
  EXPECT_FALSE(apply_config_file(s.keys(), dir.path() / "missing.json"));
}

TEST(Config, ValuesFromText) {
  EXPECT_EQ(parse_bool("TRUE"), std::optional<bool>(true));
  EXPECT_EQ(parse_bool(""), std::optional<bool>(false));
  EXPECT_FALSE(parse_bool("maybe"));
  EXPECT_EQ(parse_int("-12"), std::optional<std::int64_t>(-12));
  EXPECT_FALSE(parse_int(""));
  EXPECT_FALSE(parse_int("12x"));
  EXPECT_FALSE(parse_int("99999999999999999999"));
  auto l = split_listen("127.0.0.1:8443");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->first, "127.0.0.1");
  EXPECT_EQ(l->second, 8443);
  l = split_listen("[::1]:0");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->first, "::1");
  l = split_listen(":9");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->first, "0.0.0.0");
  EXPECT_FALSE(split_listen("localhost"));
  EXPECT_FALSE(split_listen("h:70000"));
  EXPECT_FALSE(split_listen("[::1]9"));
  EXPECT_FALSE(split_listen("h:"));
}

}  // namespace
}  // namespace rsp::service
