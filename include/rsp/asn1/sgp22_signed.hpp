#pragma once
/// The exact byte strings the SGP.22 download signatures cover, shared by the
/// SM-DP+ and eUICC sides so both compute them one way:
///  - serverSignature1 over serverSigned1 (SGP.22 §5.6.1, tag 30);
///  - euiccSignature1 over euiccSigned1 (§5.7.13);
///  - smdpSignature2 over smdpSigned2 || euiccSignature1 with tag '5F37' (§5.6.2);
///  - euiccSignature2 over euiccSigned2 || smdpSignature2 with tag '5F37' (§5.7.14);
///  - smdpSign over remoteOpId || transactionId || controlRefTemplate ||
///    smdpOtpk || euiccOtpk, each with its tag and length (§5.5.1, §2.6.4.2);
///  - euiccSignPIR over profileInstallationResultData (§5.7.15 / §4.1);
///  - euiccNotificationSignature over tbsOtherNotification;
///  - euiccCancelSessionSignature over euiccCancelSessionSigned.

#include "rsp/asn1/sgp22.hpp"
#include "rsp/common/bytes.hpp"

namespace rsp::asn1 {

/// '5F37' L signature.
Bytes signature_tlv(ByteView signature);
/// '5F49' L point (euiccOtpk / smdpOtpk).
Bytes otpk_tlv(ByteView point);

Bytes smdp_signature2_data(const sgp22::SmdpSigned2& signed2, ByteView euicc_signature1);
Bytes euicc_signature2_data(const sgp22::EUICCSigned2& signed2, ByteView smdp_signature2);
Bytes smdp_sign_data(const sgp22::InitialiseSecureChannelRequest& request, ByteView euicc_otpk);

/// The contents of a protected BPP segment as the generated BoundProfilePackage
/// holds it, and back: the BSP functions work on whole TLVs (tag || L || data).
Bytes segment_contents(ByteView tlv_segment);
Bytes segment_tlv(std::uint8_t tag, ByteView contents);

}  // namespace rsp::asn1
