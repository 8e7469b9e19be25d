// bench_smdpp_core [N] [nist|brp|both] [--verify]
// Runs N in-process SGP.22 downloads per curve (SM-DP+ core plus the test
// double eUICC, one of its own per download; with --verify the eUICC also
// opens the whole BPP) and prints downloads per CPU-second of the one thread
// doing both sides next to the download crypto floor measured in the same run.
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "crypto/floor.hpp"
#include "fleet.hpp"
#include "rsp/pki/key_store.hpp"
#include "rsp/pki/test_pki.hpp"
#include "rsp/smdpp/server.hpp"
#include "support/measure.hpp"
#include "test_euicc.hpp"

namespace fs = std::filesystem;
using namespace rsp;
using bench::thread_cpu_seconds;

namespace {

bool one_download(smdpp::Server& server, smdpp::testing::TestEuicc& e, const std::string& address,
                  const std::string& mid, bool verify) {
  auto init = server.initiate_authentication(e.initiate(address));
  if (!init) return false;
  auto acr = e.authenticate_server(*init, mid);
  if (!acr) return false;
  auto auth = server.authenticate_client(*acr);
  if (!auth) return false;
  auto gbpp = e.prepare_download(*auth, std::nullopt);
  if (!gbpp) return false;
  auto bpp = server.get_bound_profile_package(*gbpp);
  if (!bpp) return false;
  if (verify && !e.load_bpp(bpp->boundProfilePackage)) return false;
  return static_cast<bool>(server.handle_notification(e.install_result(true)));
}

}  // namespace

int main(int argc, char** argv) {
  int n = 200;
  std::vector<crypto::Curve> curves{crypto::Curve::NistP256, crypto::Curve::BrainpoolP256r1};
  bool verify = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "nist") curves = {crypto::Curve::NistP256};
    else if (a == "brp") curves = {crypto::Curve::BrainpoolP256r1};
    else if (a == "both") {}
    else if (a == "--verify") verify = true;
    else n = std::max(1, std::atoi(a.c_str()));
  }
  const fs::path dir = fs::temp_directory_path() / ("bench_smdpp_" + std::to_string(::getpid()));
  pki::TestPkiOptions o;
  o.out_dir = dir;
  o.smdpp_address = "smdp.bench.example";
  if (!pki::make_test_pki(o)) { std::fprintf(stderr, "test PKI generation failed\n"); return 1; }
  auto ids = smdpp::IdentitySet::load_directory(dir);
  if (!ids) { std::fprintf(stderr, "%s\n", ids.error().message.c_str()); return 1; }
  auto identities = std::make_shared<smdpp::IdentitySet>(std::move(*ids));
  auto catalog = std::make_shared<smdpp::InMemoryProfileCatalog>();
  smdpp::SystemClock clock;
  smdpp::ServerConfig cfg;
  cfg.address = o.smdpp_address;
  smdpp::Server server(cfg, identities, catalog, clock, crypto::system_random());
  // A ~20 KB profile, about the size of a TS.48 test profile.
  const Bytes iccid{0x98, 0x94, 0, 0, 0, 0, 0, 0, 0x10, 0xF2};
  auto profile = smdpp::PreparedProfile::prepare(smdpp::testing::make_test_upp(iccid, 20000), {"Bench", "Bench", 2},
                                                 false, crypto::system_random());
  if (!profile) return 1;
  catalog->add(smdpp::ProfileOrder{"BENCH", std::nullopt, std::nullopt, 3, *profile});

  std::printf("bench_smdpp_core: %d downloads per curve, eUICC-side BPP verification %s\n", n, verify ? "on" : "off");
  int rc = 0;
  for (auto curve : curves) {
    const auto fleet = bench::make_fleet(dir, curve, n);  // an eUICC of its own per download
    // CPU time of this thread, like the floor: robust to other load on the machine.
    const double t0 = thread_cpu_seconds();
    int done = 0;
    for (const auto& creds : fleet) {
      smdpp::testing::TestEuicc e(creds, crypto::system_random());
      done += one_download(server, e, cfg.address, "BENCH", verify) ? 1 : 0;
    }
    const double secs = thread_cpu_seconds() - t0;
    const double rate = done / secs;
    const auto floor = bench::measure_download_floor(curve);
    std::printf("%-5s downloads/CPU-s %8.1f  (%d/%d ok, %.2f CPU-s)  floor %8.1f/s  ratio %.2f\n", crypto::short_name(curve),
                rate, done, n, secs, floor.downloads_per_second, rate / floor.downloads_per_second);
    if (done != n) rc = 1;
  }
  fs::remove_all(dir);
  return rc;
}
