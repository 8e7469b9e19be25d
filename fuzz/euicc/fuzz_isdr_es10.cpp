// Feeds the ISD-R one ES10 command per input, through Card::transmit as
// STORE DATA blocks (the path an LPA uses). The card keeps its folder between
// inputs, so commands that change state are exercised on varied states.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "rsp/apdu/lpa_exchange.hpp"
#include "rsp/card/card.hpp"
#include "rsp/euicc/isd_r.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/pki/test_pki.hpp"

namespace {

namespace fs = std::filesystem;

/// The card's folder, removed when the fuzzer exits (libFuzzer ends with exit()).
const fs::path& card_dir() {
  static const fs::path dir = fs::temp_directory_path() / ("rsp_fuzz_isdr_" + std::to_string(::getpid()));
  return dir;
}

void remove_card_dir() {
  std::error_code ec;
  fs::remove_all(card_dir(), ec);
}

rsp::card::Card* make_card() {
  const fs::path& dir = card_dir();
  fs::remove_all(dir);
  std::atexit(remove_card_dir);
  rsp::pki::TestPkiOptions o;
  o.out_dir = dir / "pki";
  o.curves = {rsp::crypto::Curve::NistP256};
  if (!rsp::pki::make_test_pki(o)) std::abort();
  auto sources = rsp::euicc::find_identity_sources(o.out_dir);
  if (!sources) std::abort();
  rsp::euicc::CreateOptions c;
  c.dir = dir / "card";
  c.sources = *sources;
  auto store = rsp::euicc::create_euicc(c);
  if (!store) std::abort();
  auto s = store->load();
  rsp::euicc::ProfileRecord p;
  p.isdp_aid = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x10, 0x01};
  p.iccid = *rsp::messages::iccid_from_digits("89444765000000001001");
  p.notification_config.push_back({0x0F, "smdp.example.com"});
  s->profiles.push_back(p);
  if (!store->save(*s)) std::abort();
  auto* card = new rsp::card::Card();
  card->add_application(std::make_shared<rsp::euicc::IsdR>(*store));
  return card;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static rsp::card::Card* card = make_card();
  if (size == 0 || size > 4096) return 0;
  rsp::Bytes select = {0x00, 0xA4, 0x04, 0x00, 0x10};
  select.insert(select.end(), std::begin(rsp::card::kIsdRAid), std::end(rsp::card::kIsdRAid));
  card->transmit(select);
  auto r = rsp::apdu::send_es10(rsp::card::in_process_transmit(*card), rsp::ByteView(data, size), 0);
  if (!r && r.error().kind != rsp::apdu::ExchangeError::Kind::kStatus) std::abort();
  return 0;
}
