#pragma once
/// The costs of a download no SM-DP+ code can save, measured on this machine
/// in the same run: one durable SQLite commit on the server's disk, and the
/// HTTPS transport of a download's four exchanges alone.

#include <cstddef>
#include <filesystem>

#include "lpa_client.hpp"
#include "rsp/smdpp/http_service.hpp"

namespace rsp::bench::smdpp_https {

/// One durable SQLite commit (WAL, synchronous=FULL, one small row changed)
/// on the disk the server uses, measured on this thread: its CPU, the part of
/// a download's cost that belongs to the disk and not to the server's code,
/// and its wall time (the wait for the flush), the part of a call's latency.
struct CommitCost {
  double cpu_ms = 0;
  double wall_ms = 0;
};
CommitCost durable_commit_cost(const fs::path& dir);

/// Server CPU seconds of the HTTPS transport alone for `n` downloads: the
/// exchanges `sample` made last, `n` times over, spread over `clients`
/// connections, against the ES9+ service as `config` sets it up (transport,
/// TLS identities, threads, keep-alive) with a dispatcher that answers each
/// from memory instead of the SM-DP+. What a download costs the server there
/// before any SM-DP+ work; negative when a replay failed.
double transport_cpu_seconds(const Client& sample, std::size_t clients, const fs::path& pki_dir, crypto::Curve curve,
                             smdpp::HttpServiceConfig config, int n);

}  // namespace rsp::bench::smdpp_https
