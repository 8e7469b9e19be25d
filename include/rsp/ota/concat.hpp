#pragma once
/// Secured packets longer than one SMS (3GPP TS 31.115 §4.2 / §4.3, with
/// TS 23.040 §9.2.3.24.1 concatenation): the packet, checksummed as a whole by
/// SCP80, is cut into TP-UD segments; the first carries the concatenation
/// element and the packet identifier ('70' command, '71' response), the
/// others the concatenation element only. Reassembly accepts segments in any
/// order and reports duplicates, contradictions and gaps as typed errors.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/ota/error.hpp"
#include "rsp/ota/udh.hpp"

namespace rsp::ota {

/// Cuts `packet` into the TP-UD of as many SMS as needed (each at most 140
/// octets, header included). One SMS: UDH 02 70 00 (or 71) and the packet,
/// without concatenation. `packet_iei` is kIeiCommandPacket or
/// kIeiResponsePacket. TooLong past 255 segments.
OtaResult<std::vector<Bytes>> segment_packet(ByteView packet, std::uint8_t packet_iei,
                                             std::uint16_t reference, bool wide_reference = false);

/// A reassembled packet and the header of its first segment (a PoR checksum covers it).
struct Reassembled {
  std::uint8_t packet_iei = 0;
  Bytes first_header;  ///< UDHL..last element of the first (or only) segment
  Bytes packet;
};

/// Collects segments of concatenated packets, any number interleaved.
class Reassembler {
 public:
  /// At most `max_pending` incomplete messages are kept; the oldest goes first.
  explicit Reassembler(std::size_t max_pending = 16) : max_pending_(max_pending) {}

  /// Adds one TP-UD (with its header). Returns the packet once its last
  /// segment has arrived, nullopt while segments are missing. Errors leave the
  /// collected state as it was: DuplicateSegment, InconsistentSegment (another
  /// total for the same reference, a packet identifier outside segment 1),
  /// MissingElement (no packet identifier in segment 1 or a single SMS).
  OtaResult<std::optional<Reassembled>> add(ByteView user_data);

  std::size_t pending() const { return sets_.size(); }

 private:
  struct Set {
    std::uint8_t total = 0;
    std::vector<std::optional<Bytes>> parts;  ///< body per sequence number
    std::uint8_t packet_iei = 0;
    Bytes first_header;
    std::uint64_t age = 0;
  };
  std::map<std::pair<bool, std::uint16_t>, Set> sets_;
  std::size_t max_pending_;
  std::uint64_t clock_ = 0;
};

/// Reassembles one packet from all of its segments; MissingSegment when any
/// is absent, the errors of Reassembler::add otherwise.
OtaResult<Reassembled> reassemble(std::span<const Bytes> user_data);

}  // namespace rsp::ota
