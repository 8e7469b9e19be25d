#pragma once
/// The fixed costs that bound bench_smsr's EnableProfile rate, each measured
/// in the run on this machine, with nothing else of the bench running:
///  - a durable SQLite commit (WAL, synchronous=FULL, as rsp/store opens
///    every database) of a one-row insert in the run's folder, so on the
///    disk the registry is on: the median wall time per commit;
///  - a PSK-TLS handshake (TLS 1.2 PSK as the SCP81 session runs it, GP
///    Amendment B) with one HTTP exchange on a fresh connection, against
///    net's server in this process: the server's CPU per handshake (process
///    CPU less the client thread's), the client's CPU (its thread) and the
///    wall time, each the median of five batches;
///  - a durable commit's CPU (the committing thread's clock: the WAL write
///    and the sync are system calls charged to it);
///  - a card state flush as the simulated M2M card does it (euicc/
///    state_slots: a record of about a card's size overwritten in place,
///    then fdatasync): CPU and median wall time;
///  - an SCP80 wrap (ETSI TS 102 225 §5.1.1: AES-CBC and CMAC over the
///    administration-session trigger, split into SMS user data per 3GPP TS
///    31.115 §4.2): CPU per packet.

#include <filesystem>
#include <string>

#include "rsp/common/expected.hpp"
#include "support/measure.hpp"

namespace rsp::bench {

struct FixedCosts {
  double commit_ms = 0;           ///< median wall time of one durable commit
  double commit_cpu_ms = 0;       ///< CPU per durable commit (mean)
  double handshake_server_ms = 0; ///< server CPU per PSK-TLS handshake + exchange
  double handshake_client_ms = 0; ///< client CPU per PSK-TLS handshake + exchange (connect, close included)
  double handshake_wall_ms = 0;   ///< wall time of one (client and server in this process)
  double scp80_wrap_us = 0;       ///< CPU per wrapped trigger
  double card_flush_cpu_ms = 0;   ///< CPU per card state write + fdatasync (mean)
  double card_flush_ms = 0;       ///< median wall time of one
};

/// `commits` durable commits and as many card state flushes, `handshakes`
/// PSK-TLS handshakes, SCP80 wraps for about 0.2 CPU-seconds; the database
/// and the card state file go in `dir`.
expected<FixedCosts, std::string> measure_fixed_costs(const std::filesystem::path& dir, int commits, int handshakes);

}  // namespace rsp::bench
