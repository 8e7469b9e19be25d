#pragma once
/// A card in a PC/SC reader, through pcsc-lite's pcscd (the PC/SC API of
/// the PC/SC Workgroup specification, part 5): the reader chosen by name,
/// connected shared with T=0 or T=1, command APDUs exchanged as they are
/// (GET RESPONSE and chaining are the caller's: apdu::exchange). Every
/// failure is an error in words that says what to do: pcscd not running,
/// no reader, no reader of that name, no card in it.
///
///   auto card = PcscCard::connect("Virtual PCD");   // "" = the first reader holding a card
///   if (card) { auto tx = (*card)->transmit(); ... }

#include <memory>
#include <string>
#include <vector>

#include "rsp/apdu/lpa_exchange.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::card::transport {

/// The readers pcscd knows, or why they cannot be listed.
expected<std::vector<std::string>, std::string> pcsc_readers();

class PcscCard {
 public:
  /// Connects to the first reader whose name contains `reader` (any reader
  /// when empty) and holds a card.
  static expected<std::unique_ptr<PcscCard>, std::string> connect(const std::string& reader);
  ~PcscCard();
  PcscCard(const PcscCard&) = delete;
  PcscCard& operator=(const PcscCard&) = delete;

  const std::string& reader_name() const { return reader_; }
  /// One command APDU, its response APDU; nullopt when the link failed (the
  /// reason then in last_error()). Valid while this object lives.
  apdu::Transmit transmit();
  const std::string& last_error() const { return last_error_; }

  struct Handles;

 private:
  PcscCard() = default;
  std::unique_ptr<Handles> h_;
  std::string reader_;
  std::string last_error_;
};

}  // namespace rsp::card::transport
