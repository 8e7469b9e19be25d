#include <gtest/gtest.h>

#include "rsp/tlv/tlv.hpp"

namespace rsp::tlv {
namespace {

Bytes hex(const char* h) { return *from_hex(h); }

ErrorCode error_of(const char* h, Mode mode = Mode::Der, Limits limits = {}) {
  Bytes b = hex(h);
  auto r = parse_one(b, mode, limits);
  EXPECT_FALSE(r) << h;
  return r ? ErrorCode::InvalidValue : r.error().code;
}

TEST(TagRaw, MultiByteTagsRoundTrip) {
  for (std::uint32_t raw : {0x30u, 0x5Au, 0x80u, 0xA0u, 0xBF20u, 0xBF3Eu, 0x5F37u, 0x7F21u, 0x5F4900u + 0x49u}) {
    auto t = Tag::from_raw(raw);
    if (raw == 0x5F4949u) {
      EXPECT_FALSE(t);  // continuation bit set on the last octet
      continue;
    }
    ASSERT_TRUE(t) << std::hex << raw;
    EXPECT_EQ(t->raw(), raw);
  }
  auto bf3e = *Tag::from_raw(0xBF3E);
  EXPECT_EQ(bf3e.cls, TagClass::Context);
  EXPECT_TRUE(bf3e.constructed);
  EXPECT_EQ(bf3e.number, 62u);
  auto t7f21 = *Tag::from_raw(0x7F21);
  EXPECT_EQ(t7f21.cls, TagClass::Application);
  EXPECT_EQ(t7f21.number, 33u);
  EXPECT_FALSE(Tag::from_raw(0xBF1E));  // number 30 must use the low form
  EXPECT_FALSE(Tag::from_raw(0xBF8001));  // leading 0x80 subsequent octet
}

TEST(Reader, ReadsNestedElements) {
  // BF20 { 82 03 020201, A9 { 04 01 AA } }
  Bytes b = hex("BF200A8203020201A903040 1AA");
  Reader r(b);
  auto top = r.next();
  ASSERT_TRUE(top) << top.error().to_string();
  EXPECT_EQ(top->tag.raw(), 0xBF20u);
  EXPECT_TRUE(r.empty());
  auto in = r.enter(*top);
  ASSERT_TRUE(in);
  auto svn = in->expect(Tag::context(2));
  ASSERT_TRUE(svn);
  EXPECT_EQ(to_hex(svn->value), "020201");
  EXPECT_EQ(svn->offset, 3u);
  auto list = in->expect(Tag::context(9, true));
  ASSERT_TRUE(list);
  auto inner = in->enter(*list);
  ASSERT_TRUE(inner);
  auto ski = inner->next();
  ASSERT_TRUE(ski);
  EXPECT_EQ(ski->offset, 10u);
  EXPECT_TRUE(in->finish());
}

TEST(Reader, LongFormLengths) {
  Bytes value(300, 0x42);
  Bytes enc = encode(Tag::universal(4), value);
  EXPECT_EQ(to_hex(ByteView(enc).first(4)), "0482012C");
  auto t = parse_one(enc);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->value.size(), 300u);
}

TEST(Reader, TypedErrors) {
  EXPECT_EQ(error_of("04"), ErrorCode::Truncated);
  EXPECT_EQ(error_of("0403AABB"), ErrorCode::Truncated);
  EXPECT_EQ(error_of("BF"), ErrorCode::Truncated);
  EXPECT_EQ(error_of("04850100000000"), ErrorCode::LengthTooLong);
  EXPECT_EQ(error_of("04FF"), ErrorCode::LengthTooLong);
  EXPECT_EQ(error_of("048101AA"), ErrorCode::NonMinimalLength);
  EXPECT_EQ(error_of("04820001AA"), ErrorCode::NonMinimalLength);
  EXPECT_EQ(error_of("30800000"), ErrorCode::IndefiniteLength);
  EXPECT_EQ(error_of("1F0100"), ErrorCode::NonMinimalTag);
  EXPECT_EQ(error_of("1F807F00"), ErrorCode::NonMinimalTag);
  EXPECT_EQ(error_of("1FFFFFFF7F00"), ErrorCode::TagTooLarge);
  EXPECT_EQ(error_of("0401AA00"), ErrorCode::TrailingBytes);
  // A length past the limit is refused before anything is read.
  EXPECT_EQ(error_of("0484FFFFFFFF"), ErrorCode::LengthTooLong);
  Limits small;
  small.max_length = 2;
  EXPECT_EQ(error_of("0403AABBCC", Mode::Der, small), ErrorCode::LengthTooLong);
}

TEST(Reader, ErrorOffsetsPointIntoTheOuterInput) {
  Bytes b = hex("30060401AA04 05AA");  // second child claims 5 bytes, has 1
  Reader r(b);
  auto top = r.next();
  ASSERT_TRUE(top);
  auto in = r.enter(*top);
  ASSERT_TRUE(in);
  ASSERT_TRUE(in->next());
  auto bad = in->next();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::Truncated);
  EXPECT_EQ(bad.error().offset, 7u);
}

TEST(Reader, BerAcceptsNonMinimalAndIndefinite) {
  Bytes nonminimal = hex("048101AA");
  auto t = parse_one(nonminimal, Mode::Ber);
  ASSERT_TRUE(t);
  EXPECT_EQ(to_hex(t->value), "AA");

  Bytes b = hex("3080 0401AA 3080 0500 0000 0000");
  auto s = parse_one(b, Mode::Ber);
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_TRUE(s->indefinite);
  EXPECT_EQ(s->encoded.size(), b.size());
  EXPECT_EQ(to_hex(s->value), "0401AA308005000000");
  Reader r(b, Mode::Ber);
  auto top = r.next();
  ASSERT_TRUE(top);
  auto in = r.enter(*top);
  ASSERT_TRUE(in);
  ASSERT_TRUE(in->expect(Tag::universal(4)));
  auto inner = in->expect(Tag::universal(16, true));
  ASSERT_TRUE(inner);
  EXPECT_TRUE(inner->indefinite);
  EXPECT_TRUE(in->finish());
}

TEST(Reader, BerIndefiniteErrors) {
  EXPECT_EQ(error_of("0480AA0000", Mode::Ber), ErrorCode::IndefiniteLength);  // primitive
  EXPECT_EQ(error_of("30800401AA", Mode::Ber), ErrorCode::Truncated);        // no EOC
  EXPECT_EQ(error_of("3080000100", Mode::Ber), ErrorCode::InvalidValue);     // bad EOC
}

TEST(Reader, NestingIsBounded) {
  // 40 levels of indefinite-length SEQUENCE.
  Bytes b;
  for (int i = 0; i < 40; ++i) {
    b.push_back(0x30);
    b.push_back(0x80);
  }
  for (int i = 0; i < 40; ++i) {
    b.push_back(0);
    b.push_back(0);
  }
  auto r = parse_one(b, Mode::Ber);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::NestingTooDeep);
  Limits deep;
  deep.max_depth = 64;
  EXPECT_TRUE(parse_one(b, Mode::Ber, deep));

  // Definite lengths: enter() refuses past the limit.
  Bytes d = hex("3004 3002 3000");
  Limits two;
  two.max_depth = 1;
  Reader r0(d, Mode::Der, two);
  auto a = r0.next();
  ASSERT_TRUE(a);
  auto r1 = r0.enter(*a);
  ASSERT_TRUE(r1);
  auto b1 = r1->next();
  ASSERT_TRUE(b1);
  auto r2 = r1->enter(*b1);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code, ErrorCode::NestingTooDeep);
}

TEST(Reader, ExpectAndOptional) {
  Bytes b = hex("8001AA8101BB");
  Reader r(b);
  auto missing = r.optional(Tag::context(5));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  auto wrong = r.expect(Tag::context(1), "Foo.bar");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::UnexpectedTag);
  EXPECT_EQ(wrong.error().context, "Foo.bar");
  ASSERT_TRUE(r.expect(Tag::context(0)));
  auto present = r.optional(Tag::context(1));
  ASSERT_TRUE(present);
  ASSERT_TRUE(*present);
  EXPECT_EQ(to_hex((*present)->value), "BB");
  auto end = r.expect(Tag::context(2), "Foo.baz");
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().code, ErrorCode::MissingElement);
}

}  // namespace
}  // namespace rsp::tlv
