#include "m2m_fixture.hpp"

#include <fstream>

#include "rsp/common/file.hpp"
#include "rsp/pki/certificate.hpp"
#include "test_support/shared_pki.hpp"

namespace rsp::euicc_m2m::test {

const std::filesystem::path& shared_pki_dir() { return test_support::shared_test_pki_dir(); }

std::filesystem::path newest_slot(const std::filesystem::path& dir) {
  std::filesystem::path best;
  unsigned long long best_seq = 0;
  for (const char* name : {"state.0", "state.1"}) {
    std::ifstream in(dir / name);
    std::string magic, version;
    unsigned long long seq = 0;
    if (in >> magic >> version >> seq && seq > best_seq) {
      best_seq = seq;
      best = dir / name;
    }
  }
  return best;
}

std::optional<SigningIdentity> dp_signing_identity(crypto::Curve curve) {
  namespace fs = std::filesystem;
  for (const auto& e : fs::recursive_directory_iterator(shared_pki_dir())) {
    const std::string name = e.path().filename().string();
    if (name.rfind("CERT_M2M_SM_DP_ECDSA_", 0) != 0) continue;
    const std::string key_name = "SK_" + name.substr(5);
    fs::path key_file;
    for (const auto& k : fs::recursive_directory_iterator(shared_pki_dir()))
      if (k.path().filename() == key_name) key_file = k.path();
    if (key_file.empty()) continue;
    auto cert = pki::Certificate::load_file(e.path());
    auto pem = read_file(key_file);
    if (!cert || cert->empty() || !pem) continue;
    auto key = crypto::EcKey::from_pem(std::string(pem->begin(), pem->end()));
    if (key && key->curve() == curve) return SigningIdentity{cert->front().der(), std::move(*key)};
  }
  return std::nullopt;
}

void M2mTest::SetUp() {
  dir_ = tmp_.path() / "card";
  auto sources = euicc::find_identity_sources(shared_pki_dir());
  ASSERT_TRUE(sources);
  M2mCreateOptions o;
  o.dir = dir_;
  o.sources = *sources;
  o.smsr_id = "smsr.test";
  o.profiles = {
      {boot_, from_hex("98001032547698103214").value(), "mno-boot", m2m::pol1::kDeleteNotAllowed, true, true},
      {second_, from_hex("98001032547698103225").value(), "mno-two", 0, false, false},
  };
  auto store = create_m2m_euicc(o);
  ASSERT_TRUE(store) << store.error().message;
  reopen();
}

void M2mTest::reopen() {
  card_.reset();
  IsdROptions options;
  options.now = [this] { return now_; };
  options.fallback_timeout = std::chrono::seconds(60);
  auto card = M2mEuicc::open(dir_, options);
  ASSERT_TRUE(card) << card.error().message;
  card_ = std::move(*card);
}

apdu::Response M2mTest::send(const m2m::IsdrCommand& command) {
  auto bytes = m2m::build_apdu(command);
  EXPECT_TRUE(bytes);
  if (!bytes) return {};
  auto r = apdu::parse_response(card_->isd_r().execute(*bytes));
  EXPECT_TRUE(r);
  return r ? *r : apdu::Response{};
}

IsdpRecord M2mTest::isdp(const Bytes& aid) {
  auto s = card_->isd_r().state();
  auto* p = s.find(aid);
  EXPECT_NE(p, nullptr) << to_hex(aid);
  return p ? *p : IsdpRecord{};
}

bool M2mTest::exists(const Bytes& aid) {
  auto s = card_->isd_r().state();
  return s.find(aid) != nullptr;
}

}  // namespace rsp::euicc_m2m::test
