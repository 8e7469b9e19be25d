#pragma once
/// bench_smsr: what each failed EnableProfile operation got, as a short
/// kind ("ES4 HTTP 503 Failed 1.2/4.2", "callback Expired 6.4/3.9", "ES4
/// call: timeout ..."), so that a run with failures says which they were
/// and how many of each.

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "rsp/net/client.hpp"

namespace rsp::bench {

/// An ES4 call's answer: the operation id it was accepted under, or the
/// kind of failure it was.
using Es4Answer = std::variant<std::int64_t, std::string>;

/// Reads an ES4 call's answer: an `operationId` > 0 is an acceptance; else
/// the transport error, the HTTP status and the execution status with its
/// subject/reason codes make the kind.
Es4Answer read_es4_answer(const net::NetResult<net::HttpResponse>& r);

/// The kind of a callback's failure: its status and subject/reason codes
/// (empty for Executed-Success).
std::string callback_failure(const nlohmann::json& body);

/// Counts per kind, thread-safe.
class FailureKinds {
 public:
  void add(const std::string& kind);
  std::map<std::string, std::size_t> counts() const;
  /// "none", or "N <kind>; M <kind>" most frequent first.
  std::string summary() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::size_t> counts_;
};

}  // namespace rsp::bench
