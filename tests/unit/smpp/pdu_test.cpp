#include "rsp/smpp/pdu.hpp"

#include <gtest/gtest.h>

#include "rsp/smpp/pdu_io.hpp"

using namespace rsp;
using namespace rsp::smpp;

namespace {

Pdu sm_pdu(Command c, std::uint32_t seq) {
  Pdu p;
  p.command_id = static_cast<std::uint32_t>(c);
  p.sequence = seq;
  SmBody b;
  b.message.source = {"491700000001", 1, 1};
  b.message.destination = {"491700000002", 1, 1};
  b.message.protocol_id = kPidSimDataDownload;
  b.message.data_coding = kDcs8BitClass2;
  b.message.udhi = true;
  b.message.registered_delivery = 1;
  b.message.user_data = {0x02, 0x70, 0x00, 0x01, 0x02, 0x03, 0x00, 0xFF};
  p.body = b;
  return p;
}

void put32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

Bytes with_length(Bytes b) {
  put32(b, 0, static_cast<std::uint32_t>(b.size()));
  return b;
}

}  // namespace

TEST(SmppPdu, BindTransmitterHasTheSmpp34Layout) {
  Pdu p;
  p.command_id = static_cast<std::uint32_t>(Command::BindTransmitter);
  p.sequence = 7;
  p.body = Bind{"smsr", "pw", "OTA", 1, 1, ""};
  const auto bytes = encode(p);
  ASSERT_TRUE(bytes);
  // §4.1.1: header, system_id, password, system_type (C strings), interface_version 0x34, ton, npi, address_range.
  const auto expected = *from_hex(
      "00000020" "00000002" "00000000" "00000007"
      "736D737200" "707700" "4F544100" "34" "01" "01" "00");
  EXPECT_EQ(to_hex(*bytes), to_hex(expected));
}

TEST(SmppPdu, SubmitSmHasTheSmpp34Layout) {
  const auto bytes = encode(sm_pdu(Command::SubmitSm, 2));
  ASSERT_TRUE(bytes);
  // §4.4.1: service_type "", ton/npi/addr, ton/npi/addr, esm_class 0x40, PID 7F,
  // priority 0, two empty times, registered_delivery 1, replace 0, DCS F6, default id 0, sm_length, short_message.
  const auto expected = *from_hex(
      "00000000" "00000004" "00000000" "00000002"
      "00" "0101" "34393137303030303030303100" "0101" "34393137303030303030303200"
      "40" "7F" "00" "00" "00" "01" "00" "F6" "00" "08" "02700001020300FF");
  EXPECT_EQ(to_hex(*bytes), to_hex(with_length(expected)));
}

TEST(SmppPdu, EveryPduRoundTrips) {
  for (const auto c : {Command::SubmitSm, Command::DeliverSm}) {
    const auto p = sm_pdu(c, 0x7FFFFFFF);
    const auto bytes = encode(p);
    ASSERT_TRUE(bytes);
    const auto back = decode(*bytes);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->command_id, p.command_id);
    EXPECT_EQ(back->sequence, p.sequence);
    EXPECT_EQ(std::get<SmBody>(back->body).message, std::get<SmBody>(p.body).message);
    EXPECT_EQ(std::get<SmBody>(back->body).esm_class, kEsmUdhi);
  }
  for (const auto c : {Command::BindReceiver, Command::BindTransmitter, Command::BindTransceiver}) {
    Pdu p;
    p.command_id = static_cast<std::uint32_t>(c);
    p.sequence = 3;
    p.body = Bind{"device", "secret12", "M2M", 1, 1, "491700000002"};
    const auto back = decode(*encode(p));
    ASSERT_TRUE(back);
    const auto& b = std::get<Bind>(back->body);
    EXPECT_EQ(b.system_id, "device");
    EXPECT_EQ(b.password, "secret12");
    EXPECT_EQ(b.system_type, "M2M");
    EXPECT_EQ(b.address_range, "491700000002");
    Pdu r;
    r.command_id = p.command_id | 0x80000000u;
    r.sequence = 3;
    r.body = BindResp{"SMSC"};
    const auto rb = decode(*encode(r));
    ASSERT_TRUE(rb);
    EXPECT_EQ(std::get<BindResp>(rb->body).system_id, "SMSC");
  }
  Pdu r;
  r.command_id = static_cast<std::uint32_t>(Command::SubmitSmResp);
  r.sequence = 9;
  r.body = MessageIdResp{"ABC123"};
  const auto rb = decode(*encode(r));
  ASSERT_TRUE(rb);
  EXPECT_EQ(std::get<MessageIdResp>(rb->body).message_id, "ABC123");
  for (const auto c : {Command::EnquireLink, Command::EnquireLinkResp, Command::Unbind, Command::UnbindResp,
                       Command::GenericNack}) {
    Pdu h;
    h.command_id = static_cast<std::uint32_t>(c);
    h.sequence = 5;
    const auto hb = encode(h);
    ASSERT_TRUE(hb);
    EXPECT_EQ(hb->size(), kHeaderSize);
    ASSERT_TRUE(decode(*hb));
  }
}

TEST(SmppPdu, ReceiptParametersTravelInDeliverSm) {
  auto p = sm_pdu(Command::DeliverSm, 4);
  auto& b = std::get<SmBody>(p.body);
  b.esm_class = kEsmDeliveryReceipt;
  b.message.udhi = false;
  b.receipted_message_id = "T17";
  b.message_state = 2;
  const auto back = decode(*encode(p));
  ASSERT_TRUE(back) << back.error().message;
  const auto& bb = std::get<SmBody>(back->body);
  EXPECT_EQ(bb.esm_class, kEsmDeliveryReceipt);
  EXPECT_EQ(bb.receipted_message_id, "T17");
  EXPECT_EQ(bb.message_state, 2);
  // Not in submit_sm.
  auto s = sm_pdu(Command::SubmitSm, 4);
  std::get<SmBody>(s.body).message_state = 2;
  EXPECT_FALSE(encode(s));
}

TEST(SmppPdu, ErrorResponsesNeedNoBody) {
  const auto bytes = *from_hex("00000010" "80000004" "0000000E" "00000009");
  const auto p = decode(bytes);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, status::kInvalidPassword);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(p->body));
  // Even a status libsmpp34 does not know (a vendor range, §5.1.3).
  EXPECT_TRUE(decode(*from_hex("00000010" "80000009" "00000400" "00000001")));
}

TEST(SmppPdu, EncodeRefusesFieldsThatDoNotFit) {
  Pdu p;
  p.command_id = static_cast<std::uint32_t>(Command::BindTransmitter);
  p.sequence = 1;
  p.body = Bind{"a-system-id-too-long", "pw", "", 0, 0, ""};
  EXPECT_FALSE(encode(p));
  p.body = Bind{"id", "password9", "", 0, 0, ""};  // 9 > 8
  EXPECT_FALSE(encode(p));
  p.body = Bind{"id", "pw", "", 9, 0, ""};  // TON 9 unknown
  EXPECT_FALSE(encode(p));
  p.body = BindResp{"x"};  // body does not match the command
  EXPECT_FALSE(encode(p));
  auto s = sm_pdu(Command::SubmitSm, 0);  // sequence 0
  EXPECT_FALSE(encode(s));
  s = sm_pdu(Command::SubmitSm, 1);
  std::get<SmBody>(s.body).message.user_data.assign(254, 0);
  EXPECT_FALSE(encode(s));
}

TEST(SmppPdu, MalformedInputIsAnErrorNeverACrash) {
  const Bytes good = *encode(sm_pdu(Command::DeliverSm, 1));
  // Truncated anywhere, or with the length field not matching.
  for (std::size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(decode(ByteView(good.data(), n))) << n;
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_FALSE(decode(longer));
  // command_length out of range.
  EXPECT_EQ(frame_length(*from_hex("0000000F000000150000000000000001")).error().kind, PduError::Kind::Framing);
  EXPECT_EQ(frame_length(*from_hex("00010401000000150000000000000001")).error().kind, PduError::Kind::Framing);
  EXPECT_EQ(*frame_length(*from_hex("00010400000000150000000000000001")), kMaxPduSize);
  EXPECT_EQ(*frame_length(*from_hex("000000")), 0u);
  // Sequence number 0 and a request with a status.
  EXPECT_FALSE(decode(*from_hex("00000010000000150000000000000000")));
  EXPECT_FALSE(decode(*from_hex("00000010000000150000000100000001")));
  // Header-only PDU with a body, unknown command.
  EXPECT_FALSE(decode(*from_hex("0000001100000015000000000000000100")));
  const auto unknown = decode(*from_hex("00000010000000FF0000000000000001"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, PduError::Kind::UnknownCommand);
  // A C string without its NUL (the last field of a submit_sm_resp).
  EXPECT_FALSE(decode(with_length(*from_hex("00000000800000040000000000000001414243"))));
  // sm_length beyond the PDU.
  Bytes bad_len = good;
  bad_len[bad_len.size() - 9] = 0xFF;
  EXPECT_FALSE(decode(bad_len));
}

TEST(SmppPdu, OptionalParametersAreCheckedAndUnknownOnesDropped) {
  const Bytes good = *encode(sm_pdu(Command::DeliverSm, 1));
  auto with_tlvs = [&](const char* hex) {
    Bytes b = good;
    const auto t = *from_hex(hex);
    b.insert(b.end(), t.begin(), t.end());
    return with_length(b);
  };
  // Unknown and vendor tags, many of them: ignored, the message still decodes.
  std::string many;
  for (int i = 0; i < 200; ++i) many += "14000001AA";
  EXPECT_TRUE(decode(with_tlvs(many.c_str())));
  EXPECT_TRUE(decode(with_tlvs("0001000100")));  // a tag libsmpp34 does not know
  // message_state with the wrong length, a truncated parameter, a length past the end.
  EXPECT_FALSE(decode(with_tlvs("042700020102")));
  EXPECT_FALSE(decode(with_tlvs("0427")));
  EXPECT_FALSE(decode(with_tlvs("001E0010414200")));
  // receipted_message_id without NUL inside its length is still bounded.
  const auto r = decode(with_tlvs("001E0003414243"));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<SmBody>(r->body).receipted_message_id, "ABC");
}

TEST(SmppPduReader, FramesPdusWhateverPiecesArrive) {
  Bytes stream;
  for (std::uint32_t s = 1; s <= 3; ++s) {
    const auto b = *encode(sm_pdu(Command::SubmitSm, s));
    stream.insert(stream.end(), b.begin(), b.end());
  }
  PduReader r;
  std::vector<Bytes> got;
  for (const auto byte : stream) {
    r.feed(ByteView(&byte, 1));
    while (true) {
      auto n = r.next();
      ASSERT_TRUE(n);
      if (!*n) break;
      got.push_back(**n);
    }
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(decode(got[2])->sequence, 3u);
  EXPECT_EQ(r.buffered(), 0u);
  r.feed(*from_hex("FFFFFFFF"));
  r.feed(Bytes(12, 0));
  EXPECT_FALSE(r.next());
}

TEST(SmppPdu, DecodesAReceiptBuiltByHand) {
  const auto p = decode(*from_hex("00000046000000050000000000000001" "00" "0101" "34393137303030303030303200" "0101"
                                  "34393137303030303030303100" "040000" "00" "00" "00000000" "01" "78"
                                  "001E00034D3700" "0427000105"));
  ASSERT_TRUE(p) << p.error().message;
  const auto& b = std::get<SmBody>(p->body);
  EXPECT_EQ(b.esm_class, kEsmDeliveryReceipt);
  EXPECT_EQ(b.receipted_message_id, "M7");
  EXPECT_EQ(b.message_state, 5);
}

TEST(SmppPdu, DeliverSmUserDataMayComeInMessagePayload) {
  // deliver_sm with sm_length 0 and message_payload 02 70 00 (§5.3.2.32).
  const Bytes head = *from_hex("00000000000000050000000000000001" "00" "0101" "3100" "0101" "3200" "40" "7F" "00" "00" "00"
                               "00" "00" "F6" "00" "00");
  auto with = [&](const char* tail) {
    Bytes b = head;
    const auto t = *from_hex(tail);
    b.insert(b.end(), t.begin(), t.end());
    return with_length(b);
  };
  const auto p = decode(with("04240003027000"));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(to_hex(std::get<SmBody>(p->body).message.user_data), "027000");
  // Longer than libsmpp34 holds, or both fields used: refused.
  std::string big = "04240401" + std::string(0x401 * 2, 'A');
  EXPECT_FALSE(decode(with(big.c_str())));
  Bytes both = head;
  both.back() = 1;
  both.push_back(0x55);
  const auto t = *from_hex("04240003027000");
  both.insert(both.end(), t.begin(), t.end());
  EXPECT_FALSE(decode(with_length(both)));
  // A PDU far beyond 2 KiB (many ignored vendor parameters) still frames and decodes.
  std::string many;
  for (int i = 0; i < 3000; ++i) many += "14000001AA";
  EXPECT_TRUE(decode(with(many.c_str())));
}
