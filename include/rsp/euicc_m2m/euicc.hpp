#pragma once
/// An M2M eUICC as one object: the generic card (card/card.hpp) hosting the
/// M2M ISD-R (isd_r.hpp) and an ECASD that answers GET DATA for the EID
/// ('5A') and its certificate ('7F21': the EUM-signed eUICC certificate of
/// the card folder, as the consumer eUICC's ECASD presents it).
///
/// Typical use (the transport glue does the same with SCP80 / SCP81):
///   auto card = M2mEuicc::open(dir).value();
///   Bytes r_apdu = card->isd_r().execute(c_apdu);

#include <filesystem>
#include <memory>

#include "rsp/card/card.hpp"
#include "rsp/card/gp_security_domain.hpp"
#include "rsp/euicc_m2m/isd_r.hpp"
#include "rsp/euicc_m2m/state.hpp"

namespace rsp::euicc_m2m {

/// The ECASD (SGP.02 §2.2.1.3) as far as the SM-SR reads it.
class M2mEcasd final : public card::GpSecurityDomain {
 public:
  M2mEcasd(Bytes eid, Bytes certificate);

 protected:
  apdu::Response on_get_data(const card::gp::GetData& command, const card::ApduCommand& apdu) override;

 private:
  Bytes eid_;
  Bytes certificate_;  ///< DER
};

class M2mEuicc {
 public:
  static StoreResult<std::unique_ptr<M2mEuicc>> open(const std::filesystem::path& dir, IsdROptions options = {});

  card::Card& card() { return card_; }
  M2mIsdR& isd_r() { return *isd_r_; }
  /// The ISD-R shared with what also works on its state (es8_card.hpp).
  std::shared_ptr<M2mIsdR> isd_r_shared() { return isd_r_; }

 private:
  M2mEuicc() = default;
  card::Card card_;
  std::shared_ptr<M2mIsdR> isd_r_;
};

}  // namespace rsp::euicc_m2m
