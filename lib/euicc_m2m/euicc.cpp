// The M2M eUICC: card, ISD-R and ECASD from one card folder.

#include "rsp/euicc_m2m/euicc.hpp"

#include "rsp/apdu/status_words.hpp"
#include "rsp/card/aid.hpp"
#include "rsp/tlv/tlv.hpp"
#include "unreachable_keys.hpp"

namespace rsp::euicc_m2m {

M2mEcasd::M2mEcasd(Bytes eid, Bytes certificate)
    : card::GpSecurityDomain(Bytes(std::begin(card::kEcasdAid), std::end(card::kEcasdAid)),
                             detail::unreachable_scp03_keys()),
      eid_(std::move(eid)),
      certificate_(std::move(certificate)) {}

apdu::Response M2mEcasd::on_get_data(const card::gp::GetData& g, const card::ApduCommand&) {
  if (g.odd_ins || !g.data.empty()) return apdu::Response{{}, apdu::sw::kWrongData};
  if (g.tag == m2m::data_tag::kEid) return apdu::Response{m2m::encode_eid(eid_), apdu::sw::kOk};
  if (g.tag == m2m::data_tag::kCertificate) {
    return apdu::Response{tlv::encode(*tlv::Tag::from_raw(0x7F21), certificate_), apdu::sw::kOk};
  }
  return apdu::Response{{}, apdu::sw::kReferencedDataNotFound};
}

StoreResult<std::unique_ptr<M2mEuicc>> M2mEuicc::open(const std::filesystem::path& dir, IsdROptions options) {
  RSP_TRY(auto store, M2mStore::open(dir));
  RSP_TRY(auto identity, store.euicc().identity());
  RSP_TRY(auto isd_r, M2mIsdR::open(store, std::move(options)));
  std::unique_ptr<M2mEuicc> e(new M2mEuicc());
  e->isd_r_ = std::move(isd_r);
  e->card_.add_application(e->isd_r_);
  e->card_.add_application(std::make_shared<M2mEcasd>(e->isd_r_->eid(), identity.curves.front().euicc_cert));
  return e;
}

}  // namespace rsp::euicc_m2m
