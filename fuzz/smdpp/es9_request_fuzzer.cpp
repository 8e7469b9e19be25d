// Untrusted ES9+ request bytes (ASN.1 binding) through decoding and the
// SM-DP+ functions: nothing may crash, assert or grow without bound.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "rsp/crypto/random.hpp"
#include "rsp/smdpp/es9_der.hpp"

namespace {

struct Fixture {
  rsp::crypto::DeterministicRandom rng{rsp::Bytes{1, 2, 3}};
  rsp::smdpp::ManualClock clock{rsp::smdpp::TimePoint{std::chrono::seconds(1'800'000'000)}};
  std::unique_ptr<rsp::smdpp::Server> server;
  Fixture() {
    rsp::smdpp::ServerConfig cfg;
    cfg.address = "smdp.fuzz.example";
    cfg.max_sessions = 64;
    server = std::make_unique<rsp::smdpp::Server>(cfg, std::make_shared<rsp::smdpp::IdentitySet>(),
                                                  std::make_shared<rsp::smdpp::InMemoryProfileCatalog>(), clock,
                                                  rng);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture f;
  rsp::ByteView in(data, size);
  (void)rsp::smdpp::decode_es9_request(in);
  (void)rsp::smdpp::handle_es9_der(*f.server, in);
  return 0;
}
