// Untrusted ES2+ JSON requests through the decoder and the ES2+ service on
// an in-memory inventory: nothing may crash, assert or leak. The first byte
// picks the function, the rest is the body.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "rsp/asn1/upp.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/smdpp/es2_json.hpp"
#include "rsp/store/sqlite.hpp"

namespace {

struct Fixture {
  rsp::crypto::DeterministicRandom rng{rsp::Bytes{4, 2}};
  rsp::smdpp::ManualClock clock{rsp::smdpp::TimePoint{std::chrono::seconds(1'800'000'000)}};
  std::shared_ptr<rsp::smdpp::Inventory> inv;
  std::unique_ptr<rsp::smdpp::Es2Service> es2;
  Fixture() {
    auto db = rsp::store::open_sqlite(":memory:");
    if (!db) std::abort();
    auto kek = rsp::smdpp::KeyEncryptionKey::make(rsp::Bytes(32, 0x4B));
    if (!kek) std::abort();
    auto i = rsp::smdpp::Inventory::open(std::shared_ptr<rsp::store::Database>(std::move(*db)), clock,
                                         {std::make_shared<const rsp::smdpp::KeyEncryptionKey>(std::move(*kek)), &rng});
    if (!i) std::abort();
    inv = *i;
    (void)inv->ensure_operator("op1");
    // A few profiles so the seeds reach the state machine, not only "unknown ICCID".
    for (int n = 1; n <= 4; ++n) {
      std::vector<rsp::asn1::saip::ProfileElement> pes(2);
      auto& h = pes[0].set_header();
      h.major_version = 2;
      h.minor_version = 3;
      h.iccid = *rsp::messages::iccid_from_digits("894900000000000001" + std::to_string(n));
      pes[1].set_end().end_header.identification = 1;
      rsp::smdpp::ImportProfile p;
      p.operator_name = n % 2 ? "op1" : "op2";
      p.profile_type = "gold";
      p.upp = rsp::asn1::encode_profile_package(pes);
      if (!inv->import_profile(p)) std::abort();
    }
    es2 = std::make_unique<rsp::smdpp::Es2Service>(inv, rsp::smdpp::Es2Config{"smdp.fuzz.example", 3}, rng);
  }
};

constexpr const char* kPaths[] = {
    "/gsma/rsp2/es2plus/downloadOrder", "/gsma/rsp2/es2plus/confirmOrder", "/gsma/rsp2/es2plus/cancelOrder",
    "/gsma/rsp2/es2plus/releaseProfile", "/gsma/rsp2/es2plus/unknown", "/other"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture f;
  if (size == 0) return 0;
  const std::string_view path = kPaths[data[0] % std::size(kPaths)];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)rsp::smdpp::decode_es2_request(path, body);
  auto r = rsp::smdpp::handle_es2_request(*f.es2, path, body);
  if (r.body.empty()) __builtin_trap();  // every outcome has a JSON body
  return 0;
}
