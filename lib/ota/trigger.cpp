#include "rsp/ota/trigger.hpp"

#include "tlv_items.hpp"

namespace rsp::ota {

namespace {

constexpr std::uint8_t kTrigger = 0x81, kSession = 0x83, kConnection = 0x84, kSecurity = 0x85, kRetry = 0x86,
                       kHttpPost = 0x89, kHost = 0x8A, kAgent = 0x8B, kUri = 0x8C;
constexpr std::uint8_t kTimerTag = 0x25;  // TS 102 223 §8.38 timer value (CR bit clear)

using detail::tag_of;
constexpr const char* kWhat = "trigger TLV";

/// Context tags are written primitive; '83' and '89' hold TLVs but keep these codes.
Bytes tlv_of(std::uint8_t tag, ByteView value) { return tlv::encode(tag_of(tag), value); }

std::uint8_t bcd_swapped(unsigned v) { return static_cast<std::uint8_t>(((v % 10) << 4) | (v / 10)); }
int from_bcd_swapped(std::uint8_t b) {
  const unsigned lo = b & 0x0F, hi = b >> 4;
  return lo > 9 || hi > 9 ? -1 : static_cast<int>(lo * 10 + hi);
}

template <class F>
OtaResult<void> each(ByteView contents, F&& f) {
  return detail::for_each_item(contents, kWhat, std::forward<F>(f));
}

OtaResult<TriggerSecurity> decode_security(ByteView v) {
  if (v.empty() || v.size() < 1u + v[0] + 3u) return ota_fail(OtaErrorCode::Truncated, "security parameters");
  TriggerSecurity s;
  s.psk_identity = rsp::to_string(v.subspan(1, v[0]));
  ByteView rest = v.subspan(1 + v[0]);
  if (rest[0] != 2 || rest.size() != 3) return ota_fail(OtaErrorCode::InvalidValue, "key version / identifier");
  s.key_version = rest[1];
  s.key_identifier = rest[2];
  return s;
}

OtaResult<TriggerRetry> decode_retry(ByteView v) {
  if (v.size() < 7) return ota_fail(OtaErrorCode::Truncated, "retry policy");
  if ((v[2] & 0x7F) != kTimerTag || v[3] != 3)
    return ota_fail(OtaErrorCode::InvalidValue, "retry waiting delay timer TLV");
  const int h = from_bcd_swapped(v[4]), m = from_bcd_swapped(v[5]), s = from_bcd_swapped(v[6]);
  if (h < 0 || m < 0 || s < 0 || m > 59 || s > 59)
    return ota_fail(OtaErrorCode::InvalidValue, "retry waiting delay digits");
  TriggerRetry r;
  r.retry_counter = static_cast<std::uint16_t>((v[0] << 8) | v[1]);
  r.waiting_delay_seconds = static_cast<std::uint32_t>(h * 3600 + m * 60 + s);
  r.report_failure.assign(v.begin() + 7, v.end());
  return r;
}

}  // namespace

OtaResult<Bytes> encode(const AdminSessionTrigger& t) {
  Bytes session;
  if (!t.connection_parameters.empty()) session = concat({session, tlv_of(kConnection, t.connection_parameters)});
  if (t.security) {
    if (t.security->psk_identity.size() > 0xFF) return ota_fail(OtaErrorCode::TooLong, "PSK identity");
    Bytes v{static_cast<std::uint8_t>(t.security->psk_identity.size())};
    v.insert(v.end(), t.security->psk_identity.begin(), t.security->psk_identity.end());
    v.insert(v.end(), {0x02, t.security->key_version, t.security->key_identifier});
    session = concat({session, tlv_of(kSecurity, v)});
  }
  if (t.retry) {
    const std::uint32_t d = t.retry->waiting_delay_seconds;
    if (d >= 100u * 3600u) return ota_fail(OtaErrorCode::InvalidValue, "retry waiting delay of 100 hours or more");
    Bytes v{static_cast<std::uint8_t>(t.retry->retry_counter >> 8), static_cast<std::uint8_t>(t.retry->retry_counter),
            kTimerTag, 0x03, bcd_swapped(d / 3600), bcd_swapped(d / 60 % 60), bcd_swapped(d % 60)};
    v.insert(v.end(), t.retry->report_failure.begin(), t.retry->report_failure.end());
    session = concat({session, tlv_of(kRetry, v)});
  }
  Bytes post;
  if (t.host) post = concat({post, tlv_of(kHost, as_bytes(*t.host))});
  if (t.agent_id) post = concat({post, tlv_of(kAgent, as_bytes(*t.agent_id))});
  if (t.uri) post = concat({post, tlv_of(kUri, as_bytes(*t.uri))});
  if (!post.empty()) session = concat({session, tlv_of(kHttpPost, post)});
  return tlv_of(kTrigger, tlv_of(kSession, session));
}

OtaResult<AdminSessionTrigger> decode_admin_session_trigger(ByteView in) {
  auto outer = tlv::parse_one(in, tlv::Mode::Ber);
  if (!outer) return detail::tlv_fail(outer.error(), kWhat);
  if (outer->tag.raw() != kTrigger || outer->indefinite)
    return ota_fail(OtaErrorCode::InvalidValue, "not administration session triggering parameters ('81')");
  AdminSessionTrigger t;
  bool have_session = false;
  auto walked = each(outer->value, [&](std::uint8_t tag, ByteView value) -> OtaResult<void> {
    if (tag != kSession) return {};  // e.g. 'B3' DNS resolution parameters
    if (have_session) return ota_fail(OtaErrorCode::UnexpectedElement, "session parameters repeated");
    have_session = true;
    bool seen[0x100] = {};
    return each(value, [&](std::uint8_t inner, ByteView v) -> OtaResult<void> {
      if (seen[inner]) return ota_fail(OtaErrorCode::UnexpectedElement, "session parameter repeated");
      seen[inner] = true;
      switch (inner) {
        case kConnection:
          if (v.empty()) return ota_fail(OtaErrorCode::InvalidValue, "empty connection parameters");
          t.connection_parameters.assign(v.begin(), v.end());
          return {};
        case kSecurity: {
          RSP_TRY(t.security, decode_security(v));
          return {};
        }
        case kRetry: {
          RSP_TRY(t.retry, decode_retry(v));
          return {};
        }
        case kHttpPost: {
          bool seen_post[3] = {};
          return each(v, [&](std::uint8_t p, ByteView pv) -> OtaResult<void> {
            if (p < kHost || p > kUri) return {};
            if (seen_post[p - kHost])
              return ota_fail(OtaErrorCode::UnexpectedElement, "HTTP POST parameter repeated");
            seen_post[p - kHost] = true;
            (p == kHost ? t.host : p == kAgent ? t.agent_id : t.uri) = rsp::to_string(pv);
            return {};
          });
        }
        default:
          return {};  // 'A5' extended security parameters and others
      }
    });
  });
  if (!walked) return unexpected(std::move(walked).error());
  if (!have_session) return ota_fail(OtaErrorCode::MissingElement, "administration session parameters ('83')");
  return t;
}

}  // namespace rsp::ota
