#pragma once
/// bench_smdpp's memory figures: the process's RSS, and the server's RSS
/// growth with idle TCP connections held open by a child process.

#include <string>

#include "rsp/net/metrics.hpp"

namespace rsp::bench::smdpp_https {

/// A field of /proc/self/status in KiB (VmRSS, VmHWM), 0 when unreadable.
long status_kib(const std::string& field);

/// The value of an unlabelled gauge in the Prometheus text, -1 when absent.
double gauge_value(const std::string& text, const std::string& name);

/// Opens `n` idle TCP connections to 127.0.0.1:port from a child process,
/// 250 per source address 127.4.x.y (under the server's per-peer limit),
/// waits until the server holds them and returns the RSS growth in KiB
/// (-1 on failure); `opened` says how many the child opened.
long idle_connections_rss(int port, int n, net::Metrics& metrics, int& opened);

}  // namespace rsp::bench::smdpp_https
