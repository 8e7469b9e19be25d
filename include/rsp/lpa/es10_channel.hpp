#pragma once
/// How the LPA reaches the eUICC's ISD-R over ES10 (SGP.22 §5.7): one ES10
/// command (or one segment of a Bound Profile Package) sent as a STORE DATA
/// sequence, its response data returned.

#include <cstdint>
#include <string>

#include "rsp/apdu/lpa_exchange.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::card {
class Card;
}

namespace rsp::lpa {

struct Es10Error {
  enum class Kind : std::uint8_t {
    Transport,  ///< the reader/card link failed
    Status,     ///< the card answered an error status word (`sw`)
    Malformed,  ///< an answer that is not an APDU response
    Request,    ///< the command could not be sent (too large)
    Format,     ///< the response data did not decode as the expected ES10 response
    NoAnswer,   ///< the eUICC answered no data where a response was due
  };
  Kind kind = Kind::Transport;
  std::uint16_t sw = 0;
  std::string message;
};

class Es10Channel {
 public:
  virtual ~Es10Channel() = default;
  /// Sends `command` (an ES10 command TLV, or one BPP segment) as one STORE
  /// DATA sequence and returns the response data (possibly empty).
  virtual expected<Bytes, Es10Error> send(ByteView command) = 0;
};

/// ES10 over any APDU transmit function (in-process card, PC/SC, a modem):
/// STORE DATA chaining and GET RESPONSE via apdu::send_es10.
class ApduEs10Channel final : public Es10Channel {
 public:
  explicit ApduEs10Channel(apdu::Transmit transmit, std::uint8_t channel = 0,
                           std::size_t block_size = apdu::kDefaultStoreDataBlockSize);

  /// SELECT the ISD-R by AID on the channel (needed once after a reset when
  /// nothing else selected it).
  expected<void, Es10Error> select_isd_r();
  /// The same with another AID: cards with a custom ISD-R AID exist
  /// (SGP.22 §2.2.3 names the default, A0 00 00 05 59 10 10 FF FF FF FF 89 00 00 01 00).
  expected<void, Es10Error> select_isd_r(ByteView aid);
  std::uint8_t channel() const { return channel_; }
  expected<Bytes, Es10Error> send(ByteView command) override;

 private:
  apdu::Transmit transmit_;
  std::uint8_t channel_;
  std::size_t block_size_;
};

/// ISO/IEC 7816-4 §11.1.2 MANAGE CHANNEL open on the basic channel: the
/// number of the logical channel the card assigned (1-19).
expected<std::uint8_t, Es10Error> open_logical_channel(const apdu::Transmit& transmit);
/// MANAGE CHANNEL close of `channel` (best effort: a card that lost the
/// channel already has nothing to close).
void close_logical_channel(const apdu::Transmit& transmit, std::uint8_t channel);

/// An ApduEs10Channel on a simulated Card in the same process (the card must
/// outlive the channel).
ApduEs10Channel card_channel(card::Card& card);

}  // namespace rsp::lpa
