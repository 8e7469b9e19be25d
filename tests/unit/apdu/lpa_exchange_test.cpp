#include <gtest/gtest.h>

#include <deque>

#include "rsp/apdu/lpa_exchange.hpp"

namespace rsp::apdu {
namespace {

Bytes hex(std::string_view h) { return from_hex(h).value(); }

TEST(ApduStoreData, BlocksOf120LikeLpac) {
  Bytes cmd(250, 0x5A);
  auto blocks = store_data_blocks(cmd, 1);
  ASSERT_TRUE(blocks);
  ASSERT_EQ(blocks->size(), 3u);
  EXPECT_EQ((*blocks)[0].size(), 5u + 120);
  EXPECT_EQ(to_hex(ByteView((*blocks)[0]).first(5)), "81E2110078");
  EXPECT_EQ(to_hex(ByteView((*blocks)[1]).first(5)), "81E2110178");
  EXPECT_EQ(to_hex(ByteView((*blocks)[2]).first(5)), "81E291020A");
}

TEST(ApduStoreData, BlockSizesAndLimits) {
  auto one = store_data_blocks(hex("BF2E00"), 0, 1);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 3u);
  EXPECT_EQ(to_hex((*one)[2]), "80E2910201" "00");
  auto full = store_data_blocks(Bytes(255, 1), 5, 255);
  ASSERT_TRUE(full);
  ASSERT_EQ(full->size(), 1u);
  EXPECT_EQ(to_hex(ByteView((*full)[0]).first(5)), "C1E29100FF");
  EXPECT_FALSE(store_data_blocks({}, 0));
  EXPECT_FALSE(store_data_blocks(hex("00"), 0, 0));
  EXPECT_FALSE(store_data_blocks(hex("00"), 0, 256));
  EXPECT_TRUE(store_data_blocks(Bytes(256, 0), 0, 1));
  EXPECT_FALSE(store_data_blocks(Bytes(257, 0), 0, 1));
}

// A scripted card: answers each APDU from a queue and records what it got.
struct ScriptedCard {
  std::deque<Bytes> answers;
  std::vector<std::string> seen;
  Transmit transmit() {
    return [this](ByteView apdu) -> std::optional<Bytes> {
      seen.push_back(to_hex(apdu));
      if (answers.empty()) return std::nullopt;
      Bytes a = answers.front();
      answers.pop_front();
      return a;
    };
  }
};

TEST(ApduExchange, FollowsGetResponse) {
  ScriptedCard card{{hex("6103"), hex("010203 6102"), hex("0405 9000")}, {}};
  auto r = exchange(card.transmit(), hex("81E2910003BF2E00"));
  ASSERT_TRUE(r);
  EXPECT_EQ(to_hex(r->data), "0102030405");
  EXPECT_EQ(r->sw, 0x9000);
  ASSERT_EQ(card.seen.size(), 3u);
  EXPECT_EQ(card.seen[1], "81C0000003");
  EXPECT_EQ(card.seen[2], "81C0000002");
}

TEST(ApduExchange, WrongLeResends) {
  ScriptedCard card{{hex("6C02"), hex("AABB9000")}, {}};
  auto r = exchange(card.transmit(), hex("00B0000000"));
  ASSERT_TRUE(r);
  EXPECT_EQ(card.seen[1], "00B0000002");
  EXPECT_EQ(to_hex(r->data), "AABB");
}

TEST(ApduExchange, Errors) {
  ScriptedCard dead{{}, {}};
  EXPECT_EQ(exchange(dead.transmit(), hex("00A40400")).error().kind, ExchangeError::Kind::kTransport);
  ScriptedCard shorty{{hex("90")}, {}};
  EXPECT_EQ(exchange(shorty.transmit(), hex("00A40400")).error().kind, ExchangeError::Kind::kMalformed);
  ScriptedCard big{{hex("0102 6100"), hex("0304 6100")}, {}};
  EXPECT_EQ(exchange(big.transmit(), hex("00A40400"), 3).error().kind, ExchangeError::Kind::kTooLarge);
  ScriptedCard stuck{{hex("6100"), hex("6100")}, {}};
  EXPECT_EQ(exchange(stuck.transmit(), hex("00A40400")).error().kind, ExchangeError::Kind::kMalformed);
}

TEST(ApduExchange, SendEs10) {
  // Two blocks: the first answers 9000, the last 61xx then the data.
  ScriptedCard card{{hex("9000"), hex("6102"), hex("BF20 9000")}, {}};
  auto r = send_es10(card.transmit(), Bytes(130, 0), 2);
  ASSERT_TRUE(r);
  EXPECT_EQ(to_hex(*r), "BF20");
  EXPECT_EQ(card.seen[2], "82C0000002");
  ScriptedCard refusing{{hex("6A88")}, {}};
  auto e = send_es10(refusing.transmit(), hex("BF2E00"), 0);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind, ExchangeError::Kind::kStatus);
  EXPECT_EQ(e.error().sw, 0x6A88);
  EXPECT_NE(e.error().message().find("6A88"), std::string::npos);
}

}  // namespace
}  // namespace rsp::apdu
