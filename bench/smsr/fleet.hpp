#pragma once
/// The eUICCs of bench_smsr: `m` simulated devices (a card folder each, as
/// `rsp euicc create --m2m` makes one, with its own eUICC certificate and
/// EID from the test EUM) and the EIS of `n - m` more eUICCs that only the
/// registry knows (no device: they make the registry its size).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "rsp/common/expected.hpp"
#include "rsp/m2m/eis.hpp"

namespace rsp::bench {

inline constexpr const char* kBenchEum = "EUM-BENCH";
inline constexpr const char* kBenchMno = "bench-mno";

/// The two profiles' ICCIDs and MSISDNs of eUICC number `i` (0: bootstrap,
/// enabled with the fallback attribute; 1: the second, disabled). Unique
/// per eUICC, as the registry wants.
std::string fleet_iccid(std::size_t i, int profile);
std::string fleet_msisdn(std::size_t i, int profile);

/// Creates card folder `i` under `dir` with a fresh eUICC certificate issued
/// by the test EUM of `pki_dir`; returns its EIS as the EUM registers it.
expected<m2m::Eis, std::string> make_card(const std::filesystem::path& pki_dir, const std::filesystem::path& dir,
                                          std::size_t i);

/// The EIS of eUICC `i` with no device: `model`'s shape (a card's EIS) with
/// a fresh random EID, fresh random ISD-R keys, and the ICCIDs / MSISDNs of `i`.
m2m::Eis synthetic_eis(const m2m::Eis& model, std::size_t i);

}  // namespace rsp::bench
