#pragma once
/// The LPA side of ES10 over APDUs (SGP.22 §5.7.2): an ES10 command is sent
/// as GlobalPlatform STORE DATA blocks (GP Card Spec v2.3 §11.11) and its
/// response collected through 61xx + GET RESPONSE (ISO/IEC 7816-4 §7.6.1).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rsp/apdu/command.hpp"
#include "rsp/apdu/response.hpp"
#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::apdu {

inline constexpr std::uint8_t kInsStoreData = 0xE2;
inline constexpr std::uint8_t kInsGetResponse = 0xC0;
inline constexpr std::uint8_t kInsSelect = 0xA4;
inline constexpr std::uint8_t kInsManageChannel = 0x70;
/// STORE DATA P1 as SGP.22 §5.7.2 uses it: BER-TLV data, more blocks follow
/// (11) or this is the last block (91; b8 = last block).
inline constexpr std::uint8_t kStoreDataMoreBlocks = 0x11;
inline constexpr std::uint8_t kStoreDataLastBlock = 0x91;
/// Block size lpac uses; any value 1..255 is valid.
inline constexpr std::size_t kDefaultStoreDataBlockSize = 120;

/// Sends one command APDU and returns the response APDU (data + SW), or
/// nullopt when the transport failed.
using Transmit = std::function<std::optional<Bytes>(ByteView)>;

/// Why an exchange with the card failed.
struct ExchangeError {
  enum class Kind : std::uint8_t {
    kBadRequest,     ///< empty command, block size out of 1..255, too many blocks
    kTransport,      ///< Transmit returned nullopt
    kMalformed,      ///< a response shorter than SW1 SW2
    kStatus,         ///< the card answered an error status word (in `sw`)
    kTooLarge,       ///< the response grew past the caller's bound
  };
  Kind kind = Kind::kTransport;
  std::uint16_t sw = 0;
  std::string message() const;
};

/// Splits `es10_command` into STORE DATA command APDUs on `channel`:
/// CLA 80|channel (C0.. for channels 4-19), INS E2, P1 11 / 91 on the last
/// block, P2 = block number from 0, case 3 (no Le, as lpac sends them).
/// At most 256 blocks (P2 is one byte).
expected<std::vector<Bytes>, ExchangeError> store_data_blocks(
    ByteView es10_command, std::uint8_t channel,
    std::size_t block_size = kDefaultStoreDataBlockSize);

/// Sends `command` and follows 61xx with GET RESPONSE (same CLA, INS C0,
/// Le = xx) until the card stops; 6Cxx resends the command with Le = xx
/// once. Concatenates all data; the final status word is the card's.
/// Collects at most `max_response` bytes.
expected<Response, ExchangeError> exchange(const Transmit& transmit, ByteView command,
                                           std::size_t max_response = 1u << 20);

/// One ES10 command end to end: STORE DATA blocks, each followed through
/// GET RESPONSE; every block must end with a 9x status. Returns the
/// concatenated response data (the ES10 response TLV).
expected<Bytes, ExchangeError> send_es10(const Transmit& transmit, ByteView es10_command,
                                         std::uint8_t channel,
                                         std::size_t block_size = kDefaultStoreDataBlockSize,
                                         std::size_t max_response = 1u << 20);

}  // namespace rsp::apdu
