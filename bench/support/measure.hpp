#pragma once
/// Measuring helpers the benchmarks share: CPU time (so that a rate per
/// CPU-second stays meaningful on a loaded machine, where wall-clock rates
/// drop) and latency percentiles.

#include <cstdint>
#include <string>
#include <vector>

namespace rsp::bench {

/// CPU seconds, user and kernel together, of `who` (RUSAGE_SELF: every
/// thread of the process; RUSAGE_THREAD: the calling thread).
double cpu_seconds(int who);
/// cpu_seconds(RUSAGE_SELF).
double process_cpu_seconds();
/// CPU seconds of the calling thread (its CPU-time clock, finer than rusage).
double thread_cpu_seconds();
/// Context switches of `who` so far (RUSAGE_SELF: every thread of the
/// process, those that ended included; RUSAGE_THREAD: the calling thread):
/// voluntary (it waited) plus involuntary (the scheduler took its core).
/// Each hand-off of work from one thread to another costs at least one.
/// `involuntary_only`: only those the scheduler forced (a loaded machine's).
std::uint64_t context_switches(int who, bool involuntary_only = false);

/// One thread of this process: its id, its name (rsp/common/thread_name.hpp),
/// the CPU seconds it has used so far and its context switches (voluntary and
/// involuntary, from /proc/self/task/<tid>/status).
struct ThreadCpu {
  int tid = 0;
  std::string name;
  double seconds = 0;
  std::uint64_t switches = 0;
};
/// Every thread of this process now (from /proc/self/task, each one's CPU
/// from its own CPU-time clock, to the nanosecond). Empty where there is no
/// /proc. A thread that ended is not listed: its CPU shows only in
/// process_cpu_seconds().
std::vector<ThreadCpu> threads_cpu();
/// CPU seconds per thread between two snapshots, by thread (a thread missing
/// from `before` started in between and counts from zero).
std::vector<ThreadCpu> threads_cpu_since(const std::vector<ThreadCpu>& before, const std::vector<ThreadCpu>& after);

/// The 1-minute load average (/proc/loadavg; 0 where there is none): other
/// jobs on the machine lengthen every latency, so benches print it beside them.
double load_average();

/// The whole machine's CPU time so far, in clock ticks, from /proc/stat's
/// "cpu" line (proc(5)): what this process and every other job used, what
/// stayed idle or waited for the disk, and what the hypervisor gave to other
/// guests (steal). All zero where there is no /proc/stat.
struct MachineCpu {
  double busy = 0;    ///< user, nice, system, irq, softirq
  double idle = 0;
  double iowait = 0;
  double steal = 0;
  double total() const { return busy + idle + iowait + steal; }
};
MachineCpu machine_cpu();
/// Between two snapshots, each part as a share of the time that passed on
/// all cores, in one line: "busy 71 %, idle 14 %, iowait 6 %, steal 9 %".
/// A rate that CPU per op does not explain is often the idle or steal here.
std::string machine_cpu_line(const MachineCpu& before, const MachineCpu& after);

/// The `p` quantile (0..1) of `samples`, nearest rank; 0 when empty.
double percentile(std::vector<double> samples, double p);

}  // namespace rsp::bench
