#pragma once
// The card's side of one RAM over HTTP administration session (GP Amendment
// B), over PSK-TLS with the ISD-R's SCP81 key: internal to m2m_device.

#include <chrono>
#include <memory>
#include <string>

#include "rsp/m2m_device/device.hpp"
#include "rsp/net/client.hpp"

namespace rsp::m2m_device::detail {

struct SessionTarget {
  std::string host;  ///< "name:port"
  std::string uri;
  std::string agent_id;  ///< X-Admin-From
  std::chrono::milliseconds timeout{5000};
  std::size_t max_exchanges = 64;
  std::function<Bytes(ByteView isdp_aid, ByteView c_apdu)> isdp;  ///< M2mDeviceOptions::isdp
};

/// The device's HTTPS client, kept from one session to the next: its TLS
/// context (PSK configuration, cipher list) is made once, not per session.
/// Each session still opens a connection of its own and closes it at its end
/// (a new PSK-TLS handshake per session, as a card's BIP channel is opened
/// and closed); a new PSK (an SM-SR change) or host makes a new client.
struct SessionClient {
  std::unique_ptr<net::HttpsClient> client;
  std::string host;
  std::string identity;
  Bytes key;
  std::chrono::milliseconds timeout{};
  ~SessionClient();
};

/// One session; `cache` is reused when it was made for the same host, PSK
/// and timeout, else replaced.
expected<SessionReport, DeviceError> run_admin_session(euicc_m2m::M2mIsdR& isd_r, const SessionTarget& target,
                                                       SessionClient& cache);

}  // namespace rsp::m2m_device::detail
