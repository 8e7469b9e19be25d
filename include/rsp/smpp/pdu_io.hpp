#pragma once
/// PDUs on a TCP stream: the length framing of SMPP 3.4 §3.2 over whatever
/// pieces the socket returns, and writing one PDU.

#include <optional>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/smpp/pdu.hpp"

namespace rsp::smpp {

class PduReader {
 public:
  void feed(ByteView data);
  /// The next whole PDU, nullopt while more octets are needed; a Framing
  /// error means the stream cannot be resynchronised (drop the connection).
  expected<std::optional<Bytes>, PduError> next();
  std::size_t buffered() const { return buf_.size() - start_; }

 private:
  Bytes buf_;
  std::size_t start_ = 0;
};

/// Encodes `pdu` and sends it whole; false when it does not encode or the
/// connection is gone (the socket's send timeout bounds the wait).
bool send_pdu(int fd, const Pdu& pdu);

}  // namespace rsp::smpp
