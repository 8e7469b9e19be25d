#include "rsp/apdu/status_words.hpp"
#include "rsp/card/aid.hpp"
#include "rsp/card/es10_application.hpp"

namespace rsp::card {

namespace {

void put_tlv(Bytes& out, std::initializer_list<std::uint8_t> tag, ByteView value) {
  out.insert(out.end(), tag);
  // FCI parts stay far below 128 bytes; longer values take the 81 form.
  if (value.size() >= 0x80) out.push_back(0x81);
  out.push_back(static_cast<std::uint8_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
}

}  // namespace

Bytes make_fci(ByteView aid) {
  const std::uint8_t max_block[] = {0xFF};
  Bytes proprietary;
  put_tlv(proprietary, {0x9F, 0x65}, max_block);
  Bytes body;
  put_tlv(body, {0x84}, aid.first(std::min<std::size_t>(aid.size(), 16)));
  put_tlv(body, {0xA5}, proprietary);
  Bytes fci;
  put_tlv(fci, {0x6F}, body);
  return fci;
}

ByteView MinimalEcasd::aid() const { return kEcasdAid; }

Bytes MinimalEcasd::select_response() { return make_fci(aid()); }

expected<Bytes, std::uint16_t> MinimalEcasd::process_es10(ByteView, std::uint8_t) {
  return unexpected(apdu::sw::kFunctionNotSupported);
}

}  // namespace rsp::card
