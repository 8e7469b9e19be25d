#pragma once
/// The card side of SMS-PP data download for the M2M ISD-R: the ENVELOPE a
/// terminal sends when an SMS-DELIVER with TP-PID '7F' arrives (ota
/// envelope.hpp), the SCP80 command packet inside it checked with the ISD-R's
/// key sets and counters (ETSI TS 102 225 §5.1.1, 3GPP TS 31.115 §4.2),
/// concatenated packets reassembled first (told apart by originating address,
/// reference and number of segments; an incomplete one dropped after its
/// timeout, the oldest when too many are held: ota::ReassemblyOptions), then:
///  - secured data beginning with '81': the HTTPS administration-session
///    trigger (GP Amendment B, ota trigger.hpp), handed back for the terminal
///    side to open the PSK-TLS session;
///  - beginning with 'AA' / 'AE': an expanded command script (TS 102 226
///    §5.2), run on the ISD-R, its response script the PoR's data;
///  - anything else: refused with the response script's bad-format element
///    '90' (our value 01, the coding was not at hand).
/// A packet that fails the checks (wrong checksum, replayed counter, unknown
/// TAR or key set) causes no action; the PoR, when the SPI asks for one,
/// carries the TS 102 225 §5.1.2 status. The counter is stored durably before
/// the packet's content is acted on, so a replay is refused even after a crash.
///
/// The PoR of a refused packet is sent without checksum or ciphering (our
/// reading: its keys or counter cannot be trusted; TS 102 225 was not checked
/// on this point). Its CNTR is the command's when the command was not
/// ciphered, else zero.

#include <cstdint>
#include <optional>

#include "rsp/apdu/command.hpp"
#include "rsp/apdu/response.hpp"
#include "rsp/crypto/scp80.hpp"
#include "rsp/euicc_m2m/isd_r.hpp"
#include "rsp/ota/address.hpp"
#include "rsp/ota/concat.hpp"
#include "rsp/ota/tpdu.hpp"
#include "rsp/ota/trigger.hpp"

namespace rsp::euicc_m2m {

struct SmsPpOutcome {
  /// The R-APDU of the ENVELOPE: '9000', with the PoR as its data when the
  /// SPI asks for a PoR that is not sent by SMS-SUBMIT.
  apdu::Response envelope_response{{}, 0x9000};
  /// A segment of a concatenated packet was kept; nothing else happened.
  bool incomplete = false;
  /// The status of a whole packet's checks (PorOk when it was acted on);
  /// none when the packet could not be read up to its TAR.
  std::optional<crypto::scp80::Status> status;
  /// A verified administration-session trigger.
  std::optional<ota::AdminSessionTrigger> trigger;
  /// The PoR to send as an MO short message (SPI "PoR via SMS-SUBMIT").
  std::optional<ota::SmsSubmit> por_submit;
};

class SmsPpReceiver {
 public:
  /// `por_destination`: where PoRs by SMS-SUBMIT go (the SM-SR's address;
  /// the originator of the SMS-DELIVER is used when this is empty).
  explicit SmsPpReceiver(M2mIsdR& isd_r, ota::Address por_destination = {},
                         ota::ReassemblyOptions reassembly = {});

  /// One ENVELOPE (SMS-PP download). Never throws; malformed input is
  /// answered '6A80' (not an SMS-PP download) or acknowledged with no action.
  SmsPpOutcome on_envelope(const apdu::Command& envelope);

 private:
  SmsPpOutcome on_packet(const ota::Reassembled& packet, const ota::Address& originator);

  M2mIsdR& isd_r_;
  ota::Address por_destination_;
  ota::Reassembler reassembler_;
  std::uint8_t message_reference_ = 0;
};

}  // namespace rsp::euicc_m2m
