#pragma once
// A test double of an SMSC: a minimal SMPP 3.4 peer on 127.0.0.1 built on the
// same libsmpp34 codec (rsp/smpp/pdu.hpp). Not a real SMSC: it checks
// system_id/password, takes the bind's address_range as the one address an
// ESME serves, routes submit_sm by destination_addr to the ESME bound as
// receiver or transceiver for it (holding messages until one binds), answers
// submit_sm_resp with its own message ids, and sends delivery receipts
// (SMPP 3.4 Appendix B text plus receipted_message_id and message_state) once
// the recipient acknowledged the deliver_sm. Tests can drop every connection,
// restart it on the same port, or send raw bytes to the bound ESMEs.
// (Debian's osmo-msc was evaluated and not used: its SMSC delivers ESME
// submissions only to subscribers attached over the radio network.)

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rsp/common/bytes.hpp"

namespace rsp::test_support {

class TestSmsc {
 public:
  struct Account {
    std::string system_id;
    std::string password;
  };

  explicit TestSmsc(std::vector<Account> accounts);
  ~TestSmsc();
  TestSmsc(const TestSmsc&) = delete;
  TestSmsc& operator=(const TestSmsc&) = delete;

  /// Listens on 127.0.0.1: on `port` when given, else an ephemeral port the
  /// first time and the same port after a stop; false when it cannot.
  bool start(int port = 0);
  /// Closes the listener and every connection, as an SMSC going down would.
  /// Held messages survive for the next start().
  void stop();
  int port() const;

  /// Closes every ESME connection (the listener stays).
  void drop_connections();
  /// Writes `bytes` as they are to every bound ESME.
  void send_raw(const Bytes& bytes);
  /// While set, submit_sm and enquire_link get no response (for response timeouts).
  void set_mute(bool mute);

  std::size_t bound_count() const;
  std::size_t submit_count() const;  ///< submit_sm answered with a message id
  std::size_t received_submits() const;  ///< submit_sm received, answered or not
  std::size_t bind_count() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace rsp::test_support
