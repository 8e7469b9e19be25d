// `rsp profile sample`: writes sample SAIP profile packages the project makes
// itself (smdpp/sample_profile.hpp), so the inventory can be filled without
// the TS.48 test profiles.

#include <fmt/core.h>

#include <filesystem>
#include <memory>

#include "command.hpp"
#include "rsp/common/file.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/messages/iccid.hpp"
#include "rsp/smdpp/inventory.hpp"
#include "rsp/smdpp/sample_profile.hpp"

namespace {

struct SampleArgs {
  std::string out, prefix = "898820100000", type = "rsp-sample";
  int count = 3;
  std::size_t size = 0;
  unsigned first = 1;
};

/// Luhn check digit of an ICCID's first 19 digits (ITU-T E.118).
char luhn_digit(const std::string& digits) {
  int sum = 0;
  bool twice = true;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it, twice = !twice) {
    int d = *it - '0';
    if (twice && (d *= 2) > 9) d -= 9;
    sum += d;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

void run_sample(const SampleArgs& a) {
  if (a.prefix.size() > 18 || a.prefix.find_first_not_of("0123456789") != std::string::npos) {
    fmt::print(stderr, "rsp profile sample: --iccid-prefix must be up to 18 digits\n");
    rsp::cli::exit_with(1);
  }
  std::error_code ec;
  std::filesystem::create_directories(a.out, ec);
  for (int i = 0; i < a.count; ++i) {
    // 19 digits (prefix, zero-padded serial) and the Luhn check digit
    const std::string serial = std::to_string(a.first + static_cast<unsigned>(i));
    if (a.prefix.size() + serial.size() > 19) {
      fmt::print(stderr, "rsp profile sample: serial {} does not fit after the prefix\n", serial);
      rsp::cli::exit_with(1);
    }
    std::string digits = a.prefix + std::string(19 - a.prefix.size() - serial.size(), '0') + serial;
    digits.push_back(luhn_digit(digits));
    auto iccid = rsp::messages::iccid_from_digits(digits);
    if (!iccid) {
      fmt::print(stderr, "rsp profile sample: ICCID {} is not valid\n", digits);
      rsp::cli::exit_with(1);
    }
    const rsp::Bytes upp =
        rsp::smdpp::make_sample_upp(*iccid, rsp::crypto::system_random(), {a.type, a.size});
    const auto file = std::filesystem::path(a.out) / (digits + ".der");
    if (auto w = rsp::write_file_atomic(file, upp, std::filesystem::perms(0600)); !w) {
      fmt::print(stderr, "rsp profile sample: {}\n", w.error().message);
      rsp::cli::exit_with(1);
    }
    fmt::print("{}  ICCID {}  type {}  {} bytes\n", file.string(), digits, a.type, upp.size());
  }
}

}  // namespace

RSP_COMMAND_GROUP(profile_sample) {
  auto* g = rsp::cli::group_command(app, "profile", "SAIP profile packages");
  auto* s = g->add_subcommand("sample", "Write sample profile packages (USIM, MILENAGE with fresh keys)");
  auto a = std::make_shared<SampleArgs>();
  s->add_option("--out", a->out, "Folder for the .der files")->required();
  s->add_option("--count", a->count, "How many profiles")->check(CLI::Range(1, 100000));
  s->add_option("--iccid-prefix", a->prefix, "First ICCID digits (issuer identification)");
  s->add_option("--first", a->first, "Serial number of the first profile");
  s->add_option("--type", a->type, "profileType written in the ProfileHeader");
  s->add_option("--size", a->size, "Filler bytes, to give the packages a realistic size");
  s->callback([a] { run_sample(*a); });
}
