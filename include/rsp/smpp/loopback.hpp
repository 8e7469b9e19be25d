#pragma once
/// An in-process SMSC: endpoints attach by address; a message submitted by one
/// is delivered, asynchronously and in submission order, to the endpoint that
/// owns its destination (held until one attaches, like an SMSC's store and
/// forward), with a delivery receipt back to the sender when it asked for one
/// (registered_delivery bit 0, SMPP 3.4 §5.2.17). Faults can be injected for
/// tests. The embedded default transport of the M2M demo; addresses match by
/// their digits (TON/NPI are carried, not compared).

#include <chrono>
#include <cstddef>
#include <memory>

#include "rsp/smpp/sms_transport.hpp"

namespace rsp::smpp {

class LoopbackSmsc {
 public:
  /// Faults applied to the next submissions (any endpoint).
  struct Faults {
    std::size_t drop_next = 0;       ///< accepted (an id is returned), never delivered, no receipt
    std::size_t duplicate_next = 0;  ///< delivered twice (one receipt)
    std::chrono::milliseconds delay{0};  ///< added to every delivery while set
    std::size_t refuse_next = 0;     ///< refused at submission (Unavailable, as an SMSC out of reach)
  };

  LoopbackSmsc();
  ~LoopbackSmsc();
  LoopbackSmsc(const LoopbackSmsc&) = delete;
  LoopbackSmsc& operator=(const LoopbackSmsc&) = delete;

  /// The endpoint owning `address` (its digits), with its handlers; messages
  /// held for it are delivered now. A second endpoint for the same digits
  /// replaces the first for new deliveries.
  std::unique_ptr<SmsTransport> attach(const Address& address, Inbound inbound = {});

  void set_faults(const Faults& faults);
  /// Messages accepted and not yet delivered (held ones included).
  std::size_t pending() const;
  /// Blocks until nothing is due for delivery (held messages aside), or the timeout.
  bool wait_idle(std::chrono::milliseconds timeout) const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace rsp::smpp
