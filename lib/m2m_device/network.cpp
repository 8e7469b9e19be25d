// The simulated network attach: coverage per ICCID, the card polled for its fallback.

#include "rsp/m2m_device/network.hpp"

#include <sstream>

#include "rsp/common/file.hpp"
#include "rsp/messages/iccid.hpp"

namespace rsp::m2m_device {

expected<std::set<std::string>, std::string> read_coverage_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::set<std::string>{};
  auto bytes = read_file(file);
  if (!bytes) return unexpected("coverage file " + file.string() + ": " + bytes.error().message);
  std::set<std::string> out;
  std::istringstream in(std::string(bytes->begin(), bytes->end()));
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    const std::string iccid = line.substr(first, last - first + 1);
    if (!messages::iccid_from_digits(iccid))
      return unexpected("coverage file " + file.string() + " line " + std::to_string(number) + ": not an ICCID");
    out.insert(iccid);
  }
  return out;
}

expected<std::vector<std::string>, std::string> apply_coverage(euicc_m2m::M2mIsdR& isd_r,
                                                               const std::set<std::string>& no_coverage) {
  std::set<std::string> unknown = no_coverage;
  for (const auto& p : isd_r.state().isdps) {
    if (p.iccid.empty()) continue;
    const std::string iccid = messages::iccid_to_digits(p.iccid);
    const bool coverage = !no_coverage.contains(iccid);
    unknown.erase(iccid);
    if (p.coverage == coverage) continue;
    if (auto r = isd_r.set_coverage(p.aid, coverage); !r) return unexpected(r.error().message);
  }
  return std::vector<std::string>(unknown.begin(), unknown.end());
}

NetworkSimulator::NetworkSimulator(euicc_m2m::M2mIsdR& isd_r, NetworkOptions options)
    : isd_r_(isd_r), options_(std::move(options)) {}

NetworkSimulator::~NetworkSimulator() { stop(); }

void NetworkSimulator::log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

expected<bool, std::string> NetworkSimulator::tick() {
  std::set<std::string> none = options_.no_coverage;
  std::string file_error;
  if (options_.file) {
    auto listed = read_coverage_file(*options_.file);
    if (listed) {
      none.insert(listed->begin(), listed->end());
    } else {
      file_error = listed.error();
    }
  }
  if (file_error != last_file_error_) {
    if (!file_error.empty()) log("network: " + file_error + "; coverage unchanged");
    last_file_error_ = file_error;
  }
  if (file_error.empty()) {
    auto applied = apply_coverage(isd_r_, none);
    if (!applied) return unexpected(applied.error());
  }
  auto fell_back = isd_r_.poll_network();
  if (!fell_back) return unexpected(fell_back.error().message);
  if (*fell_back) {
    log("network: no coverage on the enabled profile for the fallback timeout: the fallback profile is enabled");
    if (options_.on_fallback) options_.on_fallback();
  }
  if (!file_error.empty()) return unexpected(file_error);
  return *fell_back;
}

void NetworkSimulator::start() {
  std::lock_guard guard(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      if (auto r = tick(); !r && r.error() != last_file_error_) log("network: " + r.error());
      lock.lock();
      cv_.wait_for(lock, options_.interval, [this] { return stopping_; });
    }
  });
}

void NetworkSimulator::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace rsp::m2m_device
