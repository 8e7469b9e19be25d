#pragma once
/// A GlobalPlatform card as a reader sees it: ATR, logical channels, SELECT
/// by AID and response chaining (ISO/IEC 7816-4, GlobalPlatform Card Spec
/// v2.3), in front of the hosted Applications, which receive the other
/// command APDUs (application.hpp; ES10 through es10_application.hpp).
///
/// Behaviour a reader can observe (and that lpac and pySim rely on):
///  - Interindustry CLA (00-03, 40-4F) for SELECT, MANAGE CHANNEL and GET
///    RESPONSE; GlobalPlatform CLA (80-83, C0-CF) for GET RESPONSE and
///    TERMINAL CAPABILITY (ETSI TS 102 221 §11.1.19, accepted and ignored);
///    every other command goes to the application selected on the channel.
///  - Secure messaging (CLA 84-87 / E0-EF) only inside an SCP03 session that
///    INITIALIZE UPDATE opened for an application offering keys
///    (Application::scp03_key_set, secure_channel.hpp); 6882 otherwise.
///  - T=0 style chaining: a command without Le (case 1 or 3) that produces
///    data answers 61xx and the data waits for GET RESPONSE, as a T=0 card
///    behind a PC/SC reader does. With Le, up to min(Ne, reader limit) bytes
///    come back at once, then 61xx for the rest. GET RESPONSE without Le
///    returns up to the reader limit; with Le above the remaining bytes it
///    returns what remains with 9000 (no 6Cxx). Any other command on the
///    channel discards pending response data.
///  - SELECT answers the FCI for P2 00 and 04 alike, nothing for 0C; an AID
///    shorter than an application's matches as a prefix (partial selection).
///    Selecting another application on a channel calls on_deselect for the
///    previous one.
///  - Nothing is selected after reset; STORE DATA on a channel without a
///    selected application answers 6986, GET RESPONSE with nothing pending
///    6985 (6B00 when its P1 P2 are not 0000), anything on a closed channel
///    6881.
///  - Applications are called with the card's lock held: they must not call
///    back into the Card.
///
/// Typical use (the ISD-R comes from the eUICC implementation):
///   Card card;
///   card.add_application(isd_r);
///   card.add_application(std::make_shared<MinimalEcasd>());
///   auto eid = apdu::send_es10(in_process_transmit(card), get_eid_request, 0);
/// after SELECT of the ISD-R on channel 0 (or MANAGE CHANNEL + SELECT).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "rsp/apdu/command.hpp"
#include "rsp/apdu/lpa_exchange.hpp"
#include "rsp/card/aid.hpp"
#include "rsp/card/application.hpp"
#include "rsp/card/es10_application.hpp"
#include "rsp/card/secure_channel.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/card/application.hpp"

namespace rsp::card {

/// Knobs of the card's APDU layer.
struct CardConfig {
  /// Largest data field per response APDU (the reader's limit): 256 for a
  /// short-Le reader, up to 65536 with extended length.
  std::size_t max_response_per_apdu = 256;
  /// Logical channels including the basic channel 0 (1..20). The ATR
  /// announces min(this, 8) channels.
  std::uint8_t logical_channels = 4;
  /// Case 1/3 commands that produce data answer 61xx (T=0 behaviour). When
  /// false they return the data at once as if Le were 00.
  bool t0_case3_get_response = true;
  /// Source of SCP03 card challenges (default: the system CSPRNG); must
  /// outlive the card. Tests inject a fixed one for known answers.
  crypto::Random* random = nullptr;
};

/// A GlobalPlatform card hosting Applications. Thread-safe: transmit, reset
/// and atr may be called from different threads.
class Card {
 public:
  explicit Card(CardConfig config = {});
  ~Card();
  Card(const Card&) = delete;
  Card& operator=(const Card&) = delete;

  /// Makes `app` selectable by its AID. Applications added first win partial
  /// (prefix) AID matches.
  void add_application(std::shared_ptr<Application> app);

  /// Processes one command APDU and returns the response APDU (data + SW1
  /// SW2). Never throws and never crashes, whatever the bytes; an exception
  /// escaping an Application answers 6F00.
  Bytes transmit(ByteView apdu);

  /// The Answer-To-Reset (ISO/IEC 7816-3 §8.2): direct convention, T=0 and
  /// T=1 offered (T=0 first), UICC class indicator, historical bytes with
  /// card capabilities (logical channel assignment by the card).
  Bytes atr() const;

  /// Cold/warm reset: closes every channel but the basic one, drops selections
  /// (Application::on_deselect), STORE DATA and pending responses.
  void reset();

  const CardConfig& config() const { return config_; }

 private:
  /// One logical channel (ISO/IEC 7816-4 §5.4.2): its selected application
  /// and response data awaiting GET RESPONSE.
  struct Channel {
    bool open = false;
    Application* selected = nullptr;
    Bytes pending;                 ///< response data not yet read
    std::size_t pending_offset = 0;
    std::optional<Scp03Session> secure;  ///< the SCP03 session opened on this channel

    void clear_pending() { pending.clear(); pending_offset = 0; }
  };

  Bytes dispatch(ByteView apdu);
  Bytes deliver(Channel& ch, Bytes data, const apdu::Command& c);
  Bytes send_pending(Channel& ch, std::size_t limit);
  Bytes select(Channel& ch, std::uint8_t channel, const apdu::Command& c);
  Bytes manage_channel(std::uint8_t channel, const apdu::Command& c);
  Bytes to_application(Channel& ch, std::uint8_t channel, bool proprietary, apdu::Command c);
  Bytes initialize_update(Channel& ch, const apdu::Command& c);
  Bytes secure_command(Channel& ch, std::uint8_t channel, ByteView raw, const apdu::Command& c);
  Bytes get_response(Channel& ch, const apdu::Command& c);
  void deselect(Channel& ch, std::uint8_t channel);

  CardConfig config_;
  std::vector<std::shared_ptr<Application>> apps_;
  std::vector<Channel> channels_;
  std::uint32_t scp03_sequence_counter_ = 0;  ///< INITIALIZE UPDATEs answered (Amendment D)
  mutable std::mutex mutex_;
};

/// An apdu::Transmit that reaches `card` in-process (an LPA and a card in one
/// program, as in unit tests and `rsp` demos). `card` must outlive it.
inline apdu::Transmit in_process_transmit(Card& card) {
  return [&card](ByteView command) -> std::optional<Bytes> { return card.transmit(command); };
}

}  // namespace rsp::card
