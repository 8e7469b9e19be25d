#pragma once
/// bench_smdpp --db postgresql://...: the SM-DP+ scaled out on one
/// PostgreSQL database, one instance and then two (each with its inventory,
/// session store and connection pool of its own, as two `rsp smdpp serve`
/// processes have), downloads/s and the server CPU per download of each,
/// PostgreSQL's own CPU counted apart.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "rsp/smdpp/http_service.hpp"

namespace rsp::bench {

/// What the caller's LPAs report of a run.
struct DriveResult {
  int ok = 0;                 ///< downloads that completed
  double client_cpu_s = 0;    ///< CPU of the client threads (not the server's)
  double p99_ms = 0;          ///< the slowest ES9+ function's p99
  std::string first_error;
};

/// Runs one download per matchingId; LPA c talks to ports[c % ports.size()].
using Drive = std::function<DriveResult(const std::vector<int>& ports, const std::vector<std::string>& matching_ids)>;

struct PgScaleOptions {
  std::string url;              ///< postgresql://...
  std::filesystem::path pki;    ///< the test PKI (SM-DP+ identities, TLS)
  std::string address;          ///< the SM-DP+ address the PKI names
  int downloads = 400;          ///< per round (one instance, then two)
  int clients = 4;
  std::size_t profile_filler = 20000;
  /// The ES9+ service as the caller sets it up (TLS identities, workers).
  smdpp::HttpServiceConfig service;
};

/// Both rounds; prints their lines and returns 0 when every download worked.
int run_pg_scale(const PgScaleOptions& options, const Drive& drive);

}  // namespace rsp::bench
