#pragma once
// The JSON binding's function bodies (http_service.cpp, es3_http.cpp,
// es7_http.cpp), for the SOAP binding (soap_service.cpp), which turns its
// message into the JSON request and the JSON answer back into its message:
// both bindings run the same checks on the same services.

#include <string>
#include <string_view>

#include "rsp/m2m/es3.hpp"
#include "rsp/m2m/es7.hpp"
#include "rsp/m2m/es_functions.hpp"
#include "rsp/service/routes.hpp"
#include "rsp/smsr/es3_service.hpp"
#include "rsp/smsr/es7_service.hpp"
#include "rsp/smsr/service.hpp"

namespace rsp::smsr::detail {

service::Reply json_es4(Service& svc, m2m::Es4Function fn, std::string_view body, const std::string& mno);
service::Reply json_es1_register(Service& svc, std::string_view body, const std::string& eum);
/// ES3 (es3_http.cpp) for the SM-DP `smdp`, after the route's checks.
service::Reply json_es3(Es3Service& svc, m2m::es3::Function f, std::string_view body, const std::string& smdp);
/// ES7 and ES4 PrepareSMSRChange / SMSRChange (es7_http.cpp) for `caller`,
/// after the route's checks.
service::Reply json_es7(Es7Service& svc, m2m::es7::Function f, std::string_view body, const std::string& caller);

}  // namespace rsp::smsr::detail
