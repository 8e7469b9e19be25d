#pragma once
// An ES9+ transport over two SM-DP+ instances that share one database: the
// LPA's calls alternate between them, as behind a load balancer without
// affinity.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/lpa/download.hpp"

namespace rsp::e2e {

/// Sends ES9+ call n to server n % 2 (the first to A, the next to B, ...);
/// optionally replays one function's request on the other server right after.
class AlternatingEs9 final : public lpa::Es9Transport {
 public:
  AlternatingEs9(lpa::Es9Transport& a, lpa::Es9Transport& b, std::size_t first = 0)
      : servers_{&a, &b}, calls_(first) {}

  expected<lpa::HttpReply, lpa::TransportError> post(std::string_view address, std::string_view path,
                                                     std::string_view body) override {
    const std::size_t which = calls_ % 2;
    ++calls_;
    served_by.push_back(std::string(which == 0 ? "A:" : "B:") + std::string(path));
    auto reply = servers_[which]->post(address, path, body);
    if (!replay_path.empty() && path.ends_with(replay_path) && reply && reply->status == 200)
      replayed = servers_[1 - which]->post(address, path, body);
    return reply;
  }

  std::vector<std::string> served_by;
  std::string replay_path;  ///< e.g. "/authenticateClient"
  std::optional<expected<lpa::HttpReply, lpa::TransportError>> replayed;

 private:
  lpa::Es9Transport* servers_[2];
  std::size_t calls_ = 0;
};

}  // namespace rsp::e2e
