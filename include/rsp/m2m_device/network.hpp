#pragma once
/// The simulated network attach of the M2M device: which profiles find no
/// coverage, and the periodic look at the network that makes the card fall
/// back (SGP.02 §3.6 fallback mechanism: the enabled profile has lost
/// connectivity, the eUICC enables the profile with the fallback attribute
/// and notifies the SM-SR).
///
/// Coverage is set per ICCID: a list given at start (`rsp euicc m2m-run
/// --no-coverage ICCID`) and, optionally, a file read again on every tick,
/// one ICCID (digits) per line, '#' starting a comment. While a file is
/// named, a profile finds coverage exactly when the file and the start list
/// do not name it, so a test or a user edits the file to move the device in
/// and out of coverage. A profile's coverage is saved only when it changes.

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rsp/common/expected.hpp"
#include "rsp/euicc_m2m/isd_r.hpp"

namespace rsp::m2m_device {

/// The ICCIDs a coverage file lists (digits, as printed); why not when it
/// cannot be read or a line is no ICCID. A missing file lists none.
expected<std::set<std::string>, std::string> read_coverage_file(const std::filesystem::path& file);

/// Gives every profile of the card coverage unless `no_coverage` names its
/// ICCID; saves only the profiles whose coverage changes. The ICCIDs listed
/// that the card does not hold, or why the state could not be saved.
expected<std::vector<std::string>, std::string> apply_coverage(euicc_m2m::M2mIsdR& isd_r,
                                                               const std::set<std::string>& no_coverage);

struct NetworkOptions {
  std::set<std::string> no_coverage;          ///< ICCIDs without coverage from the start
  std::optional<std::filesystem::path> file;  ///< re-read on every tick
  std::chrono::milliseconds interval{1000};   ///< between two ticks of the thread
  /// Told after the card fell back (the device then sends its notification).
  std::function<void()> on_fallback;
  std::function<void(const std::string&)> log;
};

class NetworkSimulator {
 public:
  NetworkSimulator(euicc_m2m::M2mIsdR& isd_r, NetworkOptions options);
  ~NetworkSimulator();  ///< stops the thread if running
  NetworkSimulator(const NetworkSimulator&) = delete;
  NetworkSimulator& operator=(const NetworkSimulator&) = delete;

  /// One look at the network: coverage applied, then the card polled. True
  /// when the card fell back; an error when the file or the state failed
  /// (the card is polled all the same after a bad file).
  expected<bool, std::string> tick();
  /// Ticks every interval on a thread of its own until stop().
  void start();
  void stop();

 private:
  void log(const std::string& line) const;

  euicc_m2m::M2mIsdR& isd_r_;
  NetworkOptions options_;
  std::string last_file_error_;  ///< logged once until it changes
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rsp::m2m_device
