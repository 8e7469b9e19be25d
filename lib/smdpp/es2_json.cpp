#include "rsp/smdpp/es2_json.hpp"

#include <chrono>

#include "rsp/pki/validator.hpp"
#include "rsp/smdpp/es2_codes.hpp"

namespace rsp::smdpp {

namespace {

using nlohmann::json;

Es2HttpResponse failure(int http_status, const SmdppError& e) {
  return Es2HttpResponse{http_status, es2_failure_body(e), e.subject_code, e.reason_code, e.message};
}

constexpr std::string_view kPrefix = "/gsma/rsp2/es2plus/";

unexpected<SmdppError> from_message(const messages::MessageError& e) {
  return unexpected(SmdppError{e.subject_code, e.reason_code, e.to_string()});
}

#define ES2_TRY(decl, expr) ES2_TRY_IMPL(RSP_CONCAT(es2_try_, __LINE__), decl, expr)
#define ES2_TRY_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                  \
  if (!tmp) return from_message(tmp.error()); \
  decl = std::move(tmp).value()

SmdppResult<messages::RequestHeader> read_header(messages::ObjectReader& r) {
  ES2_TRY(const json* h, r.object("header"));
  ES2_TRY(auto header, messages::parse_request_header(*h));
  return header;
}

/// orderExpiry: this SM-DP+'s extension of DownloadOrder and ConfirmOrder
/// (SGP.22 v2.2.2 has no such member), a time in the SGP.22 timestamp form
/// YYYY-MM-DDThh:mm:ssZ (UTC) after which the order cannot be downloaded.
SmdppResult<std::optional<std::int64_t>> read_expiry(messages::ObjectReader& r) {
  ES2_TRY(auto text, r.optional_string("orderExpiry"));
  if (!text) return std::optional<std::int64_t>();
  auto t = pki::parse_utc_time(*text);
  if (!t || text->size() != 20)
    return smdpp_error(es2codes::kInvalidParameter, "orderExpiry is not a timestamp YYYY-MM-DDThh:mm:ssZ");
  return std::optional<std::int64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count());
}

SmdppResult<void> finish(const messages::ObjectReader& r) {
  if (auto f = r.finish(); !f) return from_message(f.error());
  return {};
}

}  // namespace

SmdppResult<Es2Request> decode_es2_request(std::string_view path, std::string_view body) {
  if (path.substr(0, kPrefix.size()) != kPrefix)
    return smdpp_error(es2codes::kUnknownFunction, "not an ES2+ path");
  const std::string_view function = path.substr(kPrefix.size());
  ES2_TRY(json j, messages::parse_json_object(body));
  Es2Request out;
  if (function == "confirmOrder") {
    // releaseFlag is the only boolean member: read it here, the strings below.
    auto it = j.find("releaseFlag");
    if (it == j.end()) return smdpp_error(es2codes::kMandatoryMissing, "releaseFlag is missing");
    if (!it->is_boolean()) return smdpp_error(es2codes::kInvalidParameter, "releaseFlag is not a boolean");
    Es2ConfirmOrder c;
    c.request.release_flag = it->get<bool>();
    j.erase(it);
    messages::ObjectReader r(j);
    RSP_TRY(out.header, read_header(r));
    ES2_TRY(c.request.iccid, r.string("iccid"));
    ES2_TRY(c.request.eid, r.optional_string("eid"));
    ES2_TRY(c.request.matching_id, r.optional_string("matchingId"));
    ES2_TRY(c.request.confirmation_code, r.optional_string("confirmationCode"));
    ES2_TRY(c.request.smds_address, r.optional_string("smdsAddress"));
    RSP_TRY(c.request.expires_at, read_expiry(r));
    RSP_TRY_VOID(finish(r));
    out.function = std::move(c);
    return out;
  }
  messages::ObjectReader r(j);
  RSP_TRY(out.header, read_header(r));
  if (function == "downloadOrder") {
    Es2DownloadOrder d;
    ES2_TRY(d.request.eid, r.optional_string("eid"));
    ES2_TRY(d.request.iccid, r.optional_string("iccid"));
    ES2_TRY(d.request.profile_type, r.optional_string("profileType"));
    RSP_TRY(d.request.expires_at, read_expiry(r));
    out.function = std::move(d);
  } else if (function == "cancelOrder") {
    Es2CancelOrder c;
    ES2_TRY(c.request.iccid, r.string("iccid"));
    ES2_TRY(c.request.eid, r.optional_string("eid"));
    ES2_TRY(c.request.matching_id, r.optional_string("matchingId"));
    ES2_TRY(std::string final_status, r.string("finalProfileStatusIndicator"));
    if (final_status == "Available") {
      c.request.final_status = FinalProfileStatus::Available;
    } else if (final_status == "Unavailable") {
      c.request.final_status = FinalProfileStatus::Unavailable;
    } else {
      return smdpp_error(es2codes::kInvalidParameter, "finalProfileStatusIndicator is not Available or Unavailable");
    }
    out.function = std::move(c);
  } else if (function == "releaseProfile") {
    Es2ReleaseProfile rp;
    ES2_TRY(rp.iccid, r.string("iccid"));
    out.function = std::move(rp);
  } else {
    return smdpp_error(es2codes::kUnknownFunction, "unknown ES2+ function");
  }
  RSP_TRY_VOID(finish(r));
  return out;
}

std::string es2_failure_body(const SmdppError& e) {
  json j;
  // The operator hears what its request met, but an internal failure (x/4.2)
  // is only named: its detail (storage, engine) goes to the server's log.
  const std::string message =
      e.reason_code == "4.2" ? std::string(messages::reason_text(e.reason_code)) : e.message;
  j["header"] = messages::to_json(messages::ResponseHeader::failed(e.subject_code, e.reason_code, message));
  return messages::dump(j);
}

Es2HttpResponse handle_es2_request(Es2Service& service, std::string_view path, std::string_view body,
                                   const std::optional<std::string>& authenticated_operator) {
  if (path.substr(0, kPrefix.size()) != kPrefix)
    return failure(404, SmdppError{es2codes::kUnknownFunction.subject, es2codes::kUnknownFunction.reason, "not found"});
  auto req = decode_es2_request(path, body);
  if (!req) return failure(200, req.error());
  const std::string& op = req->header.function_requester_identifier;
  if (authenticated_operator && *authenticated_operator != op)
    return failure(200, SmdppError{es2codes::kRequesterNotAllowed.subject, es2codes::kRequesterNotAllowed.reason,
                                   "functionRequesterIdentifier is not the caller"});
  json out;
  SmdppResult<void> status;
  if (const auto* d = std::get_if<Es2DownloadOrder>(&req->function)) {
    auto r = service.download_order(op, d->request);
    if (r) out["iccid"] = *r;
    else status = unexpected(r.error());
  } else if (const auto* c = std::get_if<Es2ConfirmOrder>(&req->function)) {
    auto r = service.confirm_order(op, c->request);
    if (r) {
      if (r->eid) out["eid"] = *r->eid;
      out["matchingId"] = r->matching_id;
      out["smdpAddress"] = r->smdp_address;
    } else {
      status = unexpected(r.error());
    }
  } else if (const auto* x = std::get_if<Es2CancelOrder>(&req->function)) {
    status = service.cancel_order(op, x->request);
  } else if (const auto* rp = std::get_if<Es2ReleaseProfile>(&req->function)) {
    status = service.release_profile(op, rp->iccid);
  }
  if (!status) return failure(200, status.error());
  out["header"] = messages::to_json(messages::ResponseHeader::success());
  return Es2HttpResponse{200, messages::dump(out), {}, {}, {}};
}

}  // namespace rsp::smdpp
