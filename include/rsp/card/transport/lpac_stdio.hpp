#pragma once
/// Serves the simulated card to lpac through its `stdio` APDU driver
/// (LPAC_APDU=stdio): lpac writes one JSON object per line on stdout and
/// reads the answer as one line on stdin.
///
///   request  {"type":"apdu","payload":{"func":F,"param":P}}
///   answer   {"type":"apdu","payload":{"ecode":N[,"data":HEX]}}
///
/// F is "connect", "disconnect", "logic_channel_open" (P: the AID in hex;
/// ecode: the opened channel number, or -1), "logic_channel_close" (P: the
/// channel as one hex byte) or "transmit" (P: the command APDU in hex; data:
/// the response APDU with SW1 SW2 in hex, ecode 0). P is null when absent.
/// Every other line lpac prints ({"type":"lpa",...} results, progress) is
/// its user-facing output and passes through unchanged.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/card/card.hpp"

namespace rsp::card::transport {

/// The protocol half of the bridge, independent of processes and pipes.
class LpacStdioBridge {
 public:
  explicit LpacStdioBridge(Card& card) : card_(card) {}

  /// For a `"type":"apdu"` request returns the answer line (without the
  /// newline); for any other line returns nullopt (pass it through).
  /// Malformed requests are answered with ecode -1.
  std::optional<std::string> handle_line(std::string_view line);

 private:
  int open_channel(std::string_view aid_hex);
  Card& card_;
};

/// Runs `lpac_path args...` with LPAC_APDU=stdio, stdin and stdout on pipes,
/// stderr inherited; answers its APDU requests from `card` and copies every
/// other line of its output to `out`. Returns lpac's exit status (128 +
/// signal number if it was killed), or 127 when it cannot be started (the
/// reason goes to stderr). While it runs, SIGPIPE is ignored so that an lpac
/// that exits early cannot kill the caller.
int run_lpac(Card& card, const std::string& lpac_path, const std::vector<std::string>& args,
             std::ostream& out);

/// Same, copying lpac's output to standard output.
int run_lpac(Card& card, const std::string& lpac_path, const std::vector<std::string>& args);

}  // namespace rsp::card::transport
