#pragma once
// The JSON binding's function bodies (http_service.cpp), for the SOAP
// binding (soap_service.cpp), which turns its message into the JSON request
// and the JSON answer back into its message: both bindings run the same
// checks on the same Service.

#include <string>
#include <string_view>

#include "rsp/m2m/es_functions.hpp"
#include "rsp/service/routes.hpp"
#include "rsp/smsr/service.hpp"

namespace rsp::smsr::detail {

service::Reply json_es4(Service& svc, m2m::Es4Function fn, std::string_view body, const std::string& mno);
service::Reply json_es1_register(Service& svc, std::string_view body, const std::string& eum);

}  // namespace rsp::smsr::detail
