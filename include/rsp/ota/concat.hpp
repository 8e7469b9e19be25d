#pragma once
/// Secured packets longer than one SMS (3GPP TS 31.115 §4.2 / §4.3, with
/// TS 23.040 §9.2.3.24.1 concatenation): the packet, checksummed as a whole by
/// SCP80, is cut into TP-UD segments; the first carries the concatenation
/// element and the packet identifier ('70' command, '71' response), the
/// others the concatenation element only. Reassembly accepts segments in any
/// order and reports duplicates, contradictions and gaps as typed errors.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
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

/// How long and how many incomplete concatenated messages are kept.
struct ReassemblyOptions {
  std::size_t max_pending = 16;  ///< incomplete messages kept at most; the oldest goes first
  /// An incomplete message is dropped this long after its first segment
  /// arrived (its other segments lost at the SMSC or on the way); 0: never.
  std::chrono::seconds timeout{120};
  /// The time, on any steady scale; unset: std::chrono::steady_clock.
  std::function<std::chrono::seconds()> now;
};

/// Collects segments of concatenated packets, any number interleaved. A
/// message is told apart by its originating address, its reference and its
/// number of segments (3GPP TS 23.040 §9.2.3.24.1: the reference is the
/// sender's, constant for every segment of one message): segments of two
/// originators, or with another total, are never joined.
class Reassembler {
 public:
  /// At most `max_pending` incomplete messages are kept; the oldest goes first.
  explicit Reassembler(std::size_t max_pending = 16) : Reassembler(ReassemblyOptions{max_pending, {}, {}}) {}
  explicit Reassembler(ReassemblyOptions options);

  /// Adds one TP-UD (with its header) from `originator` (the TP-OA, in any
  /// form that names one sender alone). Returns the packet once its last
  /// segment has arrived, nullopt while segments are missing. Incomplete
  /// messages past the timeout are dropped first. Errors leave the collected
  /// state as it was: DuplicateSegment, InconsistentSegment (a packet
  /// identifier outside segment 1), MissingElement (no packet identifier in
  /// segment 1 or a single SMS).
  OtaResult<std::optional<Reassembled>> add(ByteView user_data, std::string_view originator = {});

  std::size_t pending() const { return sets_.size(); }

 private:
  struct Set {
    std::vector<std::optional<Bytes>> parts;  ///< body per sequence number
    std::uint8_t packet_iei = 0;
    Bytes first_header;
    std::uint64_t age = 0;
    std::chrono::seconds first_at{0};  ///< when its first segment arrived
  };
  /// Originator, 16-bit reference, reference, total.
  using Key = std::tuple<std::string, bool, std::uint16_t, std::uint8_t>;
  std::chrono::seconds now() const;
  std::map<Key, Set, std::less<>> sets_;
  ReassemblyOptions options_;
  std::uint64_t clock_ = 0;
};

/// Reassembles one packet from all of its segments; MissingSegment when any
/// is absent, the errors of Reassembler::add otherwise.
OtaResult<Reassembled> reassemble(std::span<const Bytes> user_data);

}  // namespace rsp::ota
