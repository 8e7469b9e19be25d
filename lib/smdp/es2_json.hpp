#pragma once
// The JSON binding's ES2 function body (es2_http.cpp), for the SOAP binding
// (soap_service.cpp), which turns its message into the JSON request and the
// JSON answer back into its message: both bindings run the same checks on
// the same Es2Service.

#include <string>
#include <string_view>

#include "rsp/m2m/es2.hpp"
#include "rsp/service/routes.hpp"
#include "rsp/smdp/es2_service.hpp"

namespace rsp::smdp::detail {

/// ES2 function `fn` with JSON body `body` for the MNO `mno`, after the
/// route's checks (Content-Type, caller).
service::Reply json_es2(Es2Service& svc, m2m::es2::Function fn, std::string_view body, const std::string& mno);

}  // namespace rsp::smdp::detail
