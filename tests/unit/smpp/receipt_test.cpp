#include "rsp/smpp/receipt.hpp"

#include <gtest/gtest.h>

using namespace rsp::smpp;

TEST(SmppReceipt, ReadsTheAppendixBFields) {
  const auto r = parse_receipt(
      "id:0123456789 sub:001 dlvrd:001 submit date:2612031500 done date:2612031501 stat:DELIVRD err:000 text:hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "0123456789");
  EXPECT_EQ(r->state, DeliveryState::Delivered);
  EXPECT_EQ(r->error, 0u);
}

TEST(SmppReceipt, FormatThenParseGivesTheSameReceipt) {
  for (const auto s : {DeliveryState::Delivered, DeliveryState::Undeliverable, DeliveryState::Expired,
                       DeliveryState::Rejected, DeliveryState::Accepted, DeliveryState::Deleted}) {
    const auto text = format_receipt({"T42", s, 27}, "2612031500", "2612031501");
    const auto r = parse_receipt(text);
    ASSERT_TRUE(r) << text;
    EXPECT_EQ(r->id, "T42");
    EXPECT_EQ(r->state, s);
    EXPECT_EQ(r->error, 27u);
  }
  EXPECT_NE(format_receipt({"X", DeliveryState::Delivered, 0}, "a", "b").find("dlvrd:001"), std::string::npos);
  EXPECT_NE(format_receipt({"X", DeliveryState::Undeliverable, 0}, "a", "b").find("dlvrd:000"), std::string::npos);
}

TEST(SmppReceipt, TextAfterTextColonIsNotRead) {
  // A "stat:" inside the free text must not count.
  EXPECT_FALSE(parse_receipt("id:1 text:stat:DELIVRD"));
  const auto r = parse_receipt("id:1 stat:UNDELIV err:005 text:id:2 stat:DELIVRD");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "1");
  EXPECT_EQ(r->state, DeliveryState::Undeliverable);
  EXPECT_EQ(r->error, 5u);
}

TEST(SmppReceipt, RefusesWhatIsNoReceipt) {
  EXPECT_FALSE(parse_receipt(""));
  EXPECT_FALSE(parse_receipt("hello world"));
  EXPECT_FALSE(parse_receipt("stat:DELIVRD"));                 // no id
  EXPECT_FALSE(parse_receipt("id: stat:DELIVRD"));             // empty id
  EXPECT_FALSE(parse_receipt("id:1 stat:GREAT"));              // unknown state word
  EXPECT_FALSE(parse_receipt("id:1 stat:DELIVRD err:x1"));     // bad number
  EXPECT_FALSE(parse_receipt("id:1 stat:DELIVRD err:99999999999"));  // overflows
  EXPECT_FALSE(parse_receipt("xid:1 stat:DELIVRD"));           // key must start a word
  EXPECT_FALSE(parse_receipt("id:" + std::string(65, '1') + " stat:DELIVRD"));
}

TEST(SmppReceipt, StateWordsRoundTrip) {
  EXPECT_STREQ(state_word(DeliveryState::Delivered), "DELIVRD");
  EXPECT_EQ(state_from_word("ENROUTE"), DeliveryState::Enroute);
  EXPECT_EQ(state_from_word("delivrd"), std::nullopt);
}
