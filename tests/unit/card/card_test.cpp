#include <gtest/gtest.h>

#include "rsp/apdu/lpa_exchange.hpp"
#include "test_app.hpp"

namespace rsp::card {
namespace {

Bytes hex(std::string_view h) { return from_hex(h).value(); }

class CardTest : public ::testing::Test {
 protected:
  void SetUp() override { make_card({}); }
  void make_card(CardConfig cfg, Es10Limits limits = {}) {
    card = std::make_unique<Card>(cfg);
    isdr = std::make_shared<test::EchoApp>(kIsdRAid, limits);
    card->add_application(isdr);
    card->add_application(std::make_shared<MinimalEcasd>());
  }
  std::string tx(std::string_view h) { return to_hex(card->transmit(hex(h))); }
  std::string send(std::string_view h) {
    const std::string r = tx(h);
    return r.substr(r.size() - 4);
  }
  apdu::Transmit transmit() { return in_process_transmit(*card); }

  std::unique_ptr<Card> card;
  std::shared_ptr<test::EchoApp> isdr;
};

const std::string kIsdR = "A0000005591010FFFFFFFF8900000100";
const std::string kEcasd = "A0000005591010FFFFFFFF8900000200";

TEST_F(CardTest, AtrIsWellFormed) {
  const Bytes atr = card->atr();
  ASSERT_GE(atr.size(), 4u);
  EXPECT_EQ(atr[0], 0x3B);
  std::uint8_t x = 0;
  for (std::size_t i = 1; i < atr.size(); ++i) x ^= atr[i];
  EXPECT_EQ(x, 0) << "TCK";
  EXPECT_EQ(atr[1] & 0x0F, 7);  // historical bytes
  EXPECT_EQ(to_hex(atr), "3B979680B1FE451FC78031A073BE211B" + to_hex(ByteView(atr).last(1)));
}

TEST_F(CardTest, SelectIsdRHitAndMiss) {
  const std::string fci = to_hex(make_fci(hex(kIsdR)));
  EXPECT_EQ(tx("00A4040010" + kIsdR + "00"), fci + "9000");
  EXPECT_EQ(tx("00A4040C10" + kIsdR), "9000");
  // Case 3: T=0 style, the FCI waits for GET RESPONSE.
  EXPECT_EQ(tx("00A4040010" + kIsdR).substr(0, 2), "61");
  EXPECT_EQ(tx("00C0000000"), fci + "9000");
  EXPECT_EQ(tx("00A4040010A0000005591010FFFFFFFF8900000999"), "6A82");
  EXPECT_EQ(tx("00A4040400"), "6A82");
  EXPECT_EQ(tx("00A4040200"), "6A82");
  EXPECT_EQ(tx("00A40000023F00"), "6A82");
  EXPECT_EQ(tx("00A4050010" + kIsdR), "6A86");
  EXPECT_EQ(tx("00A4041010" + kIsdR), "6A86");
  // Partial AID selects the first application with that prefix.
  EXPECT_EQ(tx("00A4040C07A0000005591010"), "9000");
  EXPECT_EQ(tx("00A4040010" + kEcasd + "00").substr(0, 4), "6F18");
}

TEST_F(CardTest, ChannelsOpenSelectClose) {
  EXPECT_EQ(tx("0070000001"), "019000");
  EXPECT_EQ(tx("0070000001"), "029000");
  EXPECT_EQ(tx("0070000001"), "039000");
  EXPECT_EQ(tx("0070000001"), "6A81");  // 4 channels by default
  EXPECT_EQ(tx("01A4040C10" + kIsdR), "9000");
  EXPECT_EQ(tx("81E2910003BF2E0000"), "BF2E009000");
  EXPECT_EQ(isdr->channels.back(), 1);
  EXPECT_EQ(tx("02E2910003BF2E00"), "6E00");   // STORE DATA needs the GP class
  EXPECT_EQ(tx("82E2910003BF2E00"), "6986");   // nothing selected on channel 2
  EXPECT_EQ(tx("00708001"), "9000");
  EXPECT_EQ(isdr->deselected, std::vector<std::uint8_t>{1});
  EXPECT_EQ(tx("81E2910003BF2E00"), "6881");  // closed channel
  EXPECT_EQ(tx("01A4040C10" + kIsdR), "6881");
  EXPECT_EQ(tx("00708001"), "6881");          // already closed
  EXPECT_EQ(tx("00708000"), "6A86");          // the basic channel stays
  EXPECT_EQ(tx("0070800300"), "9000");        // close as lpac sends it (Le 00)
  EXPECT_EQ(tx("0070000100"), "9000");        // open a given channel
  EXPECT_EQ(tx("0070000100"), "6985");
  EXPECT_EQ(tx("0070000900"), "6A86");
  EXPECT_EQ(tx("0070400000"), "6A86");
  // Case 1 open: T=0 style, the number waits for GET RESPONSE.
  EXPECT_EQ(tx("00700000"), "6101");
  EXPECT_EQ(tx("00C0000001"), "039000");
  EXPECT_EQ(tx("43A4040C10" + kIsdR), "6881");  // channel 7 does not exist
  EXPECT_EQ(tx("03A4040C10" + kIsdR), "9000");
  // Opening from channel 3 inherits its selection.
  EXPECT_EQ(tx("03708000"), "9000");
  EXPECT_EQ(tx("01A4040C10" + kIsdR), "9000");
  EXPECT_EQ(tx("0170000001"), "039000");
  EXPECT_EQ(tx("83E2910003BF2E0000"), "BF2E009000");
}

TEST_F(CardTest, FurtherInterindustryChannels) {
  CardConfig cfg;
  cfg.logical_channels = 20;
  make_card(cfg);
  EXPECT_EQ(tx("0070001300"), "9000");  // channel 19
  EXPECT_EQ(tx("4FA4040C10" + kIsdR), "9000");
  EXPECT_EQ(tx("CFE2910003BF2E0000"), "BF2E009000");
  EXPECT_EQ(isdr->channels.back(), 19);
  EXPECT_EQ(tx("4EA4040C10" + kIsdR), "6881");
}

TEST_F(CardTest, StoreDataChainingAnyBlockSize) {
  EXPECT_EQ(send("00A4040C10" + kIsdR), "9000");
  Bytes cmd(600);
  for (std::size_t i = 0; i < cmd.size(); ++i) cmd[i] = static_cast<std::uint8_t>(i);
  for (std::size_t block : {1u, 120u, 255u}) {
    Bytes small(block == 1 ? 200 : cmd.size());
    std::copy(cmd.begin(), cmd.begin() + static_cast<std::ptrdiff_t>(small.size()), small.begin());
    auto r = apdu::send_es10(transmit(), small, 0, block);
    ASSERT_TRUE(r) << block << ": " << r.error().message();
    EXPECT_EQ(*r, small) << block;
    EXPECT_EQ(isdr->commands.back(), small);
  }
}

TEST_F(CardTest, StoreDataOutOfSequence) {
  EXPECT_EQ(send("00A4040C10" + kIsdR), "9000");
  EXPECT_EQ(tx("80E2110002BF2E"), "9000");
  EXPECT_EQ(tx("80E2910201" "00"), "6A86");  // block 2 where 1 was due
  EXPECT_EQ(tx("80E2910101" "00"), "6A86");  // the state was reset
  EXPECT_EQ(tx("80E2910001" "AA" "00"), "AA9000");
  EXPECT_EQ(tx("80E2110002BF2E"), "9000");
  EXPECT_EQ(tx("80E2110002BF2E"), "9000");  // block 0 again restarts
  EXPECT_EQ(tx("80E2910101" "00" "00"), "BF2E009000");
  EXPECT_EQ(tx("80E2010001AA"), "6A86");  // P1 not 11/91
  EXPECT_EQ(tx("80E29100"), "6700");      // no data
  EXPECT_EQ(isdr->commands.size(), 2u);
}

TEST_F(CardTest, StoreDataSizeBound) {
  Es10Limits limits;
  limits.max_command_size = 300;
  make_card({}, limits);
  EXPECT_EQ(send("00A4040C10" + kIsdR), "9000");
  auto r = apdu::send_es10(transmit(), Bytes(300, 1), 0, 255);
  ASSERT_TRUE(r);
  r = apdu::send_es10(transmit(), Bytes(301, 1), 0, 255);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sw, 0x6A84);
}

TEST_F(CardTest, ApplicationStatusWord) {
  EXPECT_EQ(send("00A4040C10" + kIsdR), "9000");
  EXPECT_EQ(tx("80E2910003EE6A88"), "6A88");
}

TEST_F(CardTest, GetResponseWithSmallReaderLimit) {
  CardConfig cfg;
  cfg.max_response_per_apdu = 16;
  make_card(cfg);
  EXPECT_EQ(send("00A4040C10" + kIsdR), "9000");
  EXPECT_EQ(tx("80E2910003BB0028"), "6128");  // 40 bytes, case 3
  std::string got;
  std::string r = tx("80C0000028");
  EXPECT_EQ(r.substr(r.size() - 4), "6118");  // 16 sent, 24 left
  got += r.substr(0, r.size() - 4);
  r = tx("80C0000000");
  EXPECT_EQ(r.substr(r.size() - 4), "6108");
  got += r.substr(0, r.size() - 4);
  r = tx("80C0000040");  // Le beyond what remains
  EXPECT_EQ(r.substr(r.size() - 4), "9000");
  got += r.substr(0, r.size() - 4);
  EXPECT_EQ(got.size(), 80u);
  EXPECT_EQ(tx("80C0000000"), "6985");  // nothing pending
  // Through the LPA helper: 300 bytes.
  auto big = apdu::send_es10(transmit(), hex("BB012C"), 0);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->size(), 300u);
  EXPECT_EQ((*big)[299], static_cast<std::uint8_t>(299 * 7 + 1));
  // Case 4 with Le 08: the first 8 bytes now, the rest via 61xx.
  r = tx("80E2910003BB001408");
  EXPECT_EQ(r.size(), 2u * 8 + 4);
  EXPECT_EQ(r.substr(r.size() - 4), "610C");
  // Another command discards pending data.
  EXPECT_EQ(tx("80AA000000"), "9000");
  EXPECT_EQ(tx("80C0000000"), "6985");
}

TEST_F(CardTest, LargeResponseAnnounces6100) {
  EXPECT_EQ(send("00A4040C10" + kIsdR), "9000");
  EXPECT_EQ(tx("80E2910003BB0200"), "6100");  // 512 bytes
  std::string r = tx("80C0000000");
  EXPECT_EQ(r.size(), 2u * 256 + 4);
  EXPECT_EQ(r.substr(r.size() - 4), "6100");
  r = tx("80C0000000");
  EXPECT_EQ(r.substr(r.size() - 4), "9000");
  EXPECT_EQ(tx("80C0000100"), "6B00");
}

TEST_F(CardTest, ExtendedLengthCommands) {
  CardConfig cfg;
  cfg.max_response_per_apdu = 65536;
  make_card(cfg);
  EXPECT_EQ(send("00A4040C10" + kIsdR), "9000");
  Bytes apdu = hex("80E29100 000200");
  apdu.resize(apdu.size() + 512, 0x42);
  apdu.push_back(0);
  apdu.push_back(0);
  const Bytes r = card->transmit(apdu);
  ASSERT_EQ(r.size(), 514u);
  EXPECT_EQ(r[0], 0x42);
  EXPECT_EQ(to_hex(ByteView(r).last(2)), "9000");
}

TEST_F(CardTest, ErrorStatusWords) {
  EXPECT_EQ(tx(""), "6700");
  EXPECT_EQ(tx("00A4"), "6700");
  EXPECT_EQ(tx("00A4040005A000"), "6700");
  EXPECT_EQ(tx("FFA40400"), "6E00");
  EXPECT_EQ(tx("20A40400"), "6E00");
  EXPECT_EQ(tx("A0A40400"), "6E00");
  EXPECT_EQ(tx("80A4040C10" + kIsdR), "6E00");
  EXPECT_EQ(tx("0CA4040C10" + kIsdR), "6882");
  EXPECT_EQ(tx("10A4040C10" + kIsdR), "6884");
  EXPECT_EQ(tx("00B0000000"), "6D00");
  EXPECT_EQ(tx("80CA9F7F00"), "6D00");
  EXPECT_EQ(tx("80E2910003BF2E00"), "6986");  // nothing selected after reset
  EXPECT_EQ(tx("00C0000000"), "6985");
  EXPECT_EQ(tx("00C0000100"), "6B00");
  EXPECT_EQ(tx("00700000020102"), "6700");
  EXPECT_EQ(tx("01A4040C10" + kIsdR), "6881");
  EXPECT_EQ(tx("40A4040C10" + kIsdR), "6881");  // beyond the 4 channels
  EXPECT_EQ(tx("00A4040C10" + kEcasd), "9000");
  EXPECT_EQ(tx("80E2910003BF2E00"), "6A81");  // the minimal ECASD refuses ES10
}

TEST_F(CardTest, ResetClosesChannelsAndDeselects) {
  EXPECT_EQ(tx("0070000001"), "019000");
  EXPECT_EQ(tx("01A4040C10" + kIsdR), "9000");
  EXPECT_EQ(tx("00A4040C10" + kIsdR), "9000");
  EXPECT_EQ(tx("80E2110002BF2E"), "9000");
  card->reset();
  EXPECT_EQ(isdr->deselected.size(), 2u);
  EXPECT_EQ(tx("01A4040C10" + kIsdR), "6881");
  EXPECT_EQ(tx("80E2910101" "00"), "6986");
}

class ThrowingApp : public test::EchoApp {
 protected:
  expected<Bytes, std::uint16_t> process_es10(ByteView, std::uint8_t) override {
    throw std::runtime_error("boom");
  }
};

TEST_F(CardTest, ThrowingApplicationAnswers6F00) {
  card = std::make_unique<Card>();
  card->add_application(std::make_shared<ThrowingApp>());
  EXPECT_EQ(tx("00A4040C10" + kIsdR), "9000");
  EXPECT_EQ(tx("80E2910003BF2E00"), "6F00");
}

TEST_F(CardTest, GarbageNeverCrashes) {
  std::uint32_t state = 12345;
  auto next = [&] {
    state = state * 1103515245u + 12345u;
    return static_cast<std::uint8_t>(state >> 16);
  };
  for (int i = 0; i < 20000; ++i) {
    Bytes apdu(next() % 12);
    for (auto& b : apdu) b = next();
    if (i % 3 == 0 && apdu.size() > 1) apdu[0] = next() & 0x83;
    const Bytes r = card->transmit(apdu);
    ASSERT_GE(r.size(), 2u);
  }
}

}  // namespace
}  // namespace rsp::card

namespace rsp::card {
namespace {

/// An application that takes command APDUs as they come (no ES10 adapter).
class RawApp final : public Application {
 public:
  ByteView aid() const override { return aid_; }
  void on_select(std::uint8_t channel) override { selects.push_back(channel); }
  apdu::Response process(const ApduCommand& c) override {
    seen.push_back(c);
    if (c.apdu.ins == 0x10) return {Bytes(300, 0x33), 0x9000};
    if (c.apdu.ins == 0x12) return {Bytes{0x01, 0x02}, 0x6310};  // a warning with data
    return {{}, 0x6A81};
  }
  std::vector<ApduCommand> seen;
  std::vector<std::uint8_t> selects;

 private:
  Bytes aid_ = from_hex("A000000151535041").value();
};

TEST(CardApplications, ReceiveCommandApdusWithTheirChannelAndClass) {
  Card card;
  auto app = std::make_shared<RawApp>();
  card.add_application(app);
  auto tx = [&](std::string_view h) { return to_hex(card.transmit(from_hex(h).value())); };
  EXPECT_EQ(tx("80100000"), "6D00");  // nothing selected
  EXPECT_EQ(tx("0070000001"), "019000");
  EXPECT_EQ(tx("01A4040C08A000000151535041"), "9000");
  ASSERT_EQ(app->selects, std::vector<std::uint8_t>{1});
  EXPECT_EQ(tx("81100102030A0B0C00").substr(0, 4), "3333");  // case 4, Le 256
  ASSERT_EQ(app->seen.size(), 1u);
  EXPECT_EQ(app->seen[0].channel, 1);
  EXPECT_TRUE(app->seen[0].proprietary);
  EXPECT_EQ(app->seen[0].security_level, 0);
  EXPECT_EQ(app->seen[0].apdu.p1, 0x01);
  EXPECT_EQ(to_hex(app->seen[0].apdu.data), "0A0B0C");
  EXPECT_EQ(app->seen[0].apdu.le, std::optional<std::uint32_t>(256));
  EXPECT_EQ(tx("81C0000000").size(), 2u * 44 + 4);  // the 44 bytes left, then 9000
  EXPECT_EQ(tx("01120000"), "01026310");  // warnings come back with their data at once
  EXPECT_FALSE(app->seen.back().proprietary);
  EXPECT_EQ(tx("01140000"), "6A81");
  EXPECT_EQ(tx("81E2910001AA"), "6A81");  // STORE DATA is the application's too
  EXPECT_EQ(tx("84100000"), "6882");      // secure messaging without a secure channel
}

}  // namespace
}  // namespace rsp::card
