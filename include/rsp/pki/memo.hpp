#pragma once
/// Process-wide memos of pure functions of certificate bytes: parsing a DER
/// certificate, making its public key and checking a certificate's signature
/// with its issuer's key. A hit gives exactly the answer the work would give
/// again, so callers keep every other check (profile, validity time, name
/// chaining) per use.
/// The same certificates recur: an eUICC sees the SM-DP+'s DPauth and DPpb
/// on every download, an SM-DP+ sees one EUM for a whole fleet.

#include "rsp/pki/certificate.hpp"

namespace rsp::pki {

/// Certificate::from_der, remembered by the exact DER bytes (successes only;
/// bounded, oldest forgotten first).
PkiResult<Certificate> parse_certificate_memo(ByteView der);

/// Whether `child`'s signature verifies with `issuer`'s public key; a
/// success is remembered by the SHA-256 of both certificates' DER bytes.
bool signature_verifies_memo(const Certificate& child, const Certificate& issuer);

/// Certificate::public_key, remembered by the SHA-256 of the certificate's
/// DER bytes (successes only; bounded, oldest forgotten first). Making a key
/// validates its point, many times the cost of the hash, and the EUM and CI
/// keys recur in every chain an SM-DP+ checks.
crypto::CryptoResult<crypto::EcKey> public_key_memo(const Certificate& cert);

/// Forgets everything (tests).
void clear_certificate_memos();

/// How many entries each memo holds, and how many it may hold (tests).
struct CertificateMemoSizes {
  std::size_t parsed = 0, parsed_capacity = 0;
  std::size_t verified = 0, verified_capacity = 0;
  std::size_t keys = 0, keys_capacity = 0;
};
CertificateMemoSizes certificate_memo_sizes();

/// Forgets everything and bounds each memo to `entries` (tests: a bound
/// reached with a few certificates); 0 restores the bounds of a server.
void set_certificate_memo_capacity(std::size_t entries);

}  // namespace rsp::pki
