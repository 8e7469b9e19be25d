#include "rsp/card/secure_channel.hpp"

#include "rsp/apdu/status_words.hpp"

namespace rsp::card {

namespace {

namespace sw = apdu::sw;
namespace level = crypto::scp03_level;

constexpr std::size_t kChallengeSize = 8;
constexpr std::uint8_t kScp03 = 0x03;

/// EXTERNAL AUTHENTICATE P1 values of Amendment D §7.1.2: none, C-MAC,
/// C-DECRYPTION + C-MAC, each with R-MAC, and all four.
bool defined_level(std::uint8_t l) {
  constexpr std::uint8_t kC = level::kCMac, kD = level::kCDecryption, kR = level::kRMac, kE = level::kREncryption;
  for (std::uint8_t ok : {std::uint8_t{0}, kC, std::uint8_t(kC | kD), std::uint8_t(kC | kR),
                          std::uint8_t(kC | kD | kR), std::uint8_t(kC | kD | kR | kE)}) {
    if (l == ok) return true;
  }
  return false;
}

}  // namespace

expected<Scp03Session, std::uint16_t> Scp03Session::initialize_update(const Scp03KeySet& key_set,
                                                                      const apdu::Command& command,
                                                                      ByteView card_challenge,
                                                                      std::uint32_t sequence_counter) {
  if (command.p2 != 0x00) return unexpected(sw::kIncorrectP1P2);
  if (command.data.size() != kChallengeSize || card_challenge.size() != kChallengeSize) {
    return unexpected(sw::kWrongLength);
  }
  auto card = crypto::Scp03Card::establish(key_set.keys, command.data, card_challenge);
  if (!card) return unexpected(sw::kNoPreciseDiagnosis);
  Bytes response = key_set.diversification_data;
  response.resize(10, 0x00);
  response.push_back(key_set.key_version);
  response.push_back(kScp03);
  response.push_back(key_set.i_parameter);
  response.insert(response.end(), card_challenge.begin(), card_challenge.end());
  const Bytes& cryptogram = card->card_cryptogram();
  response.insert(response.end(), cryptogram.begin(), cryptogram.end());
  response.push_back(static_cast<std::uint8_t>(sequence_counter >> 16));
  response.push_back(static_cast<std::uint8_t>(sequence_counter >> 8));
  response.push_back(static_cast<std::uint8_t>(sequence_counter));
  return Scp03Session(std::move(card).value(), std::move(response));
}

expected<void, std::uint16_t> Scp03Session::external_authenticate(ByteView apdu) {
  if (authenticated_) return unexpected(sw::kConditionsNotSatisfied);
  if (apdu.size() < 3) return unexpected(sw::kWrongLength);
  if (!defined_level(apdu[2])) return unexpected(sw::kIncorrectP1P2);
  auto r = card_.verify_external_authenticate(apdu);
  if (!r) {
    if (r.error().code == crypto::CryptoError::Code::MacMismatch) return unexpected(sw::kVerificationFailed);
    return unexpected(sw::kWrongLength);
  }
  authenticated_ = true;
  return {};
}

expected<Bytes, std::uint16_t> Scp03Session::unwrap(ByteView apdu) {
  if (!authenticated_) return unexpected(sw::kSecurityStatusNotSatisfied);
  auto r = card_.unwrap_command(apdu);
  if (!r) return unexpected(sw::kSecurityStatusNotSatisfied);
  return std::move(r).value();
}

expected<Bytes, std::uint16_t> Scp03Session::wrap(ByteView data, std::uint16_t status) {
  auto r = card_.wrap_response(data, status);
  if (!r) return unexpected(sw::kNoPreciseDiagnosis);
  return std::move(r).value();
}

}  // namespace rsp::card
