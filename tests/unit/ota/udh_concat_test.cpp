#include <gtest/gtest.h>

#include "rsp/ota/concat.hpp"
#include "rsp/ota/udh.hpp"

namespace rsp::ota {
namespace {

Bytes iota(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return b;
}

TEST(OtaUdh, ParsesAndEncodes) {
  // TS 31.115 examples as in the pySim unit tests: 02 71 00, 04 71 00 70 00 is refused (both markers).
  const Bytes in = from_hex("027100ABCD").value();
  auto ud = parse_user_data(in, true).value();  // views into `in`
  ASSERT_EQ(ud.elements.size(), 1u);
  EXPECT_EQ(ud.elements[0].iei, kIeiResponsePacket);
  EXPECT_EQ(to_hex(ud.header), "027100");
  EXPECT_EQ(to_hex(ud.body), "ABCD");
  EXPECT_EQ(parse_user_data(from_hex("0471007000").value(), true).error().code,
            OtaErrorCode::UnexpectedElement);
  EXPECT_EQ(parse_user_data(from_hex("03710110").value(), true).error().code, OtaErrorCode::InvalidValue);
  EXPECT_EQ(to_hex(encode_header({concat_element({1, 2, 1, false}), {kIeiResponsePacket, {}}}).value()),
            "0700030102017100");
  EXPECT_EQ(to_hex(encode_header({concat_element({0x1234, 2, 1, true}), {kIeiResponsePacket, {}}}).value()),
            "080804123402017100");
  auto wide = parse_user_data(from_hex("080804123402017100").value(), true).value();
  EXPECT_EQ(find_concat(wide.elements).value(), (Concat{0x1234, 2, 1, true}));
  // Unknown elements pass through.
  auto other = parse_user_data(from_hex("0405021234AA").value(), true).value();
  EXPECT_EQ(other.elements[0].data, from_hex("1234").value());
  EXPECT_TRUE(encode_header({}).value().empty());
  EXPECT_EQ(parse_user_data(from_hex("AB").value(), false).value().body.size(), 1u);
}

TEST(OtaUdh, RejectsMalformed) {
  auto code = [](const char* hex) { return parse_user_data(from_hex(hex).value(), true).error().code; };
  EXPECT_EQ(code(""), OtaErrorCode::Truncated);
  EXPECT_EQ(code("05"), OtaErrorCode::Truncated);
  EXPECT_EQ(code("0100"), OtaErrorCode::Truncated);
  EXPECT_EQ(code("020003"), OtaErrorCode::Truncated);
  EXPECT_EQ(code("0400020101"), OtaErrorCode::InvalidValue);    // 8-bit concat of 2 octets
  EXPECT_EQ(code("050003010000"), OtaErrorCode::InvalidValue);  // total 0
  EXPECT_EQ(code("050003010200"), OtaErrorCode::InvalidValue);  // sequence 0
  EXPECT_EQ(code("050003010203"), OtaErrorCode::InvalidValue);  // sequence above total
  EXPECT_EQ(code("0A000301020100030102020000"), OtaErrorCode::UnexpectedElement);
  EXPECT_FALSE(encode_header({{kIeiConcat8, {1, 0, 1}}}));
}

TEST(OtaConcat, SingleSmsHasNoConcatenation) {
  Bytes packet = iota(137);
  auto segs = segment_packet(packet, kIeiCommandPacket, 5).value();
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0].size(), 140u);
  EXPECT_EQ(to_hex(ByteView(segs[0]).first(3)), "027000");
  auto r = reassemble(segs).value();
  EXPECT_EQ(r.packet, packet);
  EXPECT_EQ(r.packet_iei, kIeiCommandPacket);
  EXPECT_EQ(to_hex(r.first_header), "027000");
}

class OtaConcatSizes : public ::testing::TestWithParam<std::tuple<std::size_t, bool>> {};

TEST_P(OtaConcatSizes, SplitsAndReassemblesInAnyOrder) {
  const auto [size, wide] = GetParam();
  Bytes packet = iota(size);
  auto segs = segment_packet(packet, kIeiCommandPacket, 0x1A2B, wide).value();
  ASSERT_GE(segs.size(), 2u);
  for (std::size_t i = 0; i < segs.size(); ++i) {
    EXPECT_LE(segs[i].size(), 140u);
    auto ud = parse_user_data(segs[i], true).value();
    auto c = find_concat(ud.elements).value();
    EXPECT_EQ(c.sequence, i + 1);
    EXPECT_EQ(c.total, segs.size());
    EXPECT_EQ(c.wide, wide);
    EXPECT_EQ(c.reference, wide ? 0x1A2B : 0x2B);
    // TS 31.115 §4.2: the packet identifier only in the first segment.
    EXPECT_EQ(has_element(ud.elements, kIeiCommandPacket), i == 0);
  }
  EXPECT_EQ(reassemble(segs).value().packet, packet);
  std::vector<Bytes> reversed(segs.rbegin(), segs.rend());
  EXPECT_EQ(reassemble(reversed).value().packet, packet);
  // Any missing segment is reported.
  for (std::size_t skip = 0; skip < segs.size(); ++skip) {
    std::vector<Bytes> partial;
    for (std::size_t i = 0; i < segs.size(); ++i)
      if (i != skip) partial.push_back(segs[i]);
    EXPECT_EQ(reassemble(partial).error().code, OtaErrorCode::MissingSegment);
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, OtaConcatSizes,
                         ::testing::Combine(::testing::Values(138, 266, 267, 600, 2000),
                                            ::testing::Bool()));

TEST(OtaConcat, ReassemblerErrors) {
  Bytes packet = iota(300);
  auto segs = segment_packet(packet, kIeiResponsePacket, 9).value();
  ASSERT_EQ(segs.size(), 3u);
  Reassembler r;
  EXPECT_FALSE(r.add(segs[2]).value());
  EXPECT_EQ(r.add(segs[2]).error().code, OtaErrorCode::DuplicateSegment);
  // Another total for the same reference: another message, kept apart.
  Bytes other_total = segs[1];
  other_total[4] = 4;
  EXPECT_FALSE(r.add(other_total).value());
  EXPECT_EQ(r.pending(), 2u);
  // A packet identifier outside the first segment.
  Bytes marked = concat({from_hex("07000309030271").value(), Bytes{0x00}, Bytes(3, 0xEE)});
  EXPECT_EQ(r.add(marked).error().code, OtaErrorCode::InconsistentSegment);
  // A first segment without one.
  Bytes unmarked = concat({from_hex("0500030903").value(), Bytes{0x01}, Bytes(3, 0xEE)});
  EXPECT_EQ(r.add(unmarked).error().code, OtaErrorCode::MissingElement);
  EXPECT_EQ(r.add(from_hex("0100").value()).error().code, OtaErrorCode::Truncated);
  EXPECT_EQ(r.add(from_hex("00AA").value()).error().code, OtaErrorCode::MissingElement);
  // The errors left the collected segment in place.
  EXPECT_FALSE(r.add(segs[0]).value());
  auto done = r.add(segs[1]).value();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->packet, packet);
  EXPECT_EQ(done->packet_iei, kIeiResponsePacket);
  EXPECT_EQ(to_hex(done->first_header), "0700030903017100");
  EXPECT_EQ(r.pending(), 1u);  // the four-segment one
  // Interleaved messages and the pending limit.
  Reassembler small(2);
  auto a = segment_packet(iota(200), kIeiCommandPacket, 1).value();
  auto b = segment_packet(iota(201), kIeiCommandPacket, 2).value();
  auto c = segment_packet(iota(202), kIeiCommandPacket, 3).value();
  EXPECT_FALSE(small.add(a[0]).value());
  EXPECT_FALSE(small.add(b[0]).value());
  EXPECT_FALSE(small.add(c[0]).value());  // evicts message 1
  EXPECT_EQ(small.pending(), 2u);
  EXPECT_EQ(small.add(b[1]).value()->packet, iota(201));
  EXPECT_FALSE(small.add(a[1]).value());
  EXPECT_EQ(small.add(c[1]).value()->packet, iota(202));
  // Too many segments, wrong identifier.
  EXPECT_EQ(segment_packet(Bytes(134 * 256, 0), kIeiCommandPacket, 1).error().code, OtaErrorCode::TooLong);
  EXPECT_EQ(segment_packet(Bytes(10, 0), 0x05, 1).error().code, OtaErrorCode::InvalidValue);
  // Segments after completion.
  std::vector<Bytes> extra = segs;
  extra.push_back(segs[0]);
  EXPECT_EQ(reassemble(extra).error().code, OtaErrorCode::InconsistentSegment);
}

}  // namespace
}  // namespace rsp::ota

namespace rsp::ota {
namespace {

/// A clock the reassembly tests move by hand.
struct HandClock {
  std::chrono::seconds t{1000};
  ReassemblyOptions options(std::size_t max_pending = 16, std::chrono::seconds timeout = std::chrono::seconds(120)) {
    return ReassemblyOptions{max_pending, timeout, [this] { return t; }};
  }
};

Bytes counting(std::size_t n, std::uint8_t from) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(from + i);
  return b;
}

TEST(OtaConcat, AStalePartIsDroppedAndAFreshMessageWithItsReferenceAccepted) {
  HandClock clock;
  Reassembler r(clock.options());
  auto stale = segment_packet(counting(200, 1), kIeiCommandPacket, 7).value();
  auto fresh = segment_packet(counting(200, 9), kIeiCommandPacket, 7).value();
  ASSERT_EQ(stale.size(), 2u);
  EXPECT_FALSE(r.add(stale[0], "smsr").value());  // its second part never comes
  clock.t += std::chrono::seconds(119);
  // Within the timeout the fresh first part is taken for the stale one's.
  EXPECT_EQ(r.add(fresh[0], "smsr").error().code, OtaErrorCode::DuplicateSegment);
  clock.t += std::chrono::seconds(1);
  EXPECT_FALSE(r.add(fresh[0], "smsr").value());  // the stale part went first
  EXPECT_EQ(r.pending(), 1u);
  auto done = r.add(fresh[1], "smsr").value();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->packet, counting(200, 9));
  EXPECT_EQ(r.pending(), 0u);
  // A message whose parts arrive within the timeout is whole.
  EXPECT_FALSE(r.add(stale[1], "smsr").value());
  clock.t += std::chrono::seconds(119);
  EXPECT_EQ(r.add(stale[0], "smsr").value()->packet, counting(200, 1));
}

TEST(OtaConcat, PartsOfTwoOriginatorsWithOneReferenceAreKeptApart) {
  HandClock clock;
  Reassembler r(clock.options());
  auto mine = segment_packet(counting(200, 1), kIeiCommandPacket, 5).value();
  auto theirs = segment_packet(counting(200, 77), kIeiCommandPacket, 5).value();
  EXPECT_FALSE(r.add(theirs[0], "1/1/4900").value());
  EXPECT_FALSE(r.add(mine[0], "1/1/4912345").value());
  EXPECT_EQ(r.pending(), 2u);
  EXPECT_EQ(r.add(mine[1], "1/1/4912345").value()->packet, counting(200, 1));
  EXPECT_EQ(r.add(theirs[1], "1/1/4900").value()->packet, counting(200, 77));
}

TEST(OtaConcat, PartsWhoseTotalsDifferAreNeverJoined) {
  HandClock clock;
  Reassembler r(clock.options());
  auto two = segment_packet(counting(200, 1), kIeiCommandPacket, 3).value();
  auto three = segment_packet(counting(300, 50), kIeiCommandPacket, 3).value();
  ASSERT_EQ(two.size(), 2u);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_FALSE(r.add(three[0], "a").value());
  EXPECT_FALSE(r.add(two[1], "a").value());   // not taken as part 2 of the three
  EXPECT_FALSE(r.add(three[1], "a").value());
  EXPECT_EQ(r.add(two[0], "a").value()->packet, counting(200, 1));
  EXPECT_EQ(r.add(three[2], "a").value()->packet, counting(300, 50));
}

TEST(OtaConcat, TheNumberOfPartialMessagesIsBoundedOldestDropped) {
  HandClock clock;
  Reassembler r(clock.options(3, std::chrono::seconds(0)));  // no timeout
  std::vector<std::vector<Bytes>> messages;
  for (std::uint16_t ref = 0; ref < 5; ++ref)
    messages.push_back(segment_packet(counting(200, static_cast<std::uint8_t>(ref)), kIeiCommandPacket, ref).value());
  for (auto& m : messages) EXPECT_FALSE(r.add(m[0], "a").value());
  EXPECT_EQ(r.pending(), 3u);
  clock.t += std::chrono::hours(24);  // no timeout: still held
  EXPECT_FALSE(r.add(messages[0][1], "a").value());  // dropped: starts again, evicting message 2
  EXPECT_EQ(r.add(messages[3][1], "a").value()->packet, counting(200, 3));
  EXPECT_EQ(r.add(messages[4][1], "a").value()->packet, counting(200, 4));
  EXPECT_FALSE(r.add(messages[1][1], "a").value());  // message 1 was dropped
  EXPECT_LE(r.pending(), 3u);
}

}  // namespace
}  // namespace rsp::ota
