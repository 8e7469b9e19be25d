#include "rsp/ota/admin_http.hpp"

#include <array>

#include "rsp/common/ascii.hpp"

namespace rsp::ota {

namespace {

constexpr std::string_view kProtocol = "X-Admin-Protocol", kFrom = "X-Admin-From",
                           kScriptStatus = "X-Admin-Script-Status", kResume = "X-Admin-Resume",
                           kNextUri = "X-Admin-Next-URI", kTargeted = "X-Admin-Targeted-Application",
                           kContentType = "Content-Type";

constexpr std::array<std::pair<ScriptStatus, std::string_view>, 7> kStatusNames{{
    {ScriptStatus::Ok, "ok"},
    {ScriptStatus::UnknownApplication, "unknown-application"},
    {ScriptStatus::NotASecurityDomain, "not-a-security-domain"},
    {ScriptStatus::SecurityError, "security-error"},
    {ScriptStatus::UnavailableSe, "unavailable-se"},
    {ScriptStatus::TemporarilyUnavailableApplication, "temporarily-unavailable-application"},
    {ScriptStatus::ScriptFormatError, "script-format-error"},
}};

/// The value of a header that may appear once; UnexpectedElement for a repeat.
OtaResult<std::optional<std::string>> single(const Headers& headers, std::string_view name) {
  std::optional<std::string> out;
  for (const auto& [n, v] : headers) {
    if (!iequals(n, name)) continue;
    if (out) return ota_fail(OtaErrorCode::UnexpectedElement, std::string(name) + " repeated");
    out = std::string(trim_ows(v));
  }
  return out;
}

/// Content types compare without case and without spaces around ';'.
bool same_media_type(std::string_view a, std::string_view b) {
  auto strip = [](std::string_view s) {
    std::string out;
    for (char c : s)
      if (c != ' ' && c != '\t') out.push_back(c);
    return out;
  };
  return iequals(strip(a), strip(b));
}

}  // namespace

std::string_view to_string(ScriptStatus s) {
  for (const auto& [v, name] : kStatusNames)
    if (v == s) return name;
  return "ok";
}

std::optional<ScriptStatus> parse_script_status(std::string_view text) {
  for (const auto& [v, name] : kStatusNames)
    if (name == text) return v;
  return std::nullopt;
}

Headers format_request_headers(const AdminRequest& r) {
  Headers h{{std::string(kProtocol), std::string(kAdminProtocol)}, {std::string(kFrom), r.from}};
  if (r.has_body) h.emplace_back(std::string(kContentType), std::string(kContentTypeScriptResponse));
  if (r.script_status) h.emplace_back(std::string(kScriptStatus), std::string(to_string(*r.script_status)));
  if (r.resume) h.emplace_back(std::string(kResume), "true");
  return h;
}

OtaResult<AdminRequest> parse_request_headers(const Headers& headers) {
  RSP_TRY(auto protocol, single(headers, kProtocol));
  if (!protocol) return ota_fail(OtaErrorCode::MissingElement, "X-Admin-Protocol");
  if (*protocol != kAdminProtocol) return ota_fail(OtaErrorCode::Unsupported, "X-Admin-Protocol version");
  AdminRequest r;
  RSP_TRY(auto from, single(headers, kFrom));
  if (!from || from->empty()) return ota_fail(OtaErrorCode::MissingElement, "X-Admin-From");
  r.from = *from;
  RSP_TRY(auto type, single(headers, kContentType));
  if (type) {
    if (!same_media_type(*type, kContentTypeScriptResponse))
      return ota_fail(OtaErrorCode::InvalidValue, "Content-Type of a script response");
    r.has_body = true;
  }
  RSP_TRY(auto status, single(headers, kScriptStatus));
  if (status) {
    r.script_status = parse_script_status(*status);
    if (!r.script_status) return ota_fail(OtaErrorCode::InvalidValue, "X-Admin-Script-Status value");
  }
  RSP_TRY(auto resume, single(headers, kResume));
  if (resume) {
    if (*resume != "true" && *resume != "false") return ota_fail(OtaErrorCode::InvalidValue, "X-Admin-Resume value");
    r.resume = *resume == "true";
  }
  return r;
}

int response_status(const AdminResponse& r) { return r.has_script ? 200 : 204; }

Headers format_response_headers(const AdminResponse& r) {
  Headers h{{std::string(kProtocol), std::string(kAdminProtocol)}};
  if (r.has_script) h.emplace_back(std::string(kContentType), std::string(kContentTypeScript));
  if (r.next_uri) h.emplace_back(std::string(kNextUri), *r.next_uri);
  if (r.targeted_application) h.emplace_back(std::string(kTargeted), format_aid_uri(*r.targeted_application));
  return h;
}

OtaResult<AdminResponse> parse_response_headers(int status, const Headers& headers) {
  if (status != 200 && status != 204) return ota_fail(OtaErrorCode::InvalidValue, "HTTP status other than 200 / 204");
  AdminResponse r;
  r.has_script = status == 200;
  RSP_TRY(auto type, single(headers, kContentType));
  if (r.has_script && (!type || !same_media_type(*type, kContentTypeScript)))
    return ota_fail(OtaErrorCode::InvalidValue, "200 without the script Content-Type");
  if (!r.has_script && type) return ota_fail(OtaErrorCode::UnexpectedElement, "Content-Type on a 204");
  RSP_TRY(r.next_uri, single(headers, kNextUri));
  if (r.next_uri && r.next_uri->empty()) return ota_fail(OtaErrorCode::InvalidValue, "empty X-Admin-Next-URI");
  RSP_TRY(auto target, single(headers, kTargeted));
  if (target) {
    RSP_TRY(r.targeted_application, parse_aid_uri(*target));
  }
  return r;
}

std::string format_aid_uri(ByteView aid) {
  const std::size_t rid = aid.size() < 5 ? aid.size() : 5;
  return "//aid/" + to_hex(aid.first(rid)) + "/" + to_hex(aid.subspan(rid));
}

OtaResult<Bytes> parse_aid_uri(std::string_view text) {
  constexpr std::string_view kPrefix = "//aid/";
  if (text.substr(0, kPrefix.size()) != kPrefix) return ota_fail(OtaErrorCode::InvalidValue, "AID URI prefix");
  text.remove_prefix(kPrefix.size());
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return ota_fail(OtaErrorCode::InvalidValue, "AID URI without PIX part");
  auto is_hex = [](std::string_view s) {
    for (char c : s)
      if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'))) return false;
    return true;
  };
  std::string_view rid_text = text.substr(0, slash), pix_text = text.substr(slash + 1);
  if (!is_hex(rid_text) || !is_hex(pix_text)) return ota_fail(OtaErrorCode::InvalidValue, "AID URI not hex");
  auto rid = from_hex(rid_text);
  auto pix = from_hex(pix_text);
  if (!rid || !pix || rid->size() != 5 || pix->size() > 11)
    return ota_fail(OtaErrorCode::InvalidValue, "AID URI: RID of 5 octets, PIX of up to 11");
  return concat({*rid, *pix});
}

}  // namespace rsp::ota
