#include "support/measure.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <unordered_map>

namespace rsp::bench {

double cpu_seconds(int who) {
  rusage u{};
  ::getrusage(who, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

double process_cpu_seconds() { return cpu_seconds(RUSAGE_SELF); }

double thread_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

std::uint64_t context_switches(int who, bool involuntary_only) {
  rusage u{};
  ::getrusage(who, &u);
  return (involuntary_only ? 0 : static_cast<std::uint64_t>(u.ru_nvcsw)) + static_cast<std::uint64_t>(u.ru_nivcsw);
}

namespace {

/// voluntary_ctxt_switches + nonvoluntary_ctxt_switches of one thread's
/// status file (0 when it cannot be read: the thread ended meanwhile).
std::uint64_t thread_switches(const std::filesystem::path& task) {
  std::ifstream status(task / "status");
  std::uint64_t sum = 0;
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("voluntary_ctxt_switches:") || line.starts_with("nonvoluntary_ctxt_switches:"))
      sum += std::strtoull(line.c_str() + line.find(':') + 1, nullptr, 10);
  return sum;
}

}  // namespace

std::vector<ThreadCpu> threads_cpu() {
  std::vector<ThreadCpu> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    ThreadCpu t;
    t.tid = std::atoi(entry.path().filename().c_str());
    if (t.tid <= 0) continue;
    // A thread's CPU-time clock, as pthread_getcpuclockid() makes it from a
    // thread id (Linux: per-thread, scheduler clock); a thread of this
    // process may read another's.
    const auto clock = static_cast<clockid_t>((~static_cast<unsigned>(t.tid) << 3) | 6);
    timespec ts{};
    if (::clock_gettime(clock, &ts) != 0) continue;  // ended meanwhile
    t.seconds = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    if (std::ifstream comm(entry.path() / "comm"); comm) std::getline(comm, t.name);
    t.switches = thread_switches(entry.path());
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<ThreadCpu> threads_cpu_since(const std::vector<ThreadCpu>& before, const std::vector<ThreadCpu>& after) {
  std::unordered_map<int, const ThreadCpu*> start;
  for (const auto& t : before) start[t.tid] = &t;
  std::vector<ThreadCpu> out;
  for (const auto& t : after) {
    const auto it = start.find(t.tid);
    const ThreadCpu* b = it == start.end() ? nullptr : it->second;
    out.push_back({t.tid, t.name, t.seconds - (b ? b->seconds : 0.0),
                   t.switches - std::min(t.switches, b ? b->switches : std::uint64_t{0})});
  }
  return out;
}

double load_average() {
  double l = 0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = 0;
    std::fclose(f);
  }
  return l;
}

MachineCpu machine_cpu() {
  MachineCpu m;
  FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return m;
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  unsigned long long v[8] = {};
  if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                  &v[6], &v[7]) == 8) {
    m.busy = static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6]);
    m.idle = static_cast<double>(v[3]);
    m.iowait = static_cast<double>(v[4]);
    m.steal = static_cast<double>(v[7]);
  }
  std::fclose(f);
  return m;
}

std::string machine_cpu_line(const MachineCpu& before, const MachineCpu& after) {
  const double total = after.total() - before.total();
  if (total <= 0) return "not known (no /proc/stat)";
  const auto pct = [total](double a, double b) { return static_cast<int>((a - b) * 100 / total + 0.5); };
  char line[128];
  std::snprintf(line, sizeof line, "busy %d %%, idle %d %%, iowait %d %%, steal %d %%", pct(after.busy, before.busy),
                pct(after.idle, before.idle), pct(after.iowait, before.iowait), pct(after.steal, before.steal));
  return line;
}

double percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1) + 0.5);
  return samples[std::min(i, samples.size() - 1)];
}

}  // namespace rsp::bench
