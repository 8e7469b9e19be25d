// Walks any input as a TLV tree in both modes; re-encoding a DER element must
// reproduce it byte for byte.
#include <cstdlib>

#include "rsp/tlv/tlv.hpp"

namespace {

void walk(rsp::tlv::Reader r) {
  while (!r.empty()) {
    auto t = r.next();
    if (!t) return;
    if (r.mode() == rsp::tlv::Mode::Der) {
      rsp::tlv::Writer w;
      w.put(t->tag, t->value);
      if (w.bytes().size() != t->encoded.size() ||
          !std::equal(w.bytes().begin(), w.bytes().end(), t->encoded.begin())) {
        std::abort();
      }
    }
    if (t->tag.constructed) {
      auto in = r.enter(*t);
      if (in) walk(*in);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rsp::ByteView in(data, size);
  walk(rsp::tlv::Reader(in, rsp::tlv::Mode::Der));
  walk(rsp::tlv::Reader(in, rsp::tlv::Mode::Ber));
  return 0;
}
