#include "failure_kinds.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace rsp::bench {

namespace {

/// "Failed 8.1/3.8" from a functionExecutionStatus object.
std::string execution_status(const nlohmann::json& s) {
  if (!s.is_object()) return "no functionExecutionStatus";
  std::string out = s.value("status", std::string("no status"));
  if (auto c = s.find("statusCodeData"); c != s.end() && c->is_object()) {
    out += " " + c->value("subjectCode", std::string("?")) + "/" + c->value("reasonCode", std::string("?"));
    if (auto m = c->find("message"); m != c->end() && m->is_string() && !m->get<std::string>().empty())
      out += " (" + m->get<std::string>() + ")";
  }
  return out;
}

}  // namespace

Es4Answer read_es4_answer(const net::NetResult<net::HttpResponse>& r) {
  if (!r) return "ES4 call: " + std::string(net::kind_name(r.error().kind)) + " (" + r.error().message + ")";
  const auto body = nlohmann::json::parse(r->body, nullptr, false);
  if (body.is_object()) {
    const auto id = body.value("operationId", std::int64_t{0});
    if (id > 0 && r->status / 100 == 2) return id;
  }
  std::string kind = "ES4 HTTP " + std::to_string(r->status);
  if (body.is_object() && body.contains("header") && body["header"].is_object())
    kind += " " + execution_status(body["header"].value("functionExecutionStatus", nlohmann::json()));
  else if (!body.is_object())
    kind += " (body not JSON)";
  return kind;
}

std::string callback_failure(const nlohmann::json& body) {
  if (!body.is_object()) return "callback not JSON";
  const auto s = body.value("functionExecutionStatus", nlohmann::json());
  if (s.is_object() && s.value("status", "") == "Executed-Success") return {};
  return "callback " + execution_status(s);
}

void FailureKinds::add(const std::string& kind) {
  std::lock_guard lock(mu_);
  ++counts_[kind];
}

std::map<std::string, std::size_t> FailureKinds::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

std::string FailureKinds::summary() const {
  std::vector<std::pair<std::string, std::size_t>> v;
  {
    std::lock_guard lock(mu_);
    v.assign(counts_.begin(), counts_.end());
  }
  if (v.empty()) return "none";
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (const auto& [kind, n] : v) {
    if (!out.empty()) out += "; ";
    out += std::to_string(n) + " " + kind;
  }
  return out;
}

}  // namespace rsp::bench
