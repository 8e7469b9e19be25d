#pragma once
/// The HTTPS administration-session trigger (GlobalPlatform Card Spec v2.2
/// Amendment B, "administration session triggering parameters", Table 3-3):
/// the SM-SR puts this TLV as the secured data of an SCP80 command packet to
/// the TAR of the security domain holding the PSK-TLS keys (the ISD-R in
/// SGP.02), which then opens the PSK-TLS session and POSTs to the server.
///
///   '81' triggering parameters
///     '83' administration session parameters
///       '84' connection parameters: COMPREHENSION-TLVs of OPEN CHANNEL
///            (ETSI TS 102 223 §6.6.27), kept as bytes
///       '85' security parameters: PSK identity (length, value), then '02'
///            with key version number and key identifier
///       '86' retry policy: retry counter (2 octets), retry waiting delay as
///            a TS 102 223 §8.38 timer value TLV ('25 03' HH MM SS, BCD
///            swapped), optional failure-report data
///       '89' HTTP POST parameters: '8A' Host, '8B' agent ID (X-Admin-From),
///            '8C' request URI
///
/// Tags and the structure of '85' / '86' follow the public pySim encoder of
/// Table 3-3; the spec text itself was not at hand. Other elements (e.g. 'A5'
/// extended security parameters, 'B3' DNS resolution) are skipped on decode.

#include <cstdint>
#include <optional>
#include <string>

#include "rsp/common/bytes.hpp"
#include "rsp/ota/error.hpp"

namespace rsp::ota {

struct TriggerSecurity {
  std::string psk_identity;
  std::uint8_t key_version = 0;
  std::uint8_t key_identifier = 0;
  bool operator==(const TriggerSecurity&) const = default;
};

struct TriggerRetry {
  std::uint16_t retry_counter = 0;
  std::uint32_t waiting_delay_seconds = 0;  ///< below 100 hours
  Bytes report_failure;                     ///< optional trailing data, as sent
  bool operator==(const TriggerRetry&) const = default;
};

struct AdminSessionTrigger {
  Bytes connection_parameters;  ///< '84' contents; empty: absent (the card's stored ones apply)
  std::optional<TriggerSecurity> security;
  std::optional<TriggerRetry> retry;
  std::optional<std::string> host;      ///< '8A'
  std::optional<std::string> agent_id;  ///< '8B'
  std::optional<std::string> uri;       ///< '8C'
  bool operator==(const AdminSessionTrigger&) const = default;
};

OtaResult<Bytes> encode(const AdminSessionTrigger& trigger);
/// Parses a '81' TLV filling `in`.
OtaResult<AdminSessionTrigger> decode_admin_session_trigger(ByteView in);

}  // namespace rsp::ota
