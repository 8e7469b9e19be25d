#include "rsp/ota/command_sms.hpp"

#include <gtest/gtest.h>

#include "../crypto/kat.hpp"
#include "rsp/ota/envelope.hpp"
#include "rsp/ota/por.hpp"

namespace rsp::ota {
namespace {

using namespace crypto::scp80;

KeyLookup lookup(const Keys& keys) {
  return [keys](const Tar&, const Spi&, std::uint8_t, std::uint8_t) -> expected<Keys, Status> { return keys; };
}

TEST(OtaCommandSms, PublicTraceInOneSms) {
  // The pySim SMS-DELIVER (tests/data/ota/sms_tpdu.txt) carries the first 3DES packet of scp80_3des.txt.
  const auto des = crypto::test::read_kat("scp80_3des.txt").at(0);
  CommandHeader h;
  Bytes spi = des.hex("SPI"), tar = des.hex("TAR");
  h.spi = Spi::decode(spi[0], spi[1]).value();
  h.kic = h.kid = des.hex("KIc")[0];
  h.tar = {tar[0], tar[1], tar[2]};
  Keys keys(des.hex("KIc_key"), des.hex("KID_key"));
  auto uds = build_command_user_data(h, keys, des.hex("data"), 0).value();
  ASSERT_EQ(uds.size(), 1u);
  Bytes deliver;
  for (const auto& r : crypto::test::read_kat("sms_tpdu.txt", "ota"))
    if (r.has("deliver_ota")) deliver = r.hex("deliver_ota");
  auto d = decode_sms_deliver(deliver).value();
  EXPECT_EQ(d.user_data.octets, uds[0]);
  auto opened = open_command_user_data(d.user_data.octets, lookup(keys), 0).value();
  EXPECT_EQ(opened.data, des.hex("data"));
}

TEST(OtaCommandSms, ConcatenatedEndToEnd) {
  // SM-SR: a long RAM script as SMS-SUBMITs; card: each as SMS-DELIVER in an ENVELOPE, reassembled, opened, PoR.
  Keys keys(Bytes(16, 0x21), Bytes(16, 0x43));
  CommandHeader h;
  h.spi.counter = CounterMode::Higher;
  h.tar = {0x00, 0x00, 0x01};
  h.counter = 42;
  Bytes script(400, 0x5A);
  auto submits = build_command_submits(h, keys, script, international("4917012345"), 10, 0x77).value();
  ASSERT_EQ(submits.size(), 4u);
  EXPECT_EQ(submits[3].message_reference, 13);
  Reassembler card;
  std::optional<Reassembled> done;
  for (auto it = submits.rbegin(); it != submits.rend(); ++it) {
    auto wire = decode_sms_submit(encode(*it).value()).value();
    SmsPpDownload env;
    env.tpdu.originator = international("4917000001");
    env.tpdu.user_data = wire.user_data;
    auto received = decode_envelope(encode_envelope(env).value()).value();
    auto r = card.add(received.tpdu.user_data.octets).value();
    if (r) done = std::move(r);
  }
  ASSERT_TRUE(done);
  auto opened = open_command(*done, lookup(keys), 41).value();
  EXPECT_EQ(opened.data, script);
  EXPECT_EQ(opened.header.counter, 42u);
  // Replayed: the card answers counter low in its PoR, which the SM-SR opens.
  auto replay = open_command(*done, lookup(keys), 42);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().status, Status::CounterLow);
  auto por = build_por_response_apdu(h, *replay.error().status, keys, {}).value();
  EXPECT_EQ(open_por_response_apdu(apdu::encode_response(por), h, keys).value().params.status,
            Status::CounterLow);
}

TEST(OtaCommandSms, RejectsWrongShapes) {
  Keys keys(Bytes(16, 1), Bytes(16, 2));
  CommandHeader h;
  auto uds = build_command_user_data(h, keys, Bytes(300, 0), 5).value();
  EXPECT_EQ(open_command_user_data(uds[0], lookup(keys), 0).error().code, OtaErrorCode::Unsupported);
  EXPECT_EQ(open_command_user_data(from_hex("027100AABB").value(), lookup(keys), 0).error().code,
            OtaErrorCode::MissingElement);
  auto e = open_command_user_data(from_hex("027000AABB").value(), lookup(keys), 0).error();
  EXPECT_EQ(e.code, OtaErrorCode::SecuredPacket);
  EXPECT_TRUE(e.no_por);
  EXPECT_EQ(open_command(Reassembled{kIeiResponsePacket, {}, {}}, lookup(keys), 0).error().code,
            OtaErrorCode::MissingElement);
  h.kic = 0x10;  // implicit algorithm: refused by SCP80
  EXPECT_EQ(build_command_user_data(h, keys, Bytes(3, 0), 1).error().status, Status::SecurityError);
}

}  // namespace
}  // namespace rsp::ota
