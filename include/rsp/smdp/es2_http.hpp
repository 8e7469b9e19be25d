#pragma once
/// The M2M SM-DP's HTTP routes (service kit, rsp/service/routes.hpp):
///  - ES2 (rsp/m2m/es2.hpp) for the MNOs: POST application/json on each
///    function's path, the caller authenticated (mutual TLS or API key)
///    and one of `mnos`; answered 200 with the outcome, 202 when accepted,
///    503 when the state could not be written (the MNO may try again), and
///    a malformed request 200 Failed with 1.6/2.1 or 1.6/2.2 as ES4's.
///  - the SM-SR's ES3 callbacks (rsp/m2m/es3.hpp Callback): a Result is
///    handed to Es3Results::deliver() for the Es3Client waiting on it; a
///    Handle...Notification to Es3Notifications::handle() (answered 200
///    also for a duplicate or an ignored one, 503 when it could not be
///    stored, so the SM-SR tries again). With `smsr_caller` set the route
///    is authenticated: only the caller of that name proven by its TLS
///    client certificate (mutual TLS: the SM-SR's certificate pinned in the
///    SM-DP's configuration) is served; another authenticated caller (an
///    MNO) is answered 403, one without credentials 401 (the server's
///    unauthenticated reply). Without it (lab use over plain HTTP) the route
///    is open and only its path, which may carry a secret part, hides it.
///    The route is the one SM-SR `smsr_id`'s (each configured SM-SR has its
///    own): an ES3.HandleSMSRChangeNotification on it must name that SM-SR
///    as the eUICC's new one, else it is refused with 403 and 1.1/1.2
///    (requester not allowed, as ES2 refuses a caller that is not an MNO)
///    and nothing is recorded (Es3Notifications::Outcome::Refused).

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/service/routes.hpp"
#include "rsp/smdp/es2_service.hpp"
#include "rsp/smdp/es3_client.hpp"
#include "rsp/smdp/es3_notifications.hpp"

namespace rsp::smdp {

/// This binding's default path of the ES3 results route (the URL the
/// SM-SR is configured with as this SM-DP's callback_url).
inline constexpr std::string_view kEs3ResultsPath = "/gsma/m2m/es3/results";

std::vector<service::Route> es2_routes(std::shared_ptr<Es2Service> svc, std::set<std::string> mnos);
/// The SM-SR's callbacks route. `notifications` null: notifications are
/// refused (400) as any other body that is not a result.
service::Route es3_results_route(std::shared_ptr<Es3Results> results, std::string path = std::string(kEs3ResultsPath),
                                 std::shared_ptr<Es3Notifications> notifications = nullptr,
                                 std::optional<std::string> smsr_caller = std::nullopt,
                                 std::string smsr_id = {});
/// The answer to a caller that is not authenticated: 401 with 1.1/1.1.
service::Reply es2_unauthenticated_reply();

}  // namespace rsp::smdp
