#include "rsp/smpp/pdu_io.hpp"

#include "rsp/common/socket_io.hpp"

namespace rsp::smpp {

void PduReader::feed(ByteView data) {
  if (start_ > 0 && start_ == buf_.size()) {
    buf_.clear();
    start_ = 0;
  }
  buf_.insert(buf_.end(), data.begin(), data.end());
}

expected<std::optional<Bytes>, PduError> PduReader::next() {
  const ByteView rest(buf_.data() + start_, buf_.size() - start_);
  RSP_TRY(const std::size_t len, frame_length(rest));
  if (len == 0 || rest.size() < len) {
    // Keep the buffer from creeping: move the partial PDU to the front.
    if (start_ > 0) {
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(start_));
      start_ = 0;
    }
    return std::optional<Bytes>{};
  }
  Bytes pdu(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(len));
  start_ += len;
  return std::optional<Bytes>{std::move(pdu)};
}

bool send_pdu(int fd, const Pdu& pdu) {
  const auto bytes = encode(pdu);
  return bytes && send_all(fd, bytes->data(), bytes->size());
}

}  // namespace rsp::smpp
