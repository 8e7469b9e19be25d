#include "rsp/messages/activation_code.hpp"

#include <gtest/gtest.h>

namespace rsp::messages {
namespace {

TEST(ActivationCode, ParsesTheSpecExamples) {
  auto a = parse_activation_code("LPA:1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815");
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->smdp_address, "SMDP.GSMA.COM");
  EXPECT_EQ(a->matching_id, "04386-AGYFT-A74Y8-3F815");
  EXPECT_FALSE(a->smdp_oid);
  EXPECT_FALSE(a->confirmation_code_required);

  auto b = parse_activation_code("1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815$1.3.6.1.4.1.31746$1");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->smdp_oid, "1.3.6.1.4.1.31746");
  EXPECT_TRUE(b->confirmation_code_required);

  auto c = parse_activation_code("LPA:1$smdp.example.com$$$1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->matching_id, "");
  EXPECT_FALSE(c->smdp_oid);
  EXPECT_TRUE(c->confirmation_code_required);
}

// What `rsp smdpp order --address host:port` prints, and lab SM-DP+ servers.
TEST(ActivationCode, AnAddressMayCarryAPort) {
  auto a = parse_activation_code("LPA:1$127.0.0.1:8443$MID-1");
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->smdp_address, "127.0.0.1:8443");
  EXPECT_EQ(a->matching_id, "MID-1");
  auto b = parse_activation_code("1$smdp.example.com:1$$1.2.3$1");
  ASSERT_TRUE(b) << b.error().to_string();
  EXPECT_EQ(b->smdp_address, "smdp.example.com:1");
  EXPECT_TRUE(b->confirmation_code_required);
  auto c = parse_activation_code("LPA:1$[::1]:65535$X");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->smdp_address, "[::1]:65535");
  auto d = parse_activation_code("LPA:1$[fe80::1]$X");
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(format_activation_code(*a), "LPA:1$127.0.0.1:8443$MID-1");
  for (const char* text : {"1$a.b:$X", "1$a.b:0$X", "1$a.b:65536$X", "1$a.b:080$X", "1$a.b:8a$X", "1$a.b:-1$X",
                           "1$a.b:1:2$X", "1$:443$X", "1$a.b:123456$X", "1$[::1$X", "1$[]:1$X", "1$[::g]$X",
                           "1$[::1]:$X", "1$[::1]x$X", "1$::1$X"}) {
    auto bad = parse_activation_code(text);
    EXPECT_FALSE(bad) << text;
    if (!bad) continue;
    EXPECT_EQ(bad.error().kind, ErrorKind::BadActivationCode);
  }
}

TEST(ActivationCode, FormatRoundTrips) {
  for (const char* text : {"LPA:1$SMDP.GSMA.COM$ABC-1", "LPA:1$a.b$X$1.2.3", "LPA:1$a.b$X$1.2.3$1",
                           "LPA:1$a.b$X$$1", "LPA:1$a.b$", "LPA:1$a.b:8443$X$$1"}) {
    auto ac = parse_activation_code(text);
    ASSERT_TRUE(ac) << text;
    EXPECT_EQ(format_activation_code(*ac), text);
  }
  ActivationCode ac{"smdp.example", "MID", std::nullopt, false};
  EXPECT_EQ(format_activation_code(ac, false), "1$smdp.example$MID");
}

TEST(ActivationCode, RejectsInvalidCodes) {
  for (const char* text : {"", "LPA:", "1$", "1$a.b", "2$a.b$X", "LPA:1$$X", "1$a..b$X", "1$.a$X",
                           "1$a.b.$X", "1$a_b$X", "1$a.b$x-lower", "1$a.b$X Y", "1$a.b$X$", "1$a.b$X$1.2.",
                           "1$a.b$X$1..2", "1$a.b$X$abc", "1$a.b$X$1.2$0", "1$a.b$X$1.2$", "1$a.b$X$1.2$1$",
                           "lpa:1$a.b$X", "1$a b$X", "1$a.b$X$1"}) {
    auto ac = parse_activation_code(text);
    EXPECT_FALSE(ac) << text;
    if (!ac) {
      EXPECT_EQ(ac.error().kind, ErrorKind::BadActivationCode);
    }
  }
  EXPECT_FALSE(parse_activation_code("1$" + std::string(300, 'a') + "$X"));
}

}  // namespace
}  // namespace rsp::messages
