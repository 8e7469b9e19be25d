#pragma once
/// The text of an SMSC delivery receipt (SMPP 3.4 Appendix B): the short
/// message of a deliver_sm whose esm_class says "delivery receipt", e.g.
///   id:0123456789 sub:001 dlvrd:001 submit date:2612031500 done date:2612031500 stat:DELIVRD err:000 text:
/// Appendix B calls the format SMSC-specific; the fields read here are the
/// ones SMSCs commonly send.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rsp/smpp/sms_transport.hpp"

namespace rsp::smpp {

struct ReceiptText {
  std::string id;
  DeliveryState state = DeliveryState::Unknown;
  std::uint32_t error = 0;
};

/// Reads "id:" and "stat:" (required) and "err:" (optional, decimal); nullopt
/// when the text is no receipt (no id, unknown state word, bad number).
std::optional<ReceiptText> parse_receipt(std::string_view text);

/// The Appendix B text for a receipt; dates as YYMMDDhhmm (UTC).
std::string format_receipt(const ReceiptText& r, std::string_view submit_date, std::string_view done_date);

/// The DeliveryState of a stat: word, nullopt for an unknown word.
std::optional<DeliveryState> state_from_word(std::string_view word);

}  // namespace rsp::smpp
