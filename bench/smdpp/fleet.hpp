#pragma once
/// The eUICCs the SM-DP+ benchmarks download to, from a test PKI directory
/// (pki::make_test_pki).

#include <filesystem>
#include <vector>

#include "test_euicc.hpp"

namespace rsp::bench {

/// `n` eUICCs of their own (key pair, EID, certificate from the test EUM), as
/// in the field: the SM-DP+ meets each eUICC certificate once, so its
/// signature check cannot come from an earlier download's memo. The subject
/// has the test PKI eUICC's shape (SGP.26), within the EUM's name constraints.
std::vector<smdpp::testing::TestEuiccCredentials> make_fleet(const std::filesystem::path& pki_dir,
                                                             crypto::Curve curve, int n);

}  // namespace rsp::bench
