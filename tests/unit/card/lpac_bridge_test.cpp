#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rsp/card/transport/lpac_stdio.hpp"
#include "sim_card.hpp"
#include "test_app.hpp"

namespace rsp::card::transport {
namespace {

using nlohmann::json;

std::string request(std::string_view func, const json& param) {
  return json{{"type", "apdu"}, {"payload", {{"func", func}, {"param", param}}}}.dump();
}

json reply(LpacStdioBridge& bridge, const std::string& line) {
  auto r = bridge.handle_line(line);
  EXPECT_TRUE(r) << line;
  return r ? json::parse(*r) : json();
}

TEST(LpacBridge, ProtocolLikeLpacEs10x) {
  Card card;
  auto app = std::make_shared<test::EchoApp>();
  card.add_application(app);
  LpacStdioBridge bridge(card);
  EXPECT_EQ(reply(bridge, request("connect", nullptr))["payload"]["ecode"], 0);
  const json open = reply(bridge, request("logic_channel_open", "A0000005591010FFFFFFFF8900000100"));
  EXPECT_EQ(open["type"], "apdu");
  EXPECT_EQ(open["payload"]["ecode"], 1);
  // lpac puts the channel in the low nibble of CLA 80.
  json t = reply(bridge, request("transmit", "81E2910003BF2E00"));
  EXPECT_EQ(t["payload"]["ecode"], 0);
  EXPECT_EQ(t["payload"]["data"], "6103");
  t = reply(bridge, request("transmit", "81C0000003"));
  EXPECT_EQ(t["payload"]["data"], "BF2E009000");
  EXPECT_EQ(reply(bridge, request("logic_channel_close", "01"))["payload"]["ecode"], 0);
  t = reply(bridge, request("transmit", "81E2910003BF2E00"));
  EXPECT_EQ(t["payload"]["data"], "6881");
  EXPECT_EQ(reply(bridge, request("disconnect", nullptr))["payload"]["ecode"], 0);
}

TEST(LpacBridge, FailuresAndPassThrough) {
  Card card;
  LpacStdioBridge bridge(card);
  // No such application: the channel is closed again and -1 returned.
  EXPECT_EQ(reply(bridge, request("logic_channel_open", "A000000559"))["payload"]["ecode"], -1);
  EXPECT_EQ(to_hex(card.transmit(from_hex("01A4040C05A000000559").value())), "6881");
  EXPECT_EQ(reply(bridge, request("logic_channel_open", "XYZ"))["payload"]["ecode"], -1);
  EXPECT_EQ(reply(bridge, request("logic_channel_open", nullptr))["payload"]["ecode"], -1);
  EXPECT_EQ(reply(bridge, request("transmit", "0"))["payload"]["ecode"], -1);
  EXPECT_EQ(reply(bridge, request("transmit", "00"))["payload"]["data"], "6700");
  EXPECT_EQ(reply(bridge, request("frobnicate", nullptr))["payload"]["ecode"], -1);
  EXPECT_EQ(reply(bridge, R"({"type":"apdu"})")["payload"]["ecode"], -1);
  EXPECT_FALSE(bridge.handle_line(R"({"type":"lpa","payload":{"code":0}})"));
  EXPECT_FALSE(bridge.handle_line("not json at all"));
  EXPECT_FALSE(bridge.handle_line(""));
}

// A stand-in for lpac: a shell script speaking the stdio driver protocol.
const char* kFakeLpac = R"(#!/bin/sh
echo "{\"type\":\"progress\",\"payload\":{\"env\":\"$LPAC_APDU\",\"args\":\"$*\"}}"
echo '{"type":"apdu","payload":{"func":"connect","param":null}}'
read -r connect
echo '{"type":"apdu","payload":{"func":"logic_channel_open","param":"A0000005591010FFFFFFFF8900000100"}}'
read -r open
echo '{"type":"apdu","payload":{"func":"transmit","param":"81E2910003BF2E0000"}}'
read -r data
echo '{"type":"apdu","payload":{"func":"logic_channel_close","param":"01"}}'
read -r close
echo '{"type":"apdu","payload":{"func":"disconnect","param":null}}'
read -r disconnect
echo "{\"type\":\"lpa\",\"payload\":{\"connect\":$connect,\"open\":$open,\"data\":$data}}"
exit 3
)";

TEST(LpacBridge, RunsAFakeLpac) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("rsp-lpac-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto script = dir / "lpac";
  std::ofstream(script) << kFakeLpac;
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);

  Card card;
  auto app = std::make_shared<test::EchoApp>();
  card.add_application(app);
  std::ostringstream out;
  const int code = run_lpac(card, script.string(), {"chip", "info"}, out);
  EXPECT_EQ(code, 3);
  std::istringstream lines(out.str());
  std::string first, second, extra;
  ASSERT_TRUE(std::getline(lines, first));
  ASSERT_TRUE(std::getline(lines, second)) << out.str();
  EXPECT_FALSE(std::getline(lines, extra)) << "APDU requests must not pass through: " << extra;
  const json progress = json::parse(first);
  EXPECT_EQ(progress["payload"]["env"], "stdio");
  EXPECT_EQ(progress["payload"]["args"], "chip info");
  const json result = json::parse(second);
  EXPECT_EQ(result["type"], "lpa");
  EXPECT_EQ(result["payload"]["connect"]["payload"]["ecode"], 0);
  EXPECT_EQ(result["payload"]["open"]["payload"]["ecode"], 1);
  EXPECT_EQ(result["payload"]["data"]["payload"]["data"], "BF2E009000");
  ASSERT_EQ(app->commands.size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(LpacBridge, MissingProgram) {
  Card card;
  std::ostringstream out;
  EXPECT_EQ(run_lpac(card, "/nonexistent/lpac", {}, out), 127);
}

// With LPAC pointing at a real lpac binary: `lpac chip info` and `lpac
// profile list` over the stdio bridge against the simulated eUICC itself
// (channel open, SELECT ISD-R, STORE DATA in 120-byte blocks, 61xx chaining).
TEST(LpacBridge, RealLpacAgainstTheSimulatedEuicc) {
  const char* lpac = std::getenv("LPAC");
  if (!lpac || !*lpac) GTEST_SKIP() << "set LPAC to an lpac binary to run this test";
  testing::SimulatedEuicc euicc;
  std::ostringstream info;
  EXPECT_EQ(run_lpac(euicc.card, lpac, {"chip", "info"}, info), 0) << info.str();
  testing::expect_chip_info_names(info.str(), euicc.eid);
  std::ostringstream list;
  EXPECT_EQ(run_lpac(euicc.card, lpac, {"profile", "list"}, list), 0) << list.str();
  testing::expect_empty_profile_list(list.str());
}

}  // namespace
}  // namespace rsp::card::transport
