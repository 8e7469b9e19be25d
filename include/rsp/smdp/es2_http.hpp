#pragma once
/// The M2M SM-DP's HTTP routes (service kit, rsp/service/routes.hpp):
///  - ES2 (rsp/m2m/es2.hpp) for the MNOs: POST application/json on each
///    function's path, the caller authenticated (mutual TLS or API key)
///    and one of `mnos`; answered 200 with the outcome, 202 when accepted,
///    503 when the state could not be written (the MNO may try again), and
///    a malformed request 200 Failed with 1.6/2.1 or 1.6/2.2 as ES4's.
///  - the SM-SR's ES3 results (its callbacks, rsp/m2m/es3.hpp Result),
///    handed to Es3Results::deliver() for the Es3Client waiting on them.
///    The SM-SR's callback sender authenticates with no client identity of
///    its own, so this route is open; the path may carry a secret part
///    (the SM-DP's configuration) to keep others from guessing it. A result
///    is kept until the call waiting for its operation takes it.

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/service/routes.hpp"
#include "rsp/smdp/es2_service.hpp"
#include "rsp/smdp/es3_client.hpp"

namespace rsp::smdp {

/// This binding's default path of the ES3 results route (the URL the
/// SM-SR is configured with as this SM-DP's callback_url).
inline constexpr std::string_view kEs3ResultsPath = "/gsma/m2m/es3/results";

std::vector<service::Route> es2_routes(std::shared_ptr<Es2Service> svc, std::set<std::string> mnos);
service::Route es3_results_route(std::shared_ptr<Es3Results> results, std::string path = std::string(kEs3ResultsPath));
/// The answer to a caller that is not authenticated: 401 with 1.1/1.1.
service::Reply es2_unauthenticated_reply();

}  // namespace rsp::smdp
