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

}  // namespace rsp::pki
