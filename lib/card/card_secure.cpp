// The card's secure-channel hook: INITIALIZE UPDATE for a security domain
// that offers SCP03 keys, then EXTERNAL AUTHENTICATE and the commands under
// secure messaging (GP Card Spec v2.3 §10, Amendment D).
#include "rsp/apdu/response.hpp"
#include "rsp/apdu/status_words.hpp"
#include "rsp/card/card.hpp"

namespace rsp::card {

namespace {

namespace asw = apdu::sw;
using apdu::encode_status;

constexpr std::size_t kCardChallengeSize = 8;
constexpr std::uint32_t kMaxSequenceCounter = 0xFFFFFF;  ///< three bytes

/// Status words that carry response data and so an R-MAC: normal
/// processing and the warnings (ISO/IEC 7816-4 §5.6: 9000, 62xx, 63xx).
bool carries_data(std::uint16_t status) {
  const std::uint8_t sw1 = static_cast<std::uint8_t>(status >> 8);
  return status == asw::kOk || sw1 == 0x62 || sw1 == 0x63;
}

}  // namespace

// A new INITIALIZE UPDATE replaces any session on the channel; the sequence
// counter counts the sessions the card opened and stops at its 3-byte limit.
Bytes Card::initialize_update(Channel& ch, const apdu::Command& c) {
  ch.secure.reset();
  const Scp03KeySet* keys = ch.selected->scp03_key_set(c.p1);
  if (!keys) return encode_status(asw::kReferencedDataNotFound);  // no such key version
  if (scp03_sequence_counter_ >= kMaxSequenceCounter) return encode_status(asw::kConditionsNotSatisfied);
  crypto::Random& random = config_.random ? *config_.random : crypto::system_random();
  const Bytes card_challenge = random.bytes(kCardChallengeSize);
  auto session = Scp03Session::initialize_update(*keys, c, card_challenge, scp03_sequence_counter_ + 1);
  if (!session) return encode_status(session.error());
  ++scp03_sequence_counter_;
  Bytes response = session->initialize_update_response();
  ch.secure.emplace(std::move(session).value());
  return deliver(ch, std::move(response), c);
}

// A command under secure messaging: EXTERNAL AUTHENTICATE first, then each
// command is verified and deciphered, handed to the application in plain
// with the session's level, and its answer protected. Any failed check ends
// the session (GP Card Spec v2.3 ch. 10).
Bytes Card::secure_command(Channel& ch, std::uint8_t channel, ByteView raw, const apdu::Command& c) {
  if (!ch.secure->authenticated()) {
    if (c.ins != kInsExternalAuthenticate) {
      ch.secure.reset();
      return encode_status(asw::kSecurityStatusNotSatisfied);
    }
    auto ok = ch.secure->external_authenticate(raw);
    if (!ok) {
      ch.secure.reset();
      return encode_status(ok.error());
    }
    return encode_status(asw::kOk);
  }
  auto plain = ch.secure->unwrap(raw);
  if (!plain) {
    ch.secure.reset();
    return encode_status(plain.error());
  }
  auto parsed = apdu::parse_command(*plain);
  if (!parsed) return encode_status(apdu::status_word(parsed.error()));
  const std::uint8_t level = ch.secure->level();
  ApduCommand command{std::move(parsed).value(), channel, true, level};
  if (!ch.selected) return encode_status(asw::kCommandNotAllowed);
  apdu::Response r = ch.selected->process(command);
  if (!carries_data(r.sw)) return encode_status(r.sw);
  auto wrapped = ch.secure->wrap(r.data, r.sw);
  if (!wrapped) return encode_status(wrapped.error());
  if (r.sw == asw::kOk) return deliver(ch, std::move(wrapped).value(), command.apdu);
  return apdu::encode_response(apdu::Response{std::move(wrapped).value(), r.sw});
}

}  // namespace rsp::card
