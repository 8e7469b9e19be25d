// The SM-DP's ES8: key establishment with a new ISD-P (ECKA scenario #3)
// and the SCP03t-protected profile download. The steps: smdp/es8.hpp.

#include "rsp/smdp/es8.hpp"

#include "rsp/crypto/bsp.hpp"
#include "rsp/crypto/ecdsa.hpp"
#include "rsp/crypto/ecka.hpp"
#include "rsp/m2m/es8_connectivity.hpp"
#include "rsp/ota/ram.hpp"
#include "rsp/pki/validator.hpp"

namespace rsp::smdp {

namespace es8 = m2m::es8;

namespace {

unexpected<Es8Failure> fail(Es8Failure::Code code, std::string message) {
  return unexpected(Es8Failure{code, std::move(message)});
}

void append(std::vector<apdu::Command>& out, std::vector<apdu::Command> more) {
  for (auto& c : more) out.push_back(std::move(c));
}

}  // namespace

expected<KeyEstablishment, Es8Failure> KeyEstablishment::start(const DpIdentity& dp, ByteView ecasd_certificate,
                                                               const EcasdTrust& trust, const std::string& eid,
                                                               std::uint8_t key_version, es8::CardIdentifiers ids) {
  /// SGP.02 §3.1.2: the SM-DP verifies the ECASD certificate with the EUM
  /// certificate, and that with the CI's.
  auto chain = pki::validate_chain_der(ecasd_certificate, trust.eums, trust.cis, pki::Role::Euicc);
  if (!chain) return fail(Es8Failure::Code::EcasdCertificate, "ECASD certificate: " + chain.error().message);
  if (chain->eid != eid) return fail(Es8Failure::Code::EcasdCertificate, "ECASD certificate of another EID");
  if (!es8::valid_identifier(ids.sin) || !es8::valid_identifier(ids.sdin))
    return fail(Es8Failure::Code::Malformed, "the EIS's SIN or SDIN is too long");
  auto commands = es8::certificate_blocks(es8::encode_certificate_message(dp.certificate));
  return KeyEstablishment(dp.key, std::move(chain->public_key), std::move(commands), key_version, std::move(ids));
}

expected<void, Es8Failure> KeyEstablishment::agree(ByteView response_data) {
  if (agreement_) return fail(Es8Failure::Code::Crypto, "the key agreement was made already");
  auto rc = es8::decode_certificate_answer(response_data);
  if (!rc) return fail(Es8Failure::Code::Malformed, "the card's answer to the certificate is not a random challenge");
  auto agreement = es8::HostAgreement::start(signing_key_, ecasd_, key_version_, es8::kKeyUsageScp03, *rc, ids_);
  if (!agreement) return fail(Es8Failure::Code::Crypto, "ephemeral key or signature failed");
  key_agreement_commands_ =
      es8::key_agreement_blocks(agreement->message(), static_cast<std::uint8_t>(commands_.size()));
  agreement_ = std::move(*agreement);
  return {};
}

expected<es8::DerivedKeys, Es8Failure> KeyEstablishment::finish(ByteView response_data) {
  if (!agreement_) return fail(Es8Failure::Code::Crypto, "no key agreement was made");
  auto keys = agreement_->finish(response_data);
  if (keys) return std::move(*keys);
  switch (keys.error()) {
    case es8::Es8Error::Malformed: return fail(Es8Failure::Code::Malformed, "the card's answer is not DR and receipt");
    case es8::Es8Error::Receipt: return fail(Es8Failure::Code::ReceiptMismatch, "the card's receipt does not verify");
    default: return fail(Es8Failure::Code::Crypto, "key derivation failed, or the key establishment has ended");
  }
}

expected<std::vector<apdu::Command>, Es8Failure> protect_profile(const es8::DerivedKeys& keys, ByteView upp) {
  if (upp.empty() || upp.size() > UINT32_MAX) return fail(Es8Failure::Code::Malformed, "empty or oversized package");
  crypto::BspSession session(es8::scp03t_keys(keys));
  auto segments = session.encrypt_and_mac_segments(es8::kTagProfileSegment, upp);
  if (!segments) return fail(Es8Failure::Code::Crypto, "SCP03t: " + segments.error().message);
  const auto n = static_cast<std::uint32_t>(upp.size());
  const Bytes length{static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                     static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  auto end = session.mac_only(es8::kTagProfileEnd, length);
  if (!end) return fail(Es8Failure::Code::Crypto, "SCP03t: " + end.error().message);
  std::vector<apdu::Command> out;
  for (const auto& s : *segments) append(out, es8::store_data_blocks(s));
  append(out, es8::store_data_blocks(*end));
  return out;
}

expected<Bytes, Es8Failure> secure_connectivity(const es8::DerivedKeys& keys, ByteView isdp_aid, std::uint32_t counter,
                                                ByteView parameters, std::uint8_t key_version, crypto::Random& random) {
  if (!es8::check_connectivity_parameters(parameters))
    return fail(Es8Failure::Code::Malformed, "the connectivity parameters are not well formed");
  Bytes host_challenge = random.bytes(8);
  auto c_apdus = es8::secure_connectivity_parameters(keys, key_version, isdp_aid, counter, host_challenge, parameters);
  if (!c_apdus) return fail(Es8Failure::Code::Crypto, "SCP03 script of the connectivity parameters failed");
  auto script = ota::encode(ota::command_script(*c_apdus));
  if (!script) return fail(Es8Failure::Code::Malformed, "command script: " + script.error().to_string());
  return std::move(*script);
}

}  // namespace rsp::smdp
