// Untrusted SMSC bytes through the client's reading path: the length framing
// in pieces, the PDU decoder (our guards, then libsmpp34's unpacker) and the
// receipt text reader. Nothing may crash, leak or overrun; a PDU that decodes
// and encodes again must decode to the same values.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "rsp/smpp/pdu.hpp"
#include "rsp/smpp/pdu_io.hpp"
#include "rsp/smpp/receipt.hpp"

namespace {

void check_round_trip(const rsp::smpp::Pdu& p) {
  const auto again = rsp::smpp::encode(p);
  if (!again) return;  // some decodable values are not ours to send (e.g. a 254-octet message)
  const auto back = rsp::smpp::decode(*again);
  if (!back || back->command_id != p.command_id || back->sequence != p.sequence || back->status != p.status ||
      back->body.index() != p.body.index())
    std::abort();
  if (const auto* sm = std::get_if<rsp::smpp::SmBody>(&p.body)) {
    const auto& b = std::get<rsp::smpp::SmBody>(back->body);
    if (!(b.message == sm->message) || b.receipted_message_id != sm->receipted_message_id) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first octet picks the piece size the socket hands over.
  const std::size_t piece = 1 + data[0] % 64;
  ++data;
  --size;
  rsp::smpp::PduReader reader;
  for (std::size_t at = 0; at < size; at += piece) {
    reader.feed(rsp::ByteView(data + at, std::min(piece, size - at)));
    while (true) {
      auto next = reader.next();
      if (!next) return 0;  // framing lost: the client drops the connection
      if (!*next) break;
      const auto& raw = **next;
      if (raw.size() < rsp::smpp::kHeaderSize || raw.size() > rsp::smpp::kMaxPduSize) std::abort();
      const auto pdu = rsp::smpp::decode(raw);
      if (!pdu) continue;
      check_round_trip(*pdu);
      if (const auto* sm = std::get_if<rsp::smpp::SmBody>(&pdu->body))
        (void)rsp::smpp::parse_receipt(rsp::to_string(sm->message.user_data));
    }
  }
  return 0;
}
