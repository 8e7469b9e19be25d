#include "rsp/asn1/sgp22_signed.hpp"

#include "rsp/asn1/runtime.hpp"
#include "rsp/tlv/tlv.hpp"

namespace rsp::asn1 {

namespace {
constexpr tlv::Tag kSignatureTag{tlv::TagClass::Application, false, 55};  // '5F37'
constexpr tlv::Tag kOtpkTag{tlv::TagClass::Application, false, 73};       // '5F49'
}  // namespace

Bytes signature_tlv(ByteView signature) { return tlv::encode(kSignatureTag, signature); }
Bytes otpk_tlv(ByteView point) { return tlv::encode(kOtpkTag, point); }

Bytes smdp_signature2_data(const sgp22::SmdpSigned2& signed2, ByteView euicc_signature1) {
  Bytes out = encode(signed2);
  Bytes sig = signature_tlv(euicc_signature1);
  out.insert(out.end(), sig.begin(), sig.end());
  return out;
}

Bytes euicc_signature2_data(const sgp22::EUICCSigned2& signed2, ByteView smdp_signature2) {
  Bytes out = encode(signed2);
  Bytes sig = signature_tlv(smdp_signature2);
  out.insert(out.end(), sig.begin(), sig.end());
  return out;
}

Bytes smdp_sign_data(const sgp22::InitialiseSecureChannelRequest& request, ByteView euicc_otpk) {
  // Every element of the request except smdpSign, in encoding order, taken
  // from the one DER encoder rather than re-encoded by hand.
  sgp22::InitialiseSecureChannelRequest copy = request;
  copy.smdpSign.clear();
  const Bytes der = encode(copy);
  Bytes out;
  auto outer = tlv::parse_one(der);
  if (outer) {
    tlv::Reader r(outer->value);
    while (!r.empty()) {
      auto e = r.next();
      if (!e || e->tag == kSignatureTag) break;
      out.insert(out.end(), e->encoded.begin(), e->encoded.end());
    }
  }
  Bytes pk = otpk_tlv(euicc_otpk);
  out.insert(out.end(), pk.begin(), pk.end());
  return out;
}

Bytes segment_contents(ByteView tlv_segment) {
  auto e = tlv::parse_one(tlv_segment);
  if (!e) return {};
  return Bytes(e->value.begin(), e->value.end());
}

Bytes segment_tlv(std::uint8_t tag, ByteView contents) {
  Bytes out{tag};
  tlv::encode_length(contents.size(), out);
  out.insert(out.end(), contents.begin(), contents.end());
  return out;
}

}  // namespace rsp::asn1
