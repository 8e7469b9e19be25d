#pragma once
/// bench_smdpp's latency under load short of saturation: downloads offered
/// on an open schedule, the p99 of the slowest ES9+ function.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "lpa_client.hpp"

namespace rsp::bench::smdpp_https {

/// The slowest ES9+ function's p99 in ms with the downloads of `ids` offered
/// on an open schedule at `rate` per second (download i due at i / rate,
/// taken by whichever client is free), the eUICCs from fleet[first...];
/// 0 when a download failed.
double paced_p99_ms(std::vector<std::unique_ptr<Client>>& clients, const std::vector<std::string>& ids,
                    const std::vector<smdpp::testing::TestEuiccCredentials>& fleet, std::size_t first, double rate);

}  // namespace rsp::bench::smdpp_https
