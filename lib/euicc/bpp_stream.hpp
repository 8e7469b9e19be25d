#pragma once
// The Bound Profile Package as the eUICC receives it: a byte stream cut into
// ES10b.LoadBoundProfilePackage commands (SGP.22 §2.5.5, §5.7.6). The LPA sends
// the BF36 tag and length with the InitialiseSecureChannel TLV, then each
// sequence's tag and length with or without its first segment, then the
// segments one by one. This splitter accepts any cut that keeps a TLV within
// one command or spreads it over several, and yields each complete element in
// order, checking the structure of SGP.22's BoundProfilePackage:
//   BF36 { BF23, A0 {87..}, A1 {88..}, [A2 {87..}], A3 {86..} }

#include <cstdint>
#include <string>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::euicc::detail {

class BppStream {
 public:
  enum class Kind {
    InitialiseSecureChannel,  ///< the whole BF23 TLV
    Segment,                  ///< one '86' / '87' / '88' TLV of `sequence`
    SequenceEnd,              ///< `sequence` is complete
    PackageEnd,               ///< the BF36 value is complete
  };
  struct Event {
    Kind kind;
    std::uint8_t sequence = 0;  ///< 0xA0..0xA3 for Segment and SequenceEnd
    Bytes tlv;
  };
  /// A structure error (SGP.22 ErrorReason scp03tStructureError).
  struct StructureError {
    StructureError(std::string w, std::uint8_t seq = 0) : what(std::move(w)), sequence(seq) {}
    std::string what;           ///< in words, for the card's diagnostics (no secret)
    std::uint8_t sequence = 0;  ///< 0xA0..0xA3 when inside a sequence, else 0
  };

  /// Largest element the stream buffers: a segment is at most 1020 bytes,
  /// tag, length and MAC included (SGP.22 v2.2.2 §2.5.3; crypto::kBspMaxSegment);
  /// the InitialiseSecureChannel request is far smaller.
  static constexpr std::size_t kMaxElement = 1024;
  /// SGP.22's segment limit: an '86', '87' or '88' TLV above it is refused.
  static constexpr std::size_t kSgp22MaxSegment = 1020;

  /// `max_segment`: the largest segment taken (SGP.22's 1020 bytes, or a
  /// lenient card's kLenientMaxSegment).
  explicit BppStream(std::size_t max_segment = kSgp22MaxSegment) : max_segment_(max_segment) {}

  /// Takes the next command's bytes (the first must start with BF36) and
  /// returns the elements it completes.
  expected<std::vector<Event>, StructureError> feed(ByteView chunk);

  bool finished() const { return pos_ == Pos::Done; }
  /// Bytes of an element begun but not complete yet.
  bool has_partial() const { return !buffer_.empty(); }

 private:
  enum class Pos { Start, Isc, Between, InSequence, Done };
  /// Extracts one element from buffer_ at off_; false when more bytes are needed.
  expected<bool, StructureError> step(std::vector<Event>& out);
  void consume(std::size_t n);

  Pos pos_ = Pos::Start;
  Bytes buffer_;
  std::size_t off_ = 0;
  std::size_t outer_left_ = 0;
  std::uint8_t sequence_ = 0;  ///< the open sequence, or the last closed one
  std::size_t sequence_left_ = 0;
  std::size_t max_segment_ = kSgp22MaxSegment;
};

}  // namespace rsp::euicc::detail
