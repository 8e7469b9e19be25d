// The administration-session server's handling of the card's POST bodies
// (GP Amendment B, TS 102 226 §5.2 response scripts, 'E1' notifications),
// without TLS: the first input byte picks the POST and its script status,
// the rest is the body. Whatever the bytes, the server answers 200, 204 or a
// 4xx, a queued script is answered at most once, and no session stays open.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "rsp/es5/admin_session.hpp"
#include "rsp/ota/admin_http.hpp"

using namespace rsp;
using namespace rsp::es5;

namespace {

const std::string kEid = "89049032123451234512345678901235";

struct Scripts final : ScriptSource {
  bool pending = true;
  int completions = 0;
  std::optional<Script> next_script(const std::string&) override {
    if (!pending) return std::nullopt;
    return Script{"t", {Bytes{0x80, 0xE2, 0x88, 0x00, 0x03, 0x3A, 0x03, 0x00}}, {}};
  }
  void completed(const std::string&, const std::string&, const Es5Result<std::vector<apdu::Response>>&) override {
    pending = false;
    ++completions;
  }
};

struct Sink final : NotificationSink {
  void notification(const std::string&, const m2m::Notification&) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Scripts scripts;
  Sink sink;
  AdminSessionServer server({}, [](std::string_view) { return PskBinding{kEid, Bytes(16, 0)}; }, scripts, sink);
  const std::uint8_t mode = data[0];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);

  net::Request r;
  r.method = "POST";
  r.psk_identity = "id";
  r.headers = {{"X-Admin-Protocol", std::string(ota::kAdminProtocol)}, {"X-Admin-From", "agent"}};
  if (!body.empty()) r.headers.emplace_back("Content-Type", std::string(ota::kContentTypeScriptResponse));
  const bool continuation = (mode & 1) != 0;
  if (continuation) {
    net::Request open = r;
    open.headers.resize(2);
    if (server.handle(open, true).status != 200) std::abort();
    static const char* statuses[] = {"ok", "security-error", "unknown-application", "bogus"};
    r.headers.emplace_back("X-Admin-Script-Status", statuses[(mode >> 1) & 3]);
  }
  // Up to three POSTs: the fuzzed one, then empty continuations until the session ends.
  auto answer = server.handle(r, !continuation);
  for (int i = 0; i < 3 && answer.status == 200; ++i) {
    net::Request next = r;
    next.headers.resize(2);
    next.headers.emplace_back("X-Admin-Script-Status", "ok");
    next.headers.emplace_back("Content-Type", std::string(ota::kContentTypeScriptResponse));
    next.body = std::string("\xAB\x04\x23\x02\x90\x00", 6);
    answer = server.handle(next, false);
  }
  if (answer.status != 204 && (answer.status < 400 || answer.status > 499)) std::abort();
  if (scripts.completions > 1) std::abort();
  if (server.active_sessions() != 0) std::abort();
  return 0;
}
