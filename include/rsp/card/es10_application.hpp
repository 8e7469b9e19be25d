#pragma once
/// The ES10 adapter on the APDU layer (SGP.22 §5.7.2): an application whose
/// commands come as GlobalPlatform STORE DATA sequences (GP Card Spec v2.3
/// §11.11; P1 11 more blocks / 91 last block, P2 the block number from 00).
/// STORE DATA reassembly and the framing of a Bound Profile Package
/// (LoadBoundProfilePackage pieces, SGP.22 §2.5.5 / §5.7.6, which are not
/// whole TLVs) live here and nowhere else; the ISD-R implementation receives
/// whole ES10 commands and BPP segments.

#include <array>
#include <cstddef>
#include <cstdint>

#include "rsp/card/application.hpp"
#include "rsp/common/expected.hpp"

namespace rsp::card {

/// What the adapter accepts.
struct Es10Limits {
  /// Bound on one reassembled ES10 command (SGP.22 commands are far smaller;
  /// a LoadBoundProfilePackage segment is below 64 KiB); 6A84 beyond it.
  std::size_t max_command_size = 64 * 1024;
};

class Es10Application : public Application {
 public:
  explicit Es10Application(Es10Limits limits = {});

  /// STORE DATA (CLA 80-83/C0-CF, INS E2) reassembly; every other INS
  /// answers 6D00, E2 under an interindustry class 6E00 (APPEND RECORD).
  apdu::Response process(const ApduCommand& command) final;
  void on_select(std::uint8_t channel) final;
  void on_deselect(std::uint8_t channel) final;

 protected:
  /// One complete ES10 command (a whole TLV such as BF3E.., BF38..); returns
  /// the response TLV, or a status word when the card refuses the command
  /// itself (SGP.22 §5.7: malformed or unknown commands). `channel` lets an
  /// application keep per-channel state where SGP.22 requires it.
  virtual expected<Bytes, std::uint16_t> process_es10(ByteView command, std::uint8_t channel) = 0;

  /// One segment of a Bound Profile Package (§2.5.5): the first starts with
  /// BF36; the following ones arrive while bpp_in_progress(). Default: 6985.
  virtual expected<Bytes, std::uint16_t> load_bpp_segment(ByteView segment, std::uint8_t channel);

  /// True while a BPP load is under way and the next STORE DATA sequence
  /// (A0..A3, 86..88 or the rest of a split element) continues it.
  virtual bool bpp_in_progress(ByteView /*next*/) const { return false; }

  /// The channel was deselected (closed, reselected elsewhere, reset).
  virtual void on_es10_deselect(std::uint8_t /*channel*/) {}

 private:
  static constexpr std::size_t kMaxChannels = 20;
  /// The STORE DATA blocks received so far on one channel.
  struct Assembly {
    Bytes command;
    bool assembling = false;
    std::uint16_t next_block = 0;  ///< P2 expected next
    void clear() { command.clear(); assembling = false; next_block = 0; }
  };

  expected<Bytes, std::uint16_t> route(ByteView command, std::uint8_t channel);

  Es10Limits limits_;
  std::array<Assembly, kMaxChannels> channels_;
};

/// A LoadBoundProfilePackage starts with the BoundProfilePackage tag BF36
/// (SGP.22 §5.7.6).
bool starts_bpp(ByteView command);

/// A GlobalPlatform FCI for SELECT (GP Card Spec v2.3 §11.9.3.1): 6F { 84 AID,
/// A5 { 9F65 01 FF (max block length 255) } }.
Bytes make_fci(ByteView aid);

/// A minimal ECASD (SGP.22 §2.2.3): selectable, answers an FCI, refuses
/// every ES10 command with 6A81. The full ECASD (eUICC keys and
/// certificates) lives with the ISD-R.
class MinimalEcasd : public Es10Application {
 public:
  ByteView aid() const override;
  Bytes select_response() override;

 protected:
  expected<Bytes, std::uint16_t> process_es10(ByteView command, std::uint8_t channel) override;
};

}  // namespace rsp::card
