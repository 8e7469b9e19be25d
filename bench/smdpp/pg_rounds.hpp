#pragma once
/// bench_smdpp --db: the SM-DP+ scaled out on one PostgreSQL database
/// (pg_scale.hpp), driven by bench_smdpp's LPAs.

#include <filesystem>

#include "options.hpp"

namespace rsp::bench::smdpp_https {

/// The PostgreSQL rounds of `a` with the test PKI in `pki`; LPA c keeps its
/// connection to instance c % instances. Returns the exit code.
int postgresql_rounds(const Args& a, const std::filesystem::path& pki);

}  // namespace rsp::bench::smdpp_https
