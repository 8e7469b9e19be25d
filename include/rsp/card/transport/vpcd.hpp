#pragma once
/// Connects the simulated card to PC/SC through vsmartcard's virtual reader
/// driver (vpcd, loaded by pcscd). vpcd listens on TCP (default port 35963)
/// and the card side connects to it. Each message in either direction is a
/// 2-byte big-endian length followed by that many bytes. A 1-byte message
/// from vpcd is a control command: 00 power off, 01 power on, 02 reset, 04
/// get ATR (answered with the ATR); power off, on and reset get no answer.
/// Any longer message is a command APDU, answered with the response APDU.
///
/// Once connected, pcscd reports a card in the reader "Virtual PCD 00 00"
/// and PC/SC applications (lpac with its pcsc driver, pySim, pcsc_scan)
/// reach the card as they would a real one.

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "rsp/common/expected.hpp"
#include "rsp/card/card.hpp"

namespace rsp::card::transport {

inline constexpr std::uint16_t kVpcdDefaultPort = 35963;

/// vpcd control bytes (vsmartcard vpcd.h).
namespace vpcd_ctrl {
inline constexpr std::uint8_t kPowerOff = 0x00;
inline constexpr std::uint8_t kPowerOn = 0x01;
inline constexpr std::uint8_t kReset = 0x02;
inline constexpr std::uint8_t kGetAtr = 0x04;
}  // namespace vpcd_ctrl

struct VpcdOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = kVpcdDefaultPort;
  /// Pause between connection attempts while vpcd is not listening (pcscd
  /// not running, or restarting).
  std::chrono::milliseconds retry_interval{500};
  /// Receives one line per connection event ("connected to ...", ...).
  std::function<void(std::string_view)> log;
};

enum class VpcdError : std::uint8_t {
  kBadAddress,  ///< the host does not resolve
};

std::string_view message(VpcdError e);

/// Serves `card` to vpcd until `stop` is requested: connects, answers
/// control commands and APDUs, and when the connection drops (pcscd
/// restarted) resets the card and reconnects. Returns once stopped (within
/// about 200 ms of the request). Blocking; run it on its own thread, or on
/// the main thread with StopOnSignals (signal_stop.hpp) for Ctrl-C.
expected<void, VpcdError> run_vpcd(Card& card, const VpcdOptions& options, std::stop_token stop);

/// Same, with the default retry interval and no log.
expected<void, VpcdError> run_vpcd(Card& card, const std::string& host, std::uint16_t port,
                                   std::stop_token stop);

}  // namespace rsp::card::transport
