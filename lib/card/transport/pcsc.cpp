#include "rsp/card/transport/pcsc.hpp"

#include <winscard.h>

#include <cstring>

namespace rsp::card::transport {

struct PcscCard::Handles {
  SCARDCONTEXT ctx = 0;
  SCARDHANDLE card = 0;
  DWORD protocol = 0;
  bool connected = false;
  ~Handles() {
    if (connected) SCardDisconnect(card, SCARD_LEAVE_CARD);
    if (ctx) SCardReleaseContext(ctx);
  }
};

namespace {

std::string describe(LONG rc) {
  switch (rc) {
    case SCARD_E_NO_SERVICE:
      return "pcscd is not running (start it, e.g. 'systemctl start pcscd' or 'pcscd -f')";
    case SCARD_E_NO_READERS_AVAILABLE:
      return "no smart card reader is connected";
    case SCARD_E_NO_SMARTCARD:
    case SCARD_W_REMOVED_CARD:
      return "no card in the reader";
    case SCARD_W_UNRESPONSIVE_CARD:
    case SCARD_W_UNPOWERED_CARD:
      return "the card in the reader does not respond";
    case SCARD_E_SHARING_VIOLATION:
      return "another program holds the card exclusively";
    default:
      return pcsc_stringify_error(rc);
  }
}

expected<SCARDCONTEXT, std::string> establish() {
  SCARDCONTEXT ctx = 0;
  const LONG rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &ctx);
  if (rc != SCARD_S_SUCCESS) return unexpected("PC/SC: " + describe(rc));
  return ctx;
}

expected<std::vector<std::string>, std::string> readers_of(SCARDCONTEXT ctx) {
  DWORD len = 0;
  LONG rc = SCardListReaders(ctx, nullptr, nullptr, &len);
  if (rc == SCARD_E_NO_READERS_AVAILABLE) return std::vector<std::string>{};
  if (rc != SCARD_S_SUCCESS) return unexpected("PC/SC: " + describe(rc));
  std::string buf(len, '\0');
  rc = SCardListReaders(ctx, nullptr, buf.data(), &len);
  if (rc == SCARD_E_NO_READERS_AVAILABLE) return std::vector<std::string>{};
  if (rc != SCARD_S_SUCCESS) return unexpected("PC/SC: " + describe(rc));
  std::vector<std::string> out;
  // A multi-string: names separated by NUL, ended by an empty one.
  for (std::size_t at = 0; at < buf.size() && buf[at] != '\0';) {
    const std::size_t end = buf.find('\0', at);
    out.push_back(buf.substr(at, end - at));
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return out;
}

bool holds_card(SCARDCONTEXT ctx, const std::string& reader) {
  SCARD_READERSTATE state{};
  state.szReader = reader.c_str();
  state.dwCurrentState = SCARD_STATE_UNAWARE;
  return SCardGetStatusChange(ctx, 0, &state, 1) == SCARD_S_SUCCESS && (state.dwEventState & SCARD_STATE_PRESENT);
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
  return s;
}

}  // namespace

expected<std::vector<std::string>, std::string> pcsc_readers() {
  auto ctx = establish();
  if (!ctx) return unexpected(ctx.error());
  auto r = readers_of(*ctx);
  SCardReleaseContext(*ctx);
  return r;
}

expected<std::unique_ptr<PcscCard>, std::string> PcscCard::connect(const std::string& reader) {
  std::unique_ptr<PcscCard> c(new PcscCard());
  c->h_ = std::make_unique<Handles>();
  auto ctx = establish();
  if (!ctx) return unexpected(ctx.error());
  c->h_->ctx = *ctx;
  auto names = readers_of(*ctx);
  if (!names) return unexpected(names.error());
  if (names->empty()) return unexpected(std::string("PC/SC: no smart card reader is connected"));
  std::vector<std::string> matching;
  for (const auto& n : *names) {
    if (reader.empty() || n.find(reader) != std::string::npos) matching.push_back(n);
  }
  if (matching.empty()) {
    return unexpected("PC/SC: no reader named like '" + reader + "'; the readers are " + join(*names));
  }
  std::string chosen;
  for (const auto& n : matching) {
    if (holds_card(*ctx, n)) {
      chosen = n;
      break;
    }
  }
  if (chosen.empty()) return unexpected("PC/SC: no card in " + join(matching));
  const LONG rc = SCardConnect(*ctx, chosen.c_str(), SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                               &c->h_->card, &c->h_->protocol);
  if (rc != SCARD_S_SUCCESS) return unexpected("PC/SC: reader '" + chosen + "': " + describe(rc));
  c->h_->connected = true;
  c->reader_ = chosen;
  return c;
}

PcscCard::~PcscCard() = default;

apdu::Transmit PcscCard::transmit() {
  return [this](ByteView command) -> std::optional<Bytes> {
    const SCARD_IO_REQUEST* pci = h_->protocol == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
    // ISO/IEC 7816-4 §5.1: at most 65536 data bytes and SW1 SW2.
    Bytes rx(65538);
    DWORD rx_len = static_cast<DWORD>(rx.size());
    const LONG rc = SCardTransmit(h_->card, pci, command.data(), static_cast<DWORD>(command.size()), nullptr,
                                  rx.data(), &rx_len);
    if (rc != SCARD_S_SUCCESS) {
      last_error_ = "PC/SC: reader '" + reader_ + "': " + describe(rc);
      return std::nullopt;
    }
    rx.resize(rx_len);
    return rx;
  };
}

}  // namespace rsp::card::transport
