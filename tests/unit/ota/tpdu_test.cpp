#include "rsp/ota/tpdu.hpp"

#include <gtest/gtest.h>

#include "../crypto/kat.hpp"
#include "rsp/ota/udh.hpp"

namespace rsp::ota {
namespace {

using crypto::test::read_kat;

/// The TPDU records of the vector file merged into one.
const crypto::test::KatRecord& vectors() {
  static const crypto::test::KatRecord all = [] {
    crypto::test::KatRecord m;
    for (const auto& r : read_kat("sms_tpdu.txt", "ota"))
      if (!r.has("address")) m.fields.insert(r.fields.begin(), r.fields.end());
    return m;
  }();
  return all;
}

TEST(OtaTpdu, PublicSubmit) {
  Bytes in = vectors().hex("submit");
  auto s = decode_sms_submit(in);
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_TRUE(s->reject_duplicates);
  EXPECT_EQ(s->validity_format, ValidityFormat::Relative);
  EXPECT_EQ(to_hex(s->validity), "A7");
  EXPECT_TRUE(s->user_data.header_present);
  EXPECT_FALSE(s->status_report_request);
  EXPECT_EQ(s->message_reference, 0x0D);
  EXPECT_EQ(s->destination.digits, "61416271170");
  EXPECT_EQ(s->destination.ton, Ton::International);
  EXPECT_EQ(s->pid, 0x00);
  EXPECT_EQ(s->dcs, 0xF5);
  EXPECT_EQ(s->user_data.octets.size(), 140u);
  auto ud = parse_user_data(s->user_data.octets, true).value();
  EXPECT_EQ(find_concat(ud.elements).value(), (Concat{1, 2, 1, false}));
  EXPECT_EQ(encode(*s).value(), in);
}

TEST(OtaTpdu, PublicDeliverAlphanumericOriginator) {
  Bytes in = vectors().hex("deliver_alnum");
  auto d = decode_sms_deliver(in);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_FALSE(d->more_messages);
  EXPECT_FALSE(d->user_data.header_present);
  EXPECT_EQ(d->originator.ton, Ton::Alphanumeric);
  EXPECT_EQ(d->originator.alphanumeric_semi_octets, 8);
  EXPECT_EQ(d->pid, kPidSimDataDownload);
  EXPECT_EQ(d->dcs, kDcsClass2Data);
  EXPECT_EQ(to_hex(d->user_data.octets), "24010101BB400101");
  EXPECT_EQ(encode(*d).value(), in);
}

TEST(OtaTpdu, PublicOtaDeliver) {
  EXPECT_EQ(decode_sms_deliver(vectors().hex("deliver_udl_header_only")).error().code,
            OtaErrorCode::TrailingBytes);
  Bytes in = vectors().hex("deliver_ota");
  auto d = decode_sms_deliver(in).value();
  EXPECT_TRUE(d.more_messages);
  EXPECT_EQ(d.originator, (Address{Ton::Unknown, kNpiIsdn, "12345678", {}, 0}));
  EXPECT_EQ(to_hex(d.timestamp), "22705200000000");
  auto ud = parse_user_data(d.user_data.octets, true).value();
  EXPECT_TRUE(has_element(ud.elements, kIeiCommandPacket));
  EXPECT_EQ(Bytes(ud.body.begin(), ud.body.end()), vectors().hex("deliver_ota_packet"));

  SmsDeliver built;
  built.more_messages = true;
  built.originator = d.originator;
  built.timestamp = d.timestamp;
  built.user_data = binary_user_data(concat({from_hex("027000").value(), vectors().hex("deliver_ota_packet")}), true);
  EXPECT_EQ(encode(built).value(), in);
}

TEST(OtaTpdu, UnusedDeliverBitIsIgnored) {
  // TS 23.040 §9.2.2.1: bit 4 (0x10) of an SMS-DELIVER's first octet is unused; a receiver ignores it.
  Bytes in = vectors().hex("deliver_ota");
  Bytes odd = in;
  odd[0] |= 0x10;
  EXPECT_EQ(decode_sms_deliver(odd).value(), decode_sms_deliver(in).value());
  EXPECT_EQ(encode(decode_sms_deliver(odd).value()).value(), in);
}

TEST(OtaTpdu, Alphabets) {
  EXPECT_EQ(alphabet_of(0xF6), Alphabet::Eight);
  EXPECT_EQ(alphabet_of(0xF2), Alphabet::Gsm7);
  EXPECT_EQ(alphabet_of(0x04), Alphabet::Eight);
  EXPECT_EQ(alphabet_of(0x08), Alphabet::Ucs2);
  EXPECT_EQ(alphabet_of(0x00), Alphabet::Gsm7);
  EXPECT_EQ(alphabet_of(0x24), Alphabet::Eight);  // compressed
  EXPECT_EQ(alphabet_of(0xE0), Alphabet::Ucs2);
  EXPECT_EQ(alphabet_of(0xC0), Alphabet::Gsm7);
  // 7-bit user data: TP-UDL counts septets.
  SmsDeliver d;
  d.originator = international("123");
  d.dcs = 0x00;
  d.user_data.octets = from_hex("C8329BFD06").value();  // "Hello" packed
  d.user_data.septets = 5;
  Bytes enc = encode(d).value();
  EXPECT_EQ(enc[enc.size() - 6], 5);
  EXPECT_EQ(decode_sms_deliver(enc).value(), d);
  d.user_data.septets = 9;
  EXPECT_EQ(encode(d).error().code, OtaErrorCode::InvalidValue);
}

TEST(OtaTpdu, RejectsMalformed) {
  Bytes good = vectors().hex("deliver_ota");
  auto code = [](const Bytes& b) { return decode_sms_deliver(b).error().code; };
  EXPECT_EQ(code({}), OtaErrorCode::Truncated);
  Bytes wrong_mti = good;
  wrong_mti[0] |= 0x01;
  EXPECT_EQ(code(wrong_mti), OtaErrorCode::InvalidValue);
  for (std::size_t cut = 1; cut < good.size(); ++cut)
    EXPECT_FALSE(decode_sms_deliver(ByteView(good).first(cut))) << cut;
  Bytes bad_scts = good;
  bad_scts[13] = 0x1A;
  EXPECT_EQ(code(bad_scts), OtaErrorCode::InvalidValue);
  Bytes bad_udh = good;
  bad_udh[17] = 0x30;  // UDHL beyond TP-UD
  EXPECT_EQ(code(bad_udh), OtaErrorCode::Truncated);
  Bytes long_udl = good;
  long_udl[16] = 141;
  EXPECT_EQ(code(long_udl), OtaErrorCode::TooLong);
  EXPECT_EQ(decode_sms_submit(good).error().code, OtaErrorCode::InvalidValue);

  SmsSubmit s;
  s.destination = international("4912345");
  s.validity_format = ValidityFormat::Absolute;
  EXPECT_EQ(encode(s).error().code, OtaErrorCode::InvalidValue);
  s.validity = Bytes(7, 0x11);
  s.user_data = binary_user_data(Bytes(141, 0), false);
  EXPECT_EQ(encode(s).error().code, OtaErrorCode::TooLong);
  s.user_data = binary_user_data(Bytes(140, 0), false);
  Bytes enc = encode(s).value();
  EXPECT_EQ(decode_sms_submit(enc).value(), s);
  for (std::size_t cut = 0; cut < enc.size(); ++cut) EXPECT_FALSE(decode_sms_submit(ByteView(enc).first(cut)));
  SmsDeliver d;
  d.originator = international("1");
  d.user_data = binary_user_data(from_hex("0500").value(), true);  // header longer than the data
  EXPECT_FALSE(encode(d));
}

}  // namespace
}  // namespace rsp::ota
