#include "rsp/smpp/receipt.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace rsp::smpp {

namespace {

/// SMPP 3.4 §5.2.28 message states and their Appendix B "stat:" words.
constexpr std::array<std::pair<DeliveryState, const char*>, 8> kWords{{
    {DeliveryState::Enroute, "ENROUTE"},
    {DeliveryState::Delivered, "DELIVRD"},
    {DeliveryState::Expired, "EXPIRED"},
    {DeliveryState::Deleted, "DELETED"},
    {DeliveryState::Undeliverable, "UNDELIV"},
    {DeliveryState::Accepted, "ACCEPTD"},
    {DeliveryState::Unknown, "UNKNOWN"},
    {DeliveryState::Rejected, "REJECTD"},
}};

/// The value after `key` up to the next space ("" when absent); `found` says
/// whether the key was there. Keys match at the start or after a space.
std::string_view field(std::string_view text, std::string_view key, bool& found) {
  std::size_t at = 0;
  while ((at = text.find(key, at)) != std::string_view::npos) {
    if (at == 0 || text[at - 1] == ' ') {
      found = true;
      const auto start = at + key.size();
      const auto end = text.find(' ', start);
      return text.substr(start, end == std::string_view::npos ? text.size() - start : end - start);
    }
    at += key.size();
  }
  found = false;
  return {};
}

}  // namespace

const char* state_word(DeliveryState s) {
  for (const auto& [state, word] : kWords)
    if (state == s) return word;
  return "UNKNOWN";
}

std::optional<DeliveryState> state_from_word(std::string_view word) {
  for (const auto& [state, w] : kWords)
    if (word == w) return state;
  return std::nullopt;
}

std::optional<ReceiptText> parse_receipt(std::string_view text) {
  // The text: part is free and may contain anything; read only before it.
  bool found = false;
  if (const auto t = field(text, "text:", found); found) text = text.substr(0, static_cast<std::size_t>(t.data() - text.data()) - 5);
  ReceiptText r;
  const auto id = field(text, "id:", found);
  if (!found || id.empty() || id.size() > 64) return std::nullopt;
  r.id = std::string(id);
  const auto stat = field(text, "stat:", found);
  if (!found) return std::nullopt;
  const auto state = state_from_word(stat);
  if (!state) return std::nullopt;
  r.state = *state;
  const auto err = field(text, "err:", found);
  if (found) {
    const auto [p, ec] = std::from_chars(err.data(), err.data() + err.size(), r.error);
    if (ec != std::errc{} || p != err.data() + err.size()) return std::nullopt;
  }
  return r;
}

std::string format_receipt(const ReceiptText& r, std::string_view submit_date, std::string_view done_date) {
  const bool delivered = r.state == DeliveryState::Delivered;
  std::array<char, 4> err{};
  const auto code = r.error % 1000;
  err[0] = static_cast<char>('0' + code / 100);
  err[1] = static_cast<char>('0' + code / 10 % 10);
  err[2] = static_cast<char>('0' + code % 10);
  std::string s = "id:" + r.id + " sub:001 dlvrd:" + (delivered ? "001" : "000");
  s += " submit date:" + std::string(submit_date) + " done date:" + std::string(done_date);
  s += " stat:" + std::string(state_word(r.state)) + " err:" + err.data() + " text:";
  return s;
}

}  // namespace rsp::smpp
