#include "rsp/ota/ram.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "../crypto/kat.hpp"

namespace rsp::ota {
namespace {

std::vector<Bytes> split_hex(const std::string& s) {
  std::vector<Bytes> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, '|')) out.push_back(from_hex(part).value());
  return out;
}

TEST(OtaRam, PublicCommandScripts) {
  int n = 0;
  for (const auto& r : crypto::test::read_kat("ram_expanded.txt", "ota")) {
    if (!r.has("command")) continue;
    ++n;
    Bytes in = r.hex("command");
    auto script = decode_command_script(in);
    ASSERT_TRUE(script) << script.error().to_string();
    EXPECT_EQ(c_apdus(*script), split_hex(r.at("apdus")));
    EXPECT_EQ(script->indefinite, in[0] == 0xAE);
    EXPECT_EQ(to_hex(encode(command_script(split_hex(r.at("apdus")), in[0] == 0xAE)).value()), to_hex(in));
  }
  EXPECT_EQ(n, 5);
}

TEST(OtaRam, PublicResponseScripts) {
  int n = 0;
  for (const auto& r : crypto::test::read_kat("ram_expanded.txt", "ota")) {
    if (!r.has("response")) continue;
    ++n;
    Bytes in = r.hex("response");
    auto script = decode_response_script(in);
    ASSERT_TRUE(script) << script.error().to_string();
    if (r.at("executed") == "-") {
      EXPECT_FALSE(script->executed);
    } else {
      EXPECT_EQ(script->executed, from_hex(r.at("executed")).value()[0]);
    }
    std::vector<Bytes> rapdus;
    for (const auto& ra : script->r_apdus) rapdus.push_back(apdu::encode_response(ra));
    EXPECT_EQ(rapdus, split_hex(r.at("rapdus")));
    EXPECT_EQ(to_hex(encode(*script).value()), to_hex(in));
  }
  EXPECT_EQ(n, 4);
}

TEST(OtaRam, LongLengthsAndOtherItems) {
  // A 200-octet C-APDU needs long-form lengths: AA 81 CB | 22 81 C8 (pySim's golden header).
  Bytes capdu = concat({from_hex("80F24000C3").value(), Bytes(195, 0x11)});
  Bytes enc = encode(command_script({capdu})).value();
  EXPECT_EQ(to_hex(ByteView(enc).first(6)), "AA81CB2281C8");
  EXPECT_EQ(c_apdus(decode_command_script(enc).value()), std::vector<Bytes>{capdu});
  // Immediate / error action and script chaining items keep their order.
  CommandScript s{{{ram_tag::kScriptChaining, {0x01}}, {ram_tag::kCApdu, from_hex("80CA00E000").value()},
                   {ram_tag::kImmediateAction, {0x02}}, {ram_tag::kErrorAction, {}}},
                  false};
  EXPECT_EQ(decode_command_script(encode(s).value()).value(), s);
  // Response status TLVs (pySim: bad format, immediate action error, script chaining not supported).
  auto bad = decode_response_script(from_hex("AB06800101900101").value()).value();
  EXPECT_EQ(bad.bad_format, Bytes{0x01});
  EXPECT_TRUE(bad.r_apdus.empty());
  EXPECT_EQ(decode_response_script(from_hex("AB06800101810101").value()).value().immediate_action_response,
            Bytes{0x01});
  EXPECT_EQ(decode_response_script(from_hex("AB06800101830102").value()).value().script_chaining_response,
            Bytes{0x02});
  auto indef_bad = decode_response_script(from_hex("AF809001010000").value()).value();
  EXPECT_TRUE(indef_bad.indefinite);
  EXPECT_EQ(indef_bad.bad_format, Bytes{0x01});
  ResponseScript all{2, {{from_hex("6F21").value(), 0x9000}, {{}, 0x6A82}}, Bytes{1}, Bytes{2}, Bytes{3}, true};
  EXPECT_EQ(decode_response_script(encode(all).value()).value(), all);
}

TEST(OtaRam, RejectsMalformed) {
  auto cmd = [](const char* hex) { return decode_command_script(from_hex(hex).value()); };
  auto rsp = [](const char* hex) { return decode_response_script(from_hex(hex).value()); };
  // Truncated indefinite template (pySim: the end-of-contents cut), missing EOC.
  Bytes good = from_hex("AF8023029000230C9888120100004086081490000000").value();
  for (std::size_t cut = 1; cut <= 3; ++cut)
    EXPECT_FALSE(decode_response_script(ByteView(good).first(good.size() - cut))) << cut;
  for (std::size_t cut = 0; cut < good.size(); ++cut) EXPECT_FALSE(decode_response_script(ByteView(good).first(cut)));
  EXPECT_FALSE(rsp("AF8023029000"));
  EXPECT_FALSE(rsp("AB0780010123029000FF"));               // trailing byte
  EXPECT_FALSE(rsp("AA07220580CA00E000"));                 // a command template
  EXPECT_FALSE(rsp("AB0480020101"));                       // executed of two octets
  EXPECT_FALSE(rsp("AB06800101800101"));                   // executed twice
  EXPECT_FALSE(rsp("AB03230190"));                         // R-APDU without SW2
  EXPECT_FALSE(rsp("AB03910100"));                         // unknown tag
  EXPECT_FALSE(rsp("AB06900101900101"));                   // bad format twice
  EXPECT_FALSE(rsp("AB82070080010123029000"));             // length beyond the data
  EXPECT_FALSE(rsp("AB8000"));                             // definite tag, indefinite length
  EXPECT_FALSE(rsp("AF0780010123029000"));                 // indefinite tag, definite length
  EXPECT_FALSE(rsp("AF80238090000000000000"));             // indefinite inner item
  EXPECT_FALSE(cmd("AA03220180"));                         // not a C-APDU
  EXPECT_FALSE(cmd("AA039001FF"));                         // unknown tag
  EXPECT_FALSE(cmd("AE07220580CA00E000"));                 // AE with a definite length
  EXPECT_FALSE(cmd(""));
  EXPECT_FALSE(encode(CommandScript{{{ram_tag::kCApdu, {0x80}}}, false}));
  EXPECT_FALSE(encode(CommandScript{{{0x99, {}}}, false}));
}

}  // namespace
}  // namespace rsp::ota
