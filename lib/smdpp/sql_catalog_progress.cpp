// The SQL catalog's HandleDownloadProgressInfo body (progress_payload),
// written out as JSON text, and the UTC timestamp it carries.

#include "rsp/common/utc_time.hpp"
#include "rsp/smdpp/sql_catalog.hpp"

namespace rsp::smdpp {

std::string utc_timestamp(std::int64_t t) { return utc_time_text(t); }

namespace {

/// The length of the well-formed UTF-8 sequence at `s[i]` (RFC 3629: no
/// overlong forms, no surrogates, at most U+10FFFF), 0 when there is none.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, lo = 0xA0;
  else if (c == 0xED) n = 3, hi = 0x9F;
  else if (c >= 0xE1 && c <= 0xEF) n = 3;
  else if (c == 0xF0) n = 4, lo = 0x90;
  else if (c == 0xF4) n = 4, hi = 0x8F;
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else return 0;
  if (i + n > s.size() || b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

/// Appends `v` as a JSON string, escaped as nlohmann::json's dump() escapes
/// it (quote, backslash, b, f, n, r and t escaped by a backslash, other
/// control characters as six-character escapes with lowercase hex, UTF-8 as
/// it is); a byte that is not well-formed UTF-8 becomes U+FFFD, where dump()
/// would have thrown.
void append_json_string(std::string& out, std::string_view v) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < v.size();) {
    const char c = v[i];
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0x0F];
        } else if (u < 0x80) {
          out += c;
        } else if (const std::size_t n = utf8_sequence(v, i); n > 0) {
          out.append(v.substr(i, n));
          i += n;
          continue;
        } else {
          out += "\\ufffd";
        }
    }
    ++i;
  }
  out += '"';
}

void append_json_member(std::string& out, std::string_view name, std::string_view value) {
  out += '"';
  out += name;  // the names are this file's own, nothing to escape
  out += "\":";
  append_json_string(out, value);
}

}  // namespace

std::string progress_payload(const std::optional<std::string>& eid, const std::string& iccid,
                             const std::string& profile_type, std::int64_t timestamp, int notification_point,
                             const std::optional<SmdppError>& failure, const Bytes* result_data) {
  // Written out directly, in the member order a JSON object would keep: two
  // of these are built per download (BPP issued, installation result), and a
  // document built and then dumped cost several times the text itself.
  std::string out;
  out.reserve(256 + (result_data ? result_data->size() * 4 / 3 + 4 : 0) + (failure ? failure->message.size() : 0));
  out += '{';
  if (eid) {
    append_json_member(out, "eid", *eid);
    out += ',';
  }
  append_json_member(out, "iccid", iccid);
  out += ',';
  append_json_member(out, "profileType", profile_type);
  out += ',';
  append_json_member(out, "timestamp", utc_timestamp(timestamp));
  out += ",\"notificationPointId\":";
  out += std::to_string(notification_point);
  out += ",\"notificationPointStatus\":{";
  if (failure) {
    append_json_member(out, "status", "Failed");
    out += ",\"statusCodeData\":{";
    append_json_member(out, "subjectCode", failure->subject_code);
    out += ',';
    append_json_member(out, "reasonCode", failure->reason_code);
    out += ',';
    append_json_member(out, "message", failure->message);
    out += '}';
  } else {
    append_json_member(out, "status", "Executed-Success");
  }
  out += '}';
  if (result_data) {
    out += ',';
    append_json_member(out, "resultData", base64_encode(*result_data));
  }
  out += '}';
  return out;
}

}  // namespace rsp::smdpp
