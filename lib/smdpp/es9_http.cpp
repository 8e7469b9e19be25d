#include "rsp/smdpp/es9_http.hpp"

#include <exception>

namespace rsp::smdpp {
namespace {

namespace es9 = messages::es9;
using messages::ResponseHeader;

Es9HttpResponse json_reply(std::string body) {
  Es9HttpResponse r;
  r.status = 200;
  r.content_type = std::string(messages::kJsonContentType);
  r.body = std::move(body);
  return r;
}

/// The message a failure carries to the LPA. A request it could not read
/// (1.2 / 2.x) is told what was wrong with it: those texts name fields only.
/// Every other failure gets the reason's neutral text, so that the storage,
/// other orders or the checks behind a refusal stay in the server's log
/// (Es9HttpResponse::error keeps the detail for it).
std::string wire_message(const SmdppError& e) {
  if (e.subject_code == "1.2" && e.reason_code.rfind("2.", 0) == 0 && !e.message.empty()) return e.message;
  return std::string(messages::reason_text(e.reason_code));
}

/// A refusal is a function result (HTTP 200 with the codes, SGP.22 §6.5.1).
/// A failure of the SM-DP+'s own storage decided nothing about the request:
/// it is a server error (HTTP 500), so the LPA neither takes it for a refusal
/// of its matchingId nor removes anything from the eUICC; the detail stays in
/// the server's log.
Es9HttpResponse failed(const SmdppError& e) {
  if (e.storage) {
    Es9HttpResponse r;
    r.status = 500;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "server error";
    r.error = e;
    return r;
  }
  auto r = json_reply(
      es9::encode_header_only_response(ResponseHeader::failed(e.subject_code, e.reason_code, wire_message(e))));
  r.error = e;
  return r;
}

SmdppError from_message_error(const messages::MessageError& e) {
  return SmdppError{e.subject_code, e.reason_code, e.to_string()};
}

template <class T>
Es9HttpResponse success_or_failure(const SmdppResult<T>& result) {
  if (!result) return failed(result.error());
  return json_reply(es9::encode_response(*result));
}

Es9HttpResponse dispatch(Server& server, es9::Function f, std::string_view body, std::string_view peer) {
  switch (f) {
    case es9::Function::InitiateAuthentication: {
      auto req = es9::decode_initiate_authentication_request(body);
      if (!req) return failed(from_message_error(req.error()));
      return success_or_failure(server.initiate_authentication(*req, peer));
    }
    case es9::Function::AuthenticateClient: {
      auto req = es9::decode_authenticate_client_request(body);
      if (!req) return failed(from_message_error(req.error()));
      return success_or_failure(server.authenticate_client(*req));
    }
    case es9::Function::GetBoundProfilePackage: {
      auto req = es9::decode_get_bound_profile_package_request(body);
      if (!req) return failed(from_message_error(req.error()));
      return success_or_failure(server.get_bound_profile_package(*req));
    }
    case es9::Function::HandleNotification: {
      auto req = es9::decode_handle_notification_request(body);
      if (!req) return failed(from_message_error(req.error()));
      Es9HttpResponse r;
      r.status = 204;
      if (auto outcome = server.handle_notification(req->pendingNotification); !outcome) {
        r.error = outcome.error();
        // SGP.22 §3.5, §5.6.4: after 204 the LPA removes the notification
        // from the eUICC (ES10b.RemoveNotificationFromList). When the SM-DP+ could
        // not record it, a server error keeps it there for a later attempt;
        // a notification refused for what it is (signature, unknown
        // transaction) is still 204, as sending it again changes nothing.
        if (outcome.error().storage) r.status = 500;
      }
      return r;
    }
    case es9::Function::CancelSession: {
      auto req = es9::decode_cancel_session_request(body);
      if (!req) return failed(from_message_error(req.error()));
      if (auto ok = server.cancel_session(*req); !ok) return failed(ok.error());
      return json_reply(es9::encode_header_only_response(ResponseHeader::success()));
    }
  }
  return failed(SmdppError{codes::kExecutionError.subject, codes::kExecutionError.reason, "unknown function"});
}

}  // namespace

Es9HttpResponse handle_es9(Server& server, std::string_view path, std::string_view body, std::string_view peer) {
  const auto f = es9::function_from_path(path);
  if (!f) {
    Es9HttpResponse r;
    r.status = 404;
    return r;
  }
  try {
    Es9HttpResponse r = dispatch(server, *f, body, peer);
    r.function = f;
    return r;
  } catch (const std::exception&) {
    // Only resource exhaustion can get here; answer like any internal failure.
    Es9HttpResponse r = failed(
        SmdppError{codes::kExecutionError.subject, codes::kExecutionError.reason, "internal error"});
    r.function = f;
    return r;
  }
}

}  // namespace rsp::smdpp
