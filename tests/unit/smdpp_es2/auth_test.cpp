// ES2+ API key authentication: key files, the operators configuration and
// the constant-time lookup.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "rsp/common/file.hpp"
#include "rsp/smdpp/catalog.hpp"
#include "rsp/smdpp/es2_auth.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::smdpp {
namespace {

namespace fs = std::filesystem;

const std::string kKey1 = "k1-0123456789abcdef0123456789";
const std::string kKey2 = "k2-fedcba9876543210fedcba9876";

fs::path write_key(const fs::path& dir, const std::string& name, const std::string& text,
                   fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
  const fs::path p = dir / name;
  EXPECT_TRUE(write_file_atomic(p, as_bytes(text), perms));
  return p;
}

TEST(Es2Auth, KeyFileGivesTheHashOfItsFirstLine) {
  test_support::TempDir dir;
  auto h = load_api_key_hash(write_key(dir.path(), "key", kKey1 + "\n"));
  ASSERT_TRUE(h) << h.error();
  EXPECT_EQ(*h, sha256(as_bytes(kKey1)));
  auto h2 = load_api_key_hash(write_key(dir.path(), "key2", kKey1 + "\r\n", fs::perms::owner_read));
  ASSERT_TRUE(h2) << h2.error();
  EXPECT_EQ(*h2, *h);
}

TEST(Es2Auth, KeyFileRefusals) {
  test_support::TempDir dir;
  auto open = load_api_key_hash(write_key(dir.path(), "open", kKey1, fs::perms(0644)));
  ASSERT_FALSE(open);
  EXPECT_NE(open.error().find("chmod 600"), std::string::npos);
  EXPECT_FALSE(load_api_key_hash(write_key(dir.path(), "group", kKey1, fs::perms(0640))));
  EXPECT_FALSE(load_api_key_hash(dir.path() / "missing"));
  EXPECT_FALSE(load_api_key_hash(dir.path()));
  auto short_key = load_api_key_hash(write_key(dir.path(), "short", "abc\n"));
  ASSERT_FALSE(short_key);
  // The error never quotes the key.
  EXPECT_EQ(short_key.error().find("abc"), std::string::npos);
  EXPECT_FALSE(load_api_key_hash(write_key(dir.path(), "space", "0123456789 abcdef0123\n")));
  EXPECT_FALSE(load_api_key_hash(write_key(dir.path(), "empty", "")));
}

TEST(Es2Auth, OperatorsConfiguration) {
  test_support::TempDir dir;
  write_key(dir.path(), "op1.key", kKey1);
  const nlohmann::json good = nlohmann::json::parse(R"([
    {"name": "op1", "api_key_file": "op1.key", "callback_url": "https://op1.example/hdpi"},
    {"name": "op2", "api_key_sha256": ")" + to_hex(sha256(as_bytes(kKey2))) + R"("}
  ])");
  auto ops = parse_operator_config(good, dir.path());
  ASSERT_TRUE(ops) << ops.error();
  ASSERT_EQ(ops->size(), 2u);
  EXPECT_EQ((*ops)[0].name, "op1");
  EXPECT_EQ((*ops)[0].key_sha256, sha256(as_bytes(kKey1)));
  EXPECT_EQ((*ops)[0].callback_url, "https://op1.example/hdpi");
  EXPECT_EQ((*ops)[1].key_sha256, sha256(as_bytes(kKey2)));
  EXPECT_TRUE((*ops)[1].callback_url.empty());

  auto bad = [&](const std::string& text, const std::string& expected) {
    auto r = parse_operator_config(nlohmann::json::parse(text), dir.path());
    ASSERT_FALSE(r) << text;
    EXPECT_NE(r.error().find(expected), std::string::npos) << r.error();
  };
  bad(R"({"name": "op1"})", "array");
  bad(R"([{"name": "op1"}])", "give an API key");
  bad(R"([{"name": "op1", "api_key_file": "op1.key", "api_key_sha256": "00"}])", "only one of api_key_file");
  bad(R"([{"name": "op1", "client_cert": "a.pem", "client_root": "b.pem", "client_subject": "CN = x"}])",
      "only one of client_cert");
  bad(R"([{"name": "op1", "client_root": "b.pem"}])", "client_root and client_subject go together");
  bad(R"([{"name": "op1", "client_subject": "CN = x", "api_key_file": "op1.key"}])", "go together");
  bad(R"([{"name": "op1", "client_cert": "missing.pem"}])", "client_cert");
  bad(R"([{"name": "op1", "client_cert": "op1.key"}])", "client_cert");  // not a certificate
  bad(R"([{"name": "op1", "api_key_sha256": "0011"}])", "64 hex digits");
  bad(R"([{"api_key_file": "op1.key"}])", "name");
  bad(R"([{"name": "op1", "api_key_file": "op1.key", "colour": "red"}])", "unknown key 'colour'");
  bad(R"([{"name": "op1", "api_key_file": "op1.key", "callback_url": "ftp://x"}])", "callback_url");
  bad(R"([{"name": "op1", "api_key_file": "nope.key"}])", "api_key_file");
  bad(R"([{"name": "op1", "api_key_file": "op1.key"}, {"name": "op1", "api_key_file": "op1.key"}])", "twice");
  bad(R"([{"name": 7, "api_key_file": "op1.key"}])", "must be a string");
}

TEST(Es2Auth, BearerKeyNamesItsOperatorOnly) {
  OperatorAuthenticator auth({{"op1", sha256(as_bytes(kKey1)), "", std::nullopt, std::nullopt, ""},
                              {"op2", sha256(as_bytes(kKey2)), "", std::nullopt, std::nullopt, ""}});
  EXPECT_EQ(auth.authenticate("Bearer " + kKey1), std::optional<std::string>("op1"));
  EXPECT_EQ(auth.authenticate("Bearer " + kKey2), std::optional<std::string>("op2"));
  EXPECT_FALSE(auth.authenticate(std::nullopt));
  EXPECT_FALSE(auth.authenticate(""));
  EXPECT_FALSE(auth.authenticate("Bearer "));
  EXPECT_FALSE(auth.authenticate("Bearer " + kKey1 + "x"));
  EXPECT_FALSE(auth.authenticate("Basic " + kKey1));
  EXPECT_FALSE(auth.authenticate(kKey1));
  EXPECT_FALSE(auth.authenticate("bearer " + kKey1));
  OperatorAuthenticator none({});
  EXPECT_FALSE(none.authenticate("Bearer " + kKey1));
}

}  // namespace
}  // namespace rsp::smdpp
