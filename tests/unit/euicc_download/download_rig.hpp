#pragma once
// A simulated eUICC (folder, Card, ISD-R) and the SM-DP+ core over one test
// PKI, with the LPA's steps written out one by one so tests can stop, tamper
// or crash between them.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fixture.hpp"
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

namespace sg = asn1::sgp22;

/// The ES10 pieces of a BPP as the LPA sends them (SGP.22 §2.5.5).
std::vector<Bytes> split_bpp(ByteView bpp_der);

class DownloadRig {
 public:
  /// An eUICC created from the SM-DP+ test PKI (both curves) in `dir`.
  explicit DownloadRig(const std::filesystem::path& dir, std::uint64_t seed = 7);

  /// A new Card + ISD-R on the same folder, ISD-R selected (as after a reset).
  void reopen();
  /// One ES10 command; the status word when the card refuses it.
  expected<Bytes, std::uint16_t> es10(ByteView command);

  template <class Resp, class Req>
  Resp call(const Req& request) {
    auto data = es10(asn1::encode(request));
    EXPECT_TRUE(data.has_value()) << "status " << std::hex << (data ? 0 : data.error());
    auto r = data ? asn1::decode<Resp>(*data) : tlv::Result<Resp>(unexpected(tlv::Error{}));
    EXPECT_TRUE(r.has_value());
    return r ? *r : Resp{};
  }

  /// Adds a released order for this eUICC.
  void add_order(const std::string& matching_id, ByteView iccid, bool ppk = false,
                 std::optional<std::string> cc = std::nullopt, std::size_t size = 12000);

  /// The LPA steps up to the Bound Profile Package (all expected to succeed).
  std::optional<sg::GetBoundProfilePackageOk> authenticate_and_bind(const std::string& matching_id,
                                                                     const std::optional<std::string>& cc = {});
  /// Sends the pieces; returns the eUICC's last answer (the ProfileInstallationResult).
  expected<Bytes, std::uint16_t> load(const std::vector<Bytes>& pieces);

  EuiccState state() const;
  std::string eid() const;

  smdpp::testing::World world;
  test_support::TempDir tmp;
  std::filesystem::path dir;
  std::optional<EuiccStore> store;
  std::unique_ptr<Card> card;
  std::shared_ptr<IsdR> isd_r;  ///< the card's ISD-R (its diagnostics)
};

}  // namespace rsp::euicc::test
