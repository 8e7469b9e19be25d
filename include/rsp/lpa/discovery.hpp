#pragma once
/// The LPA's event retrieval from an SM-DS (SGP.22 v2.2.2 §3.6.2, ES11 §5.8):
/// the mutual authentication of the download (GetEUICCInfo1,
/// GetEUICCChallenge -> ES11 InitiateAuthentication with the SM-DS address
/// -> ES10b AuthenticateServer -> ES11 AuthenticateClient), whose answer
/// lists the eUICC's event records (eventId, RSP server address). Without an
/// address the eUICC's root SM-DS is asked (ES10a GetEUICCConfiguredAddresses,
/// §5.7.3). A download without an activation code (§3.1.2) takes the
/// eUICC's default SM-DP+ address, else the first event found, and uses the
/// event's address and its eventId as matchingId (§3.6.2, §3.1.3).

#include <string>
#include <vector>

#include "rsp/lpa/download.hpp"

namespace rsp::lpa {

struct EventRecord {
  std::string event_id;
  std::string rsp_server_address;
};

struct DiscoveryResult {
  std::string smds_address;  ///< the SM-DS asked
  std::vector<EventRecord> events;
};

/// Asks the SM-DS at `smds_address` (empty: the eUICC's root SM-DS) for the
/// eUICC's events. Errors carry the SM-DS's subject/reason code (source
/// Es9Function: the ES11 answer's codes are SGP.22 status codes as ES9+'s).
expected<DiscoveryResult, DownloadError> discover_events(const std::string& smds_address, Es10Channel& euicc,
                                                         Es9Transport& smds, const DownloadOptions& options = {});

/// Where a download without an activation code goes (§3.1.2): the eUICC's
/// default SM-DP+ address with no matchingId, else the first event of the
/// SM-DS at `smds_address` (empty: the root SM-DS), its eventId as the
/// matchingId; `event` names the event used, when one was.
struct DownloadTarget {
  std::string smdp_address;
  std::string matching_id;
  std::optional<EventRecord> event;
};
expected<DownloadTarget, DownloadError> download_target(const std::string& smds_address, Es10Channel& euicc,
                                                        Es9Transport& transport, const DownloadOptions& options = {});

}  // namespace rsp::lpa
