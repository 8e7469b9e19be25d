#include "rsp/crypto/scp80.hpp"

#include <gtest/gtest.h>

#include "kat.hpp"

namespace rsp::crypto::scp80 {
namespace {

using test::read_kat;

Tar tar_of(const Bytes& b) { return {b.at(0), b.at(1), b.at(2)}; }

KeyLookup fixed_keys(const Keys& keys, Tar known_tar) {
  return [keys, known_tar](const Tar& tar, const Spi&, std::uint8_t, std::uint8_t)
             -> expected<Keys, Status> {
    if (tar != known_tar) return unexpected(Status::TarUnknown);
    return keys;
  };
}

TEST(Scp80, SpiCoding) {
  auto spi = Spi::decode(0x06, 0x19);
  ASSERT_TRUE(spi);
  EXPECT_EQ(spi->integrity, Integrity::CryptographicChecksum);
  EXPECT_TRUE(spi->ciphering);
  EXPECT_EQ(spi->counter, CounterMode::None);
  EXPECT_EQ(spi->por, PorMode::Always);
  EXPECT_EQ(spi->por_integrity, Integrity::CryptographicChecksum);
  EXPECT_TRUE(spi->por_ciphered);
  EXPECT_FALSE(spi->por_via_sms_submit);
  EXPECT_EQ(spi->encode(), (std::array<std::uint8_t, 2>{0x06, 0x19}));
  for (int a = 0; a < 256; ++a)
    for (int b = 0; b < 256; ++b) {
      auto s = Spi::decode(static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b));
      if (s) {
        EXPECT_EQ(s->encode(), (std::array<std::uint8_t, 2>{std::uint8_t(a), std::uint8_t(b)}));
      }
    }
  EXPECT_FALSE(Spi::decode(0x20, 0x00));
  EXPECT_FALSE(Spi::decode(0x00, 0x03));
  EXPECT_EQ(aes_key_identifier(2), 0x22);
}

TEST(Scp80, CommandAndResponseMatchPublicTrace) {
  auto kat = read_kat("scp80_aes.txt");
  ASSERT_EQ(kat.size(), 1u);
  const auto& r = kat[0];
  Keys keys(r.hex("KIc_key"), r.hex("KID_key"));
  Bytes spi_bytes = r.hex("SPI");
  CommandHeader h;
  h.spi = Spi::decode(spi_bytes[0], spi_bytes[1]).value();
  h.kic = r.hex("KIc")[0];
  h.kid = r.hex("KID")[0];
  h.tar = tar_of(r.hex("TAR"));
  h.counter = 0;
  auto cmd = build_command_packet(h, keys, r.hex("data"));
  ASSERT_TRUE(cmd) << cmd.error().message;
  EXPECT_EQ(to_hex(*cmd), to_hex(r.hex("command")));

  auto opened = open_command_packet(*cmd, fixed_keys(keys, h.tar), 0);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->data, r.hex("data"));
  EXPECT_EQ(opened->header.spi, h.spi);
  EXPECT_EQ(opened->header.tar, h.tar);

  auto resp = open_response_packet(r.hex("response"), h.spi, keys, r.hex("udh"));
  ASSERT_TRUE(resp) << resp.error().message;
  EXPECT_EQ(resp->params.status, Status::PorOk);
  EXPECT_EQ(resp->params.tar, h.tar);
  EXPECT_EQ(resp->data, r.hex("response_data"));
  ResponseParams params{h.tar, 0, Status::PorOk};
  EXPECT_EQ(to_hex(build_response_packet(h.spi, params, keys, r.hex("response_data"), r.hex("udh"))
                       .value()),
            to_hex(r.hex("response")));
  // Without the UDH in the checksum the PoR does not verify.
  EXPECT_EQ(open_response_packet(r.hex("response"), h.spi, keys).error().status,
            Status::IntegrityFailed);
}

class Scp80Receiver : public ::testing::Test {
 protected:
  Keys keys_{Bytes(16, 0x11), Bytes(16, 0x22)};
  Tar tar_{0xB0, 0x00, 0x00};
  CommandHeader header(CounterMode mode, std::uint64_t counter) {
    CommandHeader h;
    h.spi.counter = mode;
    h.kic = aes_key_identifier(1);
    h.kid = aes_key_identifier(1);
    h.tar = tar_;
    h.counter = counter;
    return h;
  }
  Status open_status(const Bytes& packet, std::uint64_t stored) {
    auto r = open_command_packet(packet, fixed_keys(keys_, tar_), stored);
    return r ? Status::PorOk : r.error().status;
  }
};

TEST_F(Scp80Receiver, CounterRules) {
  Bytes data = from_hex("80E6020016").value();
  auto higher = build_command_packet(header(CounterMode::Higher, 10), keys_, data).value();
  EXPECT_EQ(open_status(higher, 9), Status::PorOk);
  EXPECT_EQ(open_status(higher, 5), Status::PorOk);
  EXPECT_EQ(open_status(higher, 10), Status::CounterLow);
  EXPECT_EQ(open_status(higher, kMaxCounter), Status::CounterBlocked);
  auto one = build_command_packet(header(CounterMode::OneHigher, 10), keys_, data).value();
  EXPECT_EQ(open_status(one, 9), Status::PorOk);
  EXPECT_EQ(open_status(one, 8), Status::CounterHigh);
  EXPECT_EQ(open_status(one, 10), Status::CounterLow);
  auto none = build_command_packet(header(CounterMode::None, 0), keys_, data).value();
  EXPECT_EQ(open_status(none, 1000), Status::PorOk);
  auto avail = build_command_packet(header(CounterMode::Available, 3), keys_, data).value();
  EXPECT_EQ(open_status(avail, 1000), Status::PorOk);
}

TEST_F(Scp80Receiver, ErrorsMapToStatusCodes) {
  Bytes data(40, 0xAB);
  auto pkt = build_command_packet(header(CounterMode::Higher, 2), keys_, data).value();
  EXPECT_EQ(open_command_packet(pkt, fixed_keys(keys_, tar_), 1).value().data, data);
  // Any flipped bit in the ciphered part breaks the checksum.
  for (std::size_t i = 10; i < pkt.size(); ++i) {
    Bytes bad = pkt;
    bad[i] ^= 0x40;
    Status s = open_status(bad, 1);
    EXPECT_TRUE(s == Status::IntegrityFailed || s == Status::CipheringError) << i;
  }
  Bytes wrong_tar = pkt;
  wrong_tar[9] ^= 1;
  EXPECT_EQ(open_status(wrong_tar, 1), Status::TarUnknown);
  Bytes bad_cpl = pkt;
  bad_cpl[1] ^= 1;
  auto r = open_command_packet(bad_cpl, fixed_keys(keys_, tar_), 1);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().no_por);
  Bytes des_kic = pkt;
  des_kic[5] = 0x11;  // DES
  EXPECT_EQ(open_status(des_kic, 1), Status::SecurityError);
  Bytes bad_chl = pkt;
  bad_chl[2] = 0x0D;
  EXPECT_EQ(open_status(bad_chl, 1), Status::SecurityError);
  EXPECT_EQ(open_status(Bytes(pkt.begin(), pkt.begin() + 12), 1), Status::SecurityError);
  Bytes truncated(pkt.begin(), pkt.end() - 1);
  truncated[1] = static_cast<std::uint8_t>(truncated.size() - 2);
  EXPECT_EQ(open_status(truncated, 1), Status::CipheringError);
  Keys other{Bytes(16, 0x11), Bytes(16, 0x23)};
  EXPECT_EQ(open_command_packet(pkt, fixed_keys(other, tar_), 1).error().status,
            Status::IntegrityFailed);
}

TEST_F(Scp80Receiver, PlainAndUncheckedPackets) {
  CommandHeader h = header(CounterMode::None, 0);
  h.spi.ciphering = false;
  h.spi.integrity = Integrity::None;
  h.spi.por_ciphered = false;
  h.spi.por_integrity = Integrity::None;
  Bytes data = from_hex("00A40004023F00").value();
  auto pkt = build_command_packet(h, keys_, data).value();
  EXPECT_EQ(to_hex(pkt), "0015" "0D" + to_hex(h.spi.encode()) + "1212B00000" "000000000000" +
                             to_hex(data));
  EXPECT_EQ(open_command_packet(pkt, fixed_keys(keys_, tar_), 0).value().data, data);
  ResponseParams p{tar_, 0, Status::CounterLow};
  auto resp = build_response_packet(h.spi, p, keys_, {}).value();
  auto back = open_response_packet(resp, h.spi, keys_).value();
  EXPECT_EQ(back.params.status, Status::CounterLow);
  EXPECT_TRUE(back.data.empty());
  EXPECT_FALSE(open_response_packet(Bytes(5, 0), h.spi, keys_));
}

TEST(Scp80, TripleDesMatchesPublicTrace) {
  auto kat = read_kat("scp80_3des.txt");
  ASSERT_EQ(kat.size(), 4u);
  for (const auto& r : kat) {
    SCOPED_TRACE(r.at("command"));
    Keys keys(r.hex("KIc_key"), r.hex("KID_key"));
    Bytes spi_bytes = r.hex("SPI");
    CommandHeader h;
    h.spi = Spi::decode(spi_bytes[0], spi_bytes[1]).value();
    h.kic = r.hex("KIc")[0];
    h.kid = r.hex("KID")[0];
    EXPECT_EQ(h.kic, des_key_identifier(DesMode::TripleDes2Key, 3));
    h.tar = tar_of(r.hex("TAR"));
    auto cmd = build_command_packet(h, keys, r.hex("data"));
    ASSERT_TRUE(cmd) << cmd.error().message;
    EXPECT_EQ(to_hex(*cmd), to_hex(r.hex("command")));
    auto opened = open_command_packet(*cmd, fixed_keys(keys, h.tar), 0);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(opened->data, r.hex("data"));
    EXPECT_EQ(opened->header.kic, h.kic);
    if (!r.has("response")) continue;
    auto resp = open_response_packet(r.hex("response"), h, keys, r.hex("udh"));
    ASSERT_TRUE(resp) << resp.error().message;
    EXPECT_EQ(resp->params.status, Status::PorOk);
    EXPECT_EQ(resp->data, r.hex("response_data"));
    ResponseParams params{h.tar, 0, Status::PorOk, h.kic, h.kid};
    EXPECT_EQ(to_hex(build_response_packet(h.spi, params, keys, r.hex("response_data"), r.hex("udh"))
                         .value()),
              to_hex(r.hex("response")));
    if (h.spi.por_integrity == Integrity::CryptographicChecksum) {
      Bytes bad = r.hex("response");
      bad.back() ^= 0x01;
      EXPECT_EQ(open_response_packet(bad, h, keys, r.hex("udh")).error().status,
                Status::IntegrityFailed);
    }
  }
}

class Scp80Des : public ::testing::TestWithParam<DesMode> {};

TEST_P(Scp80Des, RoundTripAndCounterRules) {
  const DesMode mode = GetParam();
  const std::size_t key_len = mode == DesMode::Cbc ? 8 : mode == DesMode::TripleDes2Key ? 16 : 24;
  Keys keys(Bytes(key_len, 0x4A), Bytes(key_len, 0x5B));
  for (std::size_t i = 0; i < key_len; ++i) keys.kic[i] = static_cast<std::uint8_t>(0x10 + i);
  const Tar tar{0xB0, 0x00, 0x00};
  CommandHeader h;
  h.kic = des_key_identifier(mode, 1);
  h.kid = des_key_identifier(mode, 1);
  h.tar = tar;
  Bytes data(37, 0xC3);
  for (CounterMode cm : {CounterMode::None, CounterMode::Available, CounterMode::Higher,
                         CounterMode::OneHigher}) {
    h.spi.counter = cm;
    h.counter = 7;
    auto pkt = build_command_packet(h, keys, data).value();
    EXPECT_EQ((pkt.size() - 10) % 8, 0u);
    auto status = [&](std::uint64_t stored) {
      auto r = open_command_packet(pkt, fixed_keys(keys, tar), stored);
      if (r) {
        EXPECT_EQ(r->data, data);
      }
      return r ? Status::PorOk : r.error().status;
    };
    const bool checked = cm == CounterMode::Higher || cm == CounterMode::OneHigher;
    EXPECT_EQ(status(6), Status::PorOk);
    EXPECT_EQ(status(7), checked ? Status::CounterLow : Status::PorOk);
    EXPECT_EQ(status(100), checked ? Status::CounterLow : Status::PorOk);
    EXPECT_EQ(status(5), cm == CounterMode::OneHigher ? Status::CounterHigh : Status::PorOk);
    EXPECT_EQ(status(kMaxCounter), checked ? Status::CounterBlocked : Status::PorOk);
    Bytes bad = pkt;
    bad[bad.size() - 3] ^= 0x10;
    auto r = open_command_packet(bad, fixed_keys(keys, tar), 6);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().status == Status::IntegrityFailed ||
                r.error().status == Status::CipheringError);
  }
  ResponseParams params{tar, 7, Status::CounterLow, h.kic, h.kid};
  auto resp = build_response_packet(h.spi, params, keys, from_hex("9000").value()).value();
  auto back = open_response_packet(resp, h, keys).value();
  EXPECT_EQ(back.params.status, Status::CounterLow);
  EXPECT_EQ(back.params.counter, 7u);
  EXPECT_EQ(back.data, from_hex("9000").value());
}

INSTANTIATE_TEST_SUITE_P(Modes, Scp80Des,
                         ::testing::Values(DesMode::Cbc, DesMode::TripleDes2Key,
                                           DesMode::TripleDes3Key));

TEST(Scp80, DesKeyCodingAndLengthsAreChecked) {
  const Tar tar{0xB0, 0x00, 0x00};
  CommandHeader h;
  h.tar = tar;
  h.kic = des_key_identifier(DesMode::TripleDes3Key, 1);
  h.kid = des_key_identifier(DesMode::TripleDes3Key, 1);
  Keys short_keys(Bytes(16, 1), Bytes(16, 2));  // two-key material for a three-key coding
  EXPECT_EQ(build_command_packet(h, short_keys, Bytes(4, 0)).error().status, Status::SecurityError);
  Keys keys(Bytes(24, 1), Bytes(24, 2));
  auto pkt = build_command_packet(h, keys, Bytes(4, 0)).value();
  EXPECT_EQ(open_command_packet(pkt, fixed_keys(short_keys, tar), 0).error().status,
            Status::SecurityError);
  // DES-ECB ciphering and reserved AES modes are refused.
  h.kic = des_key_identifier(DesMode::Ecb, 1);
  EXPECT_EQ(build_command_packet(h, keys, Bytes(4, 0)).error().status, Status::SecurityError);
  Bytes ecb = pkt;
  ecb[5] = des_key_identifier(DesMode::Ecb, 1);
  EXPECT_EQ(open_command_packet(ecb, fixed_keys(keys, tar), 0).error().status,
            Status::SecurityError);
  Bytes reserved_aes = pkt;
  reserved_aes[6] = 0x16;  // AES with b3-b4 = '01'
  EXPECT_EQ(open_command_packet(reserved_aes, fixed_keys(keys, tar), 0).error().status,
            Status::SecurityError);
  Bytes implicit = pkt;
  implicit[5] = 0x10;  // algorithm known implicitly: not supported
  EXPECT_EQ(open_command_packet(implicit, fixed_keys(keys, tar), 0).error().status,
            Status::SecurityError);
  // Ciphertext not a whole number of DES blocks.
  Bytes cut(pkt.begin(), pkt.end() - 1);
  cut[1] = static_cast<std::uint8_t>(cut.size() - 2);
  EXPECT_EQ(open_command_packet(cut, fixed_keys(keys, tar), 0).error().status,
            Status::CipheringError);
}

}  // namespace
}  // namespace rsp::crypto::scp80
