#pragma once
/// Secured command packets over SMS (3GPP TS 31.115 §4.2): the SCP80 command
/// packet (ETSI TS 102 225 §5.1.1) behind the '70' user data header element,
/// in one SMS or concatenated. The SM-SR side builds the SMS-SUBMITs it hands
/// to the SMSC; the card side opens the TP-UD of the SMS-DELIVER it got in an
/// ENVELOPE, after reassembly when the packet needed several SMS.

#include <cstdint>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/crypto/scp80.hpp"
#include "rsp/ota/address.hpp"
#include "rsp/ota/concat.hpp"
#include "rsp/ota/error.hpp"
#include "rsp/ota/tpdu.hpp"

namespace rsp::ota {

/// The TP-UD of each SMS carrying `secured_data` under `header` and `keys`.
OtaResult<std::vector<Bytes>> build_command_user_data(const crypto::scp80::CommandHeader& header,
                                                      const crypto::scp80::Keys& keys, ByteView secured_data,
                                                      std::uint16_t concat_reference, bool wide_reference = false);

/// The SMS-SUBMITs (TP-PID '7F', TP-DCS 'F6', TP-UDHI) to `destination`, with
/// message references counting up from `first_message_reference`.
OtaResult<std::vector<SmsSubmit>> build_command_submits(const crypto::scp80::CommandHeader& header,
                                                        const crypto::scp80::Keys& keys, ByteView secured_data,
                                                        const Address& destination,
                                                        std::uint8_t first_message_reference,
                                                        std::uint16_t concat_reference);

/// Opens the command packet of a single SMS's TP-UD (header with '70').
OtaResult<crypto::scp80::OpenedCommand> open_command_user_data(ByteView user_data,
                                                               const crypto::scp80::KeyLookup& keys,
                                                               std::uint64_t stored_counter);
/// Opens a reassembled command packet (its identifier must be '70').
OtaResult<crypto::scp80::OpenedCommand> open_command(const Reassembled& packet,
                                                     const crypto::scp80::KeyLookup& keys,
                                                     std::uint64_t stored_counter);

}  // namespace rsp::ota
