// The SAIP profile-package checks shared by the consumer and M2M eUICCs.

#include "rsp/euicc/profile_package.hpp"

#include "rsp/asn1/iccid_coding.hpp"
#include "rsp/asn1/sgp22_signed.hpp"
#include "rsp/asn1/upp.hpp"

namespace rsp::euicc {

using Reason = asn1::sgp22::ErrorReason_values;

namespace {

asn1::DecodeOptions package_options() {
  asn1::DecodeOptions o;
  o.max_memory = std::size_t{16} << 20;
  return o;
}

}  // namespace

expected<std::uint32_t, std::int64_t> check_profile_package(ByteView upp, ByteView iccid) {
  std::optional<std::int64_t> failure;
  bool last_is_end = false;
  std::size_t seen = 0;
  const Bytes wanted = asn1::iccid_in_ef_coding(iccid);
  // One element at a time: the package is checked without holding its tree.
  auto pes = asn1::for_each_profile_element(upp, package_options(), [&](const asn1::saip::ProfileElement& pe) {
    if (seen++ == 0) {
      const auto* header = pe.header();
      if (!header) failure = Reason::installFailedDueToPEProcessingError;
      // The header has plain BCD, the caller the EF.ICCID coding (iccid_coding.hpp).
      else if (asn1::iccid_in_ef_coding(header->iccid) != wanted)
        failure = Reason::installFailedDueToIccidMismatch;
    } else if (std::holds_alternative<asn1::RawElement>(pe.alternative)) {
      failure = Reason::installFailedDueToPEProcessingError;  // pe-not-supported
    }
    last_is_end = pe.end() != nullptr;
    return !failure;
  });
  if (failure) return unexpected(*failure);
  if (!pes || *pes < 2 || !last_is_end) return unexpected(Reason::installFailedDueToPEProcessingError);
  return static_cast<std::uint32_t>(*pes);
}

std::optional<Bytes> profile_package_iccid(ByteView upp) {
  std::optional<Bytes> iccid;
  (void)asn1::for_each_profile_element(upp, package_options(), [&](const asn1::saip::ProfileElement& pe) {
    if (const auto* header = pe.header()) iccid = asn1::iccid_in_ef_coding(header->iccid);
    return false;  // only the first element
  });
  return iccid;
}

}  // namespace rsp::euicc
