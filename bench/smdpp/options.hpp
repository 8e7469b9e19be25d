#pragma once
/// bench_smdpp's command line: what one run measures and how.

#include <cstddef>
#include <optional>
#include <string>

#include "rsp/crypto/ec_key.hpp"
#include "rsp/net/server.hpp"

namespace rsp::bench::smdpp_https {

inline constexpr const char* kOperator = "bench";
inline constexpr std::size_t kProfileFiller = 20000;  // ~20 KB, about a TS.48 test profile

struct Args {
  int downloads = 400;
  int clients = 4;
  int rounds = 4;
  int sessions = 0;
  int idle = 10000;
  /// Downloads of the round that times each ES9+ handler; default half of
  /// --downloads, 0: no such round.
  std::optional<int> split;
  crypto::Curve curve = crypto::Curve::NistP256;
  bool verify = false;
  std::string db;  ///< postgresql://...: the PostgreSQL rounds (pg_scale.hpp)
  /// The event-driven server's handler threads; default: the service's.
  std::optional<net::HandlerThreads> handlers;
};

/// Reads the flags into `a`; false on an unknown flag or a bad value.
bool parse_args(int argc, char** argv, Args& a);
/// The usage line printed for a bad command line.
inline constexpr const char* kUsage =
    "usage: bench_smdpp [--downloads N] [--clients C] [--rounds R] [--sessions S] [--idle N] "
    "[--split N] [--curve nist|brp] [--handlers pool|inline] [--verify] [--db postgresql://...]\n";

}  // namespace rsp::bench::smdpp_https
