#include "rsp/ota/concat.hpp"

#include <algorithm>

#include "rsp/ota/tpdu.hpp"

namespace rsp::ota {

OtaResult<std::vector<Bytes>> segment_packet(ByteView packet, std::uint8_t packet_iei,
                                             std::uint16_t reference, bool wide) {
  if (packet_iei != kIeiCommandPacket && packet_iei != kIeiResponsePacket)
    return ota_fail(OtaErrorCode::InvalidValue, "packet identifier must be '70' or '71'");
  const InformationElement marker{packet_iei, {}};
  std::vector<Bytes> out;
  if (3 + packet.size() <= kMaxUserData) {
    RSP_TRY(Bytes header, encode_header({marker}));
    out.push_back(concat({header, packet}));
    return out;
  }
  // Header sizes: UDHL + concatenation (5 or 6) [+ marker (2) in the first].
  const std::size_t concat_len = wide ? 6 : 5;
  const std::size_t first_room = kMaxUserData - (1 + concat_len + 2);
  const std::size_t other_room = kMaxUserData - (1 + concat_len);
  const std::size_t rest = packet.size() - first_room;
  const std::size_t total = 1 + (rest + other_room - 1) / other_room;
  if (total > 0xFF) return ota_fail(OtaErrorCode::TooLong, "packet needs more than 255 SMS");
  std::size_t pos = 0;
  for (std::size_t seq = 1; seq <= total; ++seq) {
    Concat c{reference, static_cast<std::uint8_t>(total), static_cast<std::uint8_t>(seq), wide};
    std::vector<InformationElement> elements{concat_element(c)};
    if (seq == 1) elements.push_back(marker);
    const std::size_t room = seq == 1 ? first_room : other_room;
    const std::size_t n = std::min(room, packet.size() - pos);
    RSP_TRY(Bytes header, encode_header(elements));
    out.push_back(concat({header, packet.subspan(pos, n)}));
    pos += n;
  }
  return out;
}

Reassembler::Reassembler(ReassemblyOptions options) : options_(std::move(options)) {
  if (options_.max_pending == 0) options_.max_pending = 1;
}

std::chrono::seconds Reassembler::now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch());
}

OtaResult<std::optional<Reassembled>> Reassembler::add(ByteView user_data, std::string_view originator) {
  RSP_TRY(ParsedUserData ud, parse_user_data(user_data, true));
  std::uint8_t iei = 0;
  if (has_element(ud.elements, kIeiCommandPacket)) iei = kIeiCommandPacket;
  if (has_element(ud.elements, kIeiResponsePacket)) iei = kIeiResponsePacket;
  auto c = find_concat(ud.elements);
  if (!c) {
    if (iei == 0) return ota_fail(OtaErrorCode::MissingElement, "no command or response packet element");
    return std::optional<Reassembled>(Reassembled{iei, Bytes(ud.header.begin(), ud.header.end()),
                                                  Bytes(ud.body.begin(), ud.body.end())});
  }
  if (c->sequence != 1 && iei != 0)
    return ota_fail(OtaErrorCode::InconsistentSegment, "packet element outside the first segment");
  if (c->sequence == 1 && iei == 0)
    return ota_fail(OtaErrorCode::MissingElement, "first segment without a packet element");
  const auto t = now();
  if (options_.timeout.count() > 0)
    std::erase_if(sets_, [&](const auto& e) { return t - e.second.first_at >= options_.timeout; });
  Key key{std::string(originator), c->wide, c->reference, c->total};
  auto it = sets_.find(key);
  if (it != sets_.end()) {
    if (it->second.parts[c->sequence - 1])
      return ota_fail(OtaErrorCode::DuplicateSegment, "segment received twice");
  } else {
    if (sets_.size() >= options_.max_pending && !sets_.empty()) {
      auto oldest = std::min_element(sets_.begin(), sets_.end(),
                                     [](const auto& a, const auto& b) { return a.second.age < b.second.age; });
      sets_.erase(oldest);
    }
    Set s;
    s.parts.resize(c->total);
    s.age = ++clock_;
    s.first_at = t;
    it = sets_.emplace(std::move(key), std::move(s)).first;
  }
  Set& set = it->second;
  set.parts[c->sequence - 1] = Bytes(ud.body.begin(), ud.body.end());
  if (c->sequence == 1) {
    set.packet_iei = iei;
    set.first_header.assign(ud.header.begin(), ud.header.end());
  }
  if (std::any_of(set.parts.begin(), set.parts.end(), [](const auto& p) { return !p.has_value(); }))
    return std::optional<Reassembled>();
  Reassembled done{set.packet_iei, std::move(set.first_header), {}};
  for (auto& p : set.parts) done.packet.insert(done.packet.end(), p->begin(), p->end());
  sets_.erase(it);
  return std::optional<Reassembled>(std::move(done));
}

OtaResult<Reassembled> reassemble(std::span<const Bytes> user_data) {
  Reassembler r(1);
  for (std::size_t i = 0; i < user_data.size(); ++i) {
    RSP_TRY(auto done, r.add(user_data[i]));
    if (done) {
      if (i + 1 != user_data.size())
        return ota_fail(OtaErrorCode::InconsistentSegment, "segments after the packet was complete");
      return std::move(*done);
    }
  }
  return ota_fail(OtaErrorCode::MissingSegment, "concatenated packet incomplete");
}

}  // namespace rsp::ota
