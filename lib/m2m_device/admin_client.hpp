#pragma once
// The card's side of one RAM over HTTP administration session (GP Amendment
// B), over PSK-TLS with the ISD-R's SCP81 key: internal to m2m_device.

#include <chrono>
#include <string>

#include "rsp/m2m_device/device.hpp"

namespace rsp::m2m_device::detail {

struct SessionTarget {
  std::string host;  ///< "name:port"
  std::string uri;
  std::string agent_id;  ///< X-Admin-From
  std::chrono::milliseconds timeout{5000};
  std::size_t max_exchanges = 64;
  std::function<Bytes(ByteView isdp_aid, ByteView c_apdu)> isdp;  ///< M2mDeviceOptions::isdp
};

expected<SessionReport, DeviceError> run_admin_session(euicc_m2m::M2mIsdR& isd_r, const SessionTarget& target);

}  // namespace rsp::m2m_device::detail
