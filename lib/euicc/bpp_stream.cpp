#include "bpp_stream.hpp"

#include <algorithm>

namespace rsp::euicc::detail {

namespace {

struct Header {
  std::uint32_t tag = 0;
  std::size_t header_size = 0;
  std::size_t length = 0;
  std::size_t total() const { return header_size + length; }
};

enum class Parse { Ok, NeedMore, Malformed };

/// Tag (one or two bytes: every BPP tag fits) and definite length (X.690
/// §8.1.3, up to three length octets: a BPP is far below 16 MB).
Parse parse_header(ByteView b, Header& h) {
  std::size_t i = 0;
  if (b.empty()) return Parse::NeedMore;
  std::uint32_t tag = b[i++];
  if ((tag & 0x1F) == 0x1F) {
    if (i >= b.size()) return Parse::NeedMore;
    if (b[i] & 0x80) return Parse::Malformed;
    tag = (tag << 8) | b[i++];
  }
  if (i >= b.size()) return Parse::NeedMore;
  const std::uint8_t first = b[i++];
  std::size_t length = first;
  if (first & 0x80) {
    const std::size_t n = first & 0x7F;
    if (n == 0 || n > 3) return Parse::Malformed;  // indefinite or absurd length
    if (b.size() - i < n) return Parse::NeedMore;
    length = 0;
    for (std::size_t k = 0; k < n; ++k) length = (length << 8) | b[i++];
  }
  h = {tag, i, length};
  return Parse::Ok;
}

/// The sequence that may follow `previous` (0: none yet).
bool may_follow(std::uint8_t previous, std::uint32_t tag) {
  switch (previous) {
    case 0: return tag == 0xA0;
    case 0xA0: return tag == 0xA1;
    case 0xA1: return tag == 0xA2 || tag == 0xA3;
    case 0xA2: return tag == 0xA3;
    default: return false;
  }
}

std::uint32_t segment_tag_of(std::uint8_t sequence) {
  switch (sequence) {
    case 0xA1: return 0x88;
    case 0xA3: return 0x86;
    default: return 0x87;  // A0 and A2
  }
}

}  // namespace

void BppStream::consume(std::size_t n) { off_ += n; }

expected<std::vector<BppStream::Event>, BppStream::StructureError> BppStream::feed(ByteView chunk) {
  buffer_.insert(buffer_.end(), chunk.begin(), chunk.end());
  std::vector<Event> out;
  for (;;) {
    auto progressed = step(out);
    if (!progressed) {
      buffer_.clear();
      off_ = 0;
      return unexpected(progressed.error());
    }
    if (!*progressed) break;
  }
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(off_));
  off_ = 0;
  return out;
}

expected<bool, BppStream::StructureError> BppStream::step(std::vector<Event>& out) {
  const ByteView rest = ByteView(buffer_).subspan(off_);
  Header h;
  auto need_header = [&]() -> expected<bool, StructureError> {
    switch (parse_header(rest, h)) {
      case Parse::Ok: return true;
      case Parse::NeedMore: return false;
      case Parse::Malformed: break;
    }
    return unexpected(StructureError{"malformed tag or length", pos_ == Pos::InSequence ? sequence_ : std::uint8_t{0}});
  };
  auto whole = [&](std::size_t limit) -> expected<bool, StructureError> {
    if (h.total() > std::max(kMaxElement, max_segment_) || h.total() > limit)
      return unexpected(StructureError{"element too long", pos_ == Pos::InSequence ? sequence_ : std::uint8_t{0}});
    return rest.size() >= h.total();
  };

  switch (pos_) {
    case Pos::Start: {
      auto ok = need_header();
      if (!ok || !*ok) return ok;
      if (h.tag != 0xBF36) return unexpected(StructureError{"not a BoundProfilePackage"});
      outer_left_ = h.length;
      consume(h.header_size);
      pos_ = Pos::Isc;
      return true;
    }
    case Pos::Isc: {
      auto ok = need_header();
      if (!ok || !*ok) return ok;
      if (h.tag != 0xBF23) return unexpected(StructureError{"InitialiseSecureChannel expected"});
      ok = whole(outer_left_);
      if (!ok || !*ok) return ok;
      out.push_back({Kind::InitialiseSecureChannel, 0, Bytes(rest.begin(), rest.begin() + h.total())});
      consume(h.total());
      outer_left_ -= h.total();
      pos_ = Pos::Between;
      return true;
    }
    case Pos::Between: {
      if (outer_left_ == 0) {
        if (sequence_ != 0xA3) return unexpected(StructureError{"package ends before the profile data"});
        out.push_back({Kind::PackageEnd, 0, {}});
        pos_ = Pos::Done;
        return true;
      }
      auto ok = need_header();
      if (!ok || !*ok) return ok;
      if (!may_follow(sequence_, h.tag)) return unexpected(StructureError{"sequence out of order"});
      if (h.total() > outer_left_) return unexpected(StructureError{"sequence longer than the package"});
      consume(h.header_size);
      outer_left_ -= h.header_size;
      sequence_ = static_cast<std::uint8_t>(h.tag);
      sequence_left_ = h.length;
      pos_ = Pos::InSequence;
      return true;
    }
    case Pos::InSequence: {
      if (sequence_left_ == 0) {
        out.push_back({Kind::SequenceEnd, sequence_, {}});
        pos_ = Pos::Between;
        return true;
      }
      auto ok = need_header();
      if (!ok || !*ok) return ok;
      if (h.tag != segment_tag_of(sequence_))
        return unexpected(StructureError{"unexpected segment tag", sequence_});
      if (h.total() > max_segment_)
        return unexpected(StructureError{"segment of " + std::to_string(h.total()) + " bytes exceeds " +
                                             (max_segment_ == kSgp22MaxSegment ? std::string("SGP.22's ")
                                                                               : std::string("this lenient card's ")) +
                                             std::to_string(max_segment_) + "-byte limit",
                                         sequence_});
      ok = whole(sequence_left_);
      if (!ok || !*ok) return ok;
      out.push_back({Kind::Segment, sequence_, Bytes(rest.begin(), rest.begin() + h.total())});
      consume(h.total());
      sequence_left_ -= h.total();
      outer_left_ -= h.total();
      return true;
    }
    case Pos::Done:
      if (!rest.empty()) return unexpected(StructureError{"data after the package"});
      return false;
  }
  return false;
}

}  // namespace rsp::euicc::detail
