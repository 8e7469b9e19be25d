#include "rsp/smdpp/sample_profile.hpp"

#include "rsp/asn1/iccid_coding.hpp"
#include "rsp/asn1/upp.hpp"
#include "rsp/crypto/random.hpp"

namespace rsp::smdpp {

Bytes make_sample_upp(ByteView iccid, crypto::Random& rng, const SampleProfileOptions& options) {
  namespace saip = asn1::saip;
  std::vector<saip::ProfileElement> pes(3);
  auto& h = pes[0].set_header();
  h.major_version = 2;
  h.minor_version = 3;
  h.profileType = options.profile_type;
  h.iccid = asn1::iccid_in_plain_bcd(iccid);  // SAIP headers carry plain BCD
  h.eUICC_Mandatory_services.usim = asn1::Null{};
  h.eUICC_Mandatory_services.milenage = asn1::Null{};
  if (options.filler) {
    Bytes cp(options.filler);
    for (std::size_t i = 0; i < cp.size(); ++i) cp[i] = static_cast<std::uint8_t>(i * 7);
    h.connectivityParameters = std::move(cp);
  }
  auto& aka = pes[1].set_akaParameter();
  aka.aka_header.identification = 1;
  auto& algo = aka.algoConfiguration.set_algoParameter();
  algo.algorithmID = saip::AlgoParameter::algorithmID_values::milenage;
  algo.algorithmOptions = {0x01};
  algo.key = rng.bytes(16);
  algo.opc = rng.bytes(16);
  pes[2].set_end().end_header.identification = 2;
  Bytes out = asn1::encode_profile_package(pes);
  wipe(algo.key);
  wipe(algo.opc);
  return out;
}

}  // namespace rsp::smdpp
