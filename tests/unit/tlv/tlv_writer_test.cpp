#include <gtest/gtest.h>

#include "rsp/tlv/tlv.hpp"

namespace rsp::tlv {
namespace {

TEST(Writer, LengthForms) {
  Bytes out;
  encode_length(0, out);
  encode_length(127, out);
  encode_length(128, out);
  encode_length(256, out);
  encode_length(70000, out);
  EXPECT_EQ(to_hex(out), "007F818082010083011170");
}

TEST(Writer, HighTagNumbers) {
  Bytes out;
  encode_tag(Tag::context(62, true), out);
  encode_tag(Tag::application(55), out);
  encode_tag(Tag::application(33, true), out);
  encode_tag(Tag::context(200), out);
  EXPECT_EQ(to_hex(out), "BF3E5F377F219F8148");
}

TEST(Writer, NestedLengthsAreFixedUp) {
  Writer w;
  auto outer = w.begin(Tag::context(56, true));  // BF38
  w.put(Tag::context(0), Bytes{0x01});
  auto inner = w.begin(Tag::universal(16, true));
  w.put(Tag::universal(4), Bytes(200, 0xEE));
  w.end(inner);
  w.end(outer);
  Bytes b = w.take();
  auto top = parse_one(b);
  ASSERT_TRUE(top) << top.error().to_string();
  EXPECT_EQ(top->tag.raw(), 0xBF38u);
  Reader r(b);
  auto t = r.next();
  auto in = r.enter(*t);
  ASSERT_TRUE(in);
  ASSERT_TRUE(in->expect(Tag::context(0)));
  auto seq = in->expect(Tag::universal(16, true));
  ASSERT_TRUE(seq);
  auto s = in->enter(*seq);
  auto oct = s->expect(Tag::universal(4));
  ASSERT_TRUE(oct);
  EXPECT_EQ(oct->value.size(), 200u);
  EXPECT_TRUE(in->finish());
}

TEST(Writer, OutputIsAlwaysDer) {
  // Whatever lengths the writer produces parse under strict DER.
  for (std::size_t n : {0u, 1u, 127u, 128u, 255u, 256u, 65535u, 65536u}) {
    Writer w;
    auto m = w.begin(Tag::universal(16, true));
    w.put(Tag::universal(4), Bytes(n, 1));
    w.end(m);
    EXPECT_TRUE(parse_one(w.bytes(), Mode::Der)) << n;
  }
}

}  // namespace
}  // namespace rsp::tlv
