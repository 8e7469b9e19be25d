#pragma once
// Shared fixture: a fresh eUICC folder (identity from one test PKI made per
// test program) behind a Card, reached through APDUs as an LPA would.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "rsp/apdu/lpa_exchange.hpp"
#include "rsp/asn1/runtime.hpp"
#include "rsp/asn1/sgp22.hpp"
#include "rsp/card/card.hpp"
#include "rsp/euicc/isd_r.hpp"
#include "rsp/euicc/store.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::euicc::test {

using card::Card;
using card::in_process_transmit;
using card::kIsdRAid;
using card::MinimalEcasd;

using test_support::TempDir;

/// The test PKI shared by the tests of one program (made on first use).
const std::filesystem::path& shared_pki_dir();

/// Creates an eUICC in `dir` from the shared PKI.
EuiccStore make_euicc(const std::filesystem::path& dir);

/// A profile record as a download would leave it.
ProfileRecord sample_profile(int n, bool with_notifications = true);

class EuiccTest : public ::testing::Test {
 protected:
  void SetUp() override;
  /// A new Card + ISD-R over the same folder (as after a restart).
  void reopen();

  /// Sends one ES10 command; fails the test on an error status word.
  Bytes es10(ByteView command);
  /// Sends one ES10 command expected to be refused; returns the status word.
  std::uint16_t es10_sw(ByteView command);

  template <class Resp, class Req>
  Resp call(const Req& request) {
    auto data = es10(asn1::encode(request));
    auto r = asn1::decode<Resp>(data);
    EXPECT_TRUE(r.has_value()) << to_hex(data);
    return r ? *r : Resp{};
  }

  void add_profiles(std::initializer_list<ProfileRecord> profiles);
  EuiccState state() const;

  TempDir tmp_;
  std::unique_ptr<EuiccStore> store_;
  std::unique_ptr<Card> card_;
};

}  // namespace rsp::euicc::test
