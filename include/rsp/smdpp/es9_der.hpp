#pragma once
/// ES9+ over its ASN.1 binding (SGP.22 §6.6: RemoteProfileProvisioningRequest /
/// RemoteProfileProvisioningResponse), the entry point for untrusted request
/// bytes: bounded strict-DER decoding, then the Server functions, then the
/// response with the function's error enumeration when it failed.

#include "rsp/asn1/sgp22.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/smdpp/server.hpp"

namespace rsp::smdpp {

/// Largest request accepted (a PendingNotification with two certificates is ~2 KiB).
inline constexpr std::size_t kMaxEs9RequestSize = 64 * 1024;

/// Decodes one request (InvalidRequest 1.2 / 2.1 on any decoding problem).
SmdppResult<asn1::sgp22::RemoteProfileProvisioningRequest> decode_es9_request(ByteView der);

struct Es9DerResult {
  /// DER RemoteProfileProvisioningResponse; empty for handleNotification
  /// (it has no response body).
  Bytes response;
  /// The subject/reason of a failed function, for the transport's status.
  std::optional<SmdppError> error;
};

/// Runs one request against `server`. Decoding errors are returned as errors;
/// function failures as a response with the function's error value.
SmdppResult<Es9DerResult> handle_es9_der(Server& server, ByteView der);

}  // namespace rsp::smdpp
