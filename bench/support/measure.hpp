#pragma once
/// Measuring helpers the benchmarks share: CPU time (so that a rate per
/// CPU-second stays meaningful on a loaded machine, where wall-clock rates
/// drop) and latency percentiles.

#include <vector>

namespace rsp::bench {

/// CPU seconds, user and kernel together, of `who` (RUSAGE_SELF: every
/// thread of the process; RUSAGE_THREAD: the calling thread).
double cpu_seconds(int who);
/// cpu_seconds(RUSAGE_SELF).
double process_cpu_seconds();
/// CPU seconds of the calling thread (its CPU-time clock, finer than rusage).
double thread_cpu_seconds();

/// The 1-minute load average (/proc/loadavg; 0 where there is none): other
/// jobs on the machine lengthen every latency, so benches print it beside them.
double load_average();

/// The `p` quantile (0..1) of `samples`, nearest rank; 0 when empty.
double percentile(std::vector<double> samples, double p);

}  // namespace rsp::bench
