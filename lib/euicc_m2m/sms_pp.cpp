// The ISD-R receiving SCP80 command packets by SMS-PP download.

#include "rsp/euicc_m2m/sms_pp.hpp"

#include "rsp/apdu/status_words.hpp"
#include "rsp/euicc_m2m/ram_script.hpp"
#include "rsp/ota/command_sms.hpp"
#include "rsp/ota/envelope.hpp"
#include "rsp/ota/por.hpp"
#include "rsp/ota/ram.hpp"
#include "rsp/ota/udh.hpp"

namespace rsp::euicc_m2m {

namespace scp80 = crypto::scp80;

namespace {

constexpr std::uint8_t kAesAlgorithm = 0x02;  // KIc / KID b1-b2 = '10' (TS 102 225 §5.1.2)

/// The key set version a packet names: KID's when it has a checksum, else KIc's.
std::uint8_t key_version(const scp80::Spi& spi, std::uint8_t kic, std::uint8_t kid) {
  return static_cast<std::uint8_t>((spi.integrity != scp80::Integrity::None ? kid : kic) >> 4);
}

/// The plain header fields CPL CHL SPI KIc KID TAR [CNTR] of a command packet
/// (TS 102 225 §5.1.1), read before any check to address a PoR and pick the
/// stored counter. CNTR only when the packet is not ciphered.
std::optional<scp80::CommandHeader> peek_header(ByteView p) {
  if (p.size() < 10) return std::nullopt;
  auto spi = scp80::Spi::decode(p[3], p[4]);
  if (!spi) return std::nullopt;
  scp80::CommandHeader h;
  h.spi = *spi;
  h.kic = p[5];
  h.kid = p[6];
  h.tar = {p[7], p[8], p[9]};
  if (!spi->ciphering && p.size() >= 15) {
    for (std::size_t i = 10; i < 15; ++i) h.counter = (h.counter << 8) | p[i];
  }
  return h;
}

const Scp80KeySet* find_set(const std::vector<Scp80KeySet>& sets, std::uint8_t version) {
  for (const auto& k : sets)
    if (k.version == version) return &k;
  return nullptr;
}

bool por_wanted(const scp80::Spi& spi, scp80::Status status) {
  return spi.por == scp80::PorMode::Always || (spi.por == scp80::PorMode::OnError && status != scp80::Status::PorOk);
}

}  // namespace

SmsPpReceiver::SmsPpReceiver(M2mIsdR& isd_r, ota::Address por_destination, ota::ReassemblyOptions reassembly)
    : isd_r_(isd_r), por_destination_(std::move(por_destination)), reassembler_(std::move(reassembly)) {}

SmsPpOutcome SmsPpReceiver::on_envelope(const apdu::Command& envelope) {
  SmsPpOutcome out;
  auto download = ota::decode_envelope_command(envelope);
  if (!download) {
    out.envelope_response = apdu::Response{{}, apdu::sw::kWrongData};
    return out;
  }
  const auto& tpdu = download->tpdu;
  if (tpdu.pid != ota::kPidSimDataDownload || !tpdu.user_data.header_present) return out;  // not for the ISD-R
  // 3GPP TS 23.040 §9.2.3.24.1: a reference is its originator's; the
  // originator named with its type of number, as the TP-OA gives it.
  const auto& oa = tpdu.originator;
  const std::string originator =
      std::to_string(static_cast<int>(oa.ton)) + "/" + std::to_string(oa.npi) + "/" + oa.digits + "/" + to_hex(oa.alphanumeric);
  auto added = reassembler_.add(tpdu.user_data.octets, originator);
  if (!added) return out;  // unreadable segment: acknowledged, no action, no PoR
  if (!*added) {
    out.incomplete = true;
    return out;
  }
  return on_packet(**added, tpdu.originator);
}

SmsPpOutcome SmsPpReceiver::on_packet(const ota::Reassembled& packet, const ota::Address& originator) {
  SmsPpOutcome out;
  auto header = peek_header(packet.packet);
  if (!header || packet.packet_iei != ota::kIeiCommandPacket) return out;  // no TAR to answer to

  const auto sets = isd_r_.scp80_keys();
  const std::uint8_t version = key_version(header->spi, header->kic, header->kid);
  const Scp80KeySet* set = find_set(sets, version);
  scp80::KeyLookup lookup = [&](const scp80::Tar& tar, const scp80::Spi& spi, std::uint8_t kic,
                                std::uint8_t kid) -> expected<scp80::Keys, scp80::Status> {
    if (tar != m2m::kIsdRTar) return unexpected(scp80::Status::TarUnknown);
    if (!set) return unexpected(scp80::Status::SecurityError);
    if (spi.ciphering && ((kic & 0x03) != kAesAlgorithm || (kic >> 4) != set->version))
      return unexpected(scp80::Status::SecurityError);
    if (spi.integrity == scp80::Integrity::CryptographicChecksum &&
        ((kid & 0x03) != kAesAlgorithm || (kid >> 4) != set->version))
      return unexpected(scp80::Status::SecurityError);
    if (spi.integrity != scp80::Integrity::CryptographicChecksum) return unexpected(scp80::Status::InsufficientSecurityLevel);
    return scp80::Keys(set->kic, set->kid);
  };

  auto opened = ota::open_command(packet, lookup, set ? set->counter : 0);
  scp80::Status status = scp80::Status::PorOk;
  Bytes por_data;
  scp80::CommandHeader por_header = *header;
  scp80::Keys por_keys = set ? scp80::Keys(set->kic, set->kid) : scp80::Keys(Bytes(16, 0), Bytes(16, 0));
  if (!opened) {
    if (opened.error().no_por || !opened.error().status) return out;
    status = *opened.error().status;
    // A refused packet's PoR: no checksum, no ciphering (see the header).
    por_header.spi.por_integrity = scp80::Integrity::None;
    por_header.spi.por_ciphered = false;
  } else {
    por_header = opened->header;
    if (por_header.spi.counter != scp80::CounterMode::None &&
        !isd_r_.store_scp80_counter(version, por_header.counter)) {
      status = scp80::Status::InsufficientMemory;  // the counter could not be kept: no action
    } else {
      const Bytes& data = opened->data;
      if (!data.empty() && data[0] == 0x81) {
        auto trigger = ota::decode_admin_session_trigger(data);
        if (trigger) out.trigger = std::move(*trigger);
        else status = scp80::Status::SecurityError;  // TS 102 225 has no format status; nothing done
      } else {
        ota::ResponseScript response;
        auto script = ota::decode_command_script(data);
        if (script) response = run_script(isd_r_, *script);
        else response.bad_format = Bytes{0x01};
        auto encoded = ota::encode(response);
        if (encoded) por_data = std::move(*encoded);
      }
    }
  }
  out.status = status;
  if (!por_wanted(por_header.spi, status)) return out;

  if (por_header.spi.por_via_sms_submit) {
    const ota::Address& to = por_destination_.digits.empty() ? originator : por_destination_;
    auto submit = ota::build_por_sms_submit(por_header, status, por_keys, por_data, to, message_reference_++);
    if (!submit && !por_data.empty())  // too long for one SMS: the status alone
      submit = ota::build_por_sms_submit(por_header, status, por_keys, {}, to, message_reference_ - 1);
    if (submit) out.por_submit = std::move(*submit);
    return out;
  }
  auto r_apdu = ota::build_por_response_apdu(por_header, status, por_keys, por_data);
  if (!r_apdu && !por_data.empty()) r_apdu = ota::build_por_response_apdu(por_header, status, por_keys, {});
  if (r_apdu) out.envelope_response = std::move(*r_apdu);
  return out;
}

}  // namespace rsp::euicc_m2m
