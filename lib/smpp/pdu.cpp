#include "rsp/smpp/pdu.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <span>
#include <vector>
#include <type_traits>

// libsmpp34 has no C++ guards, and its headers define short macro names
// (instancia, Reserved, ...): it stays inside this file.
extern "C" {
#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>
}

namespace rsp::smpp {

namespace {

/// libsmpp34 writes a trace of every field into one global buffer
/// (smpp34_strerror) while packing and unpacking: one call at a time.
std::mutex& library_mutex() {
  static std::mutex m;
  return m;
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void put32(Bytes& out, std::size_t at, std::uint32_t v) {
  out[at] = static_cast<std::uint8_t>(v >> 24);
  out[at + 1] = static_cast<std::uint8_t>(v >> 16);
  out[at + 2] = static_cast<std::uint8_t>(v >> 8);
  out[at + 3] = static_cast<std::uint8_t>(v);
}

unexpected<PduError> fail(PduError::Kind kind, std::string message) {
  return unexpected(PduError{kind, std::move(message)});
}

template <std::size_t N>
std::string read_string(const std::uint8_t (&field)[N]) {
  const auto* p = reinterpret_cast<const char*>(field);
  return std::string(p, strnlen(p, N));
}

template <std::size_t N>
bool write_string(std::uint8_t (&field)[N], const std::string& value) {
  // N includes the terminating NUL (SMPP 3.4 §3.1 C-Octet String).
  if (value.size() + 1 > N || value.find('\0') != std::string::npos) return false;
  std::memcpy(field, value.data(), value.size());
  field[value.size()] = 0;
  return true;
}

/// Walks the mandatory fields of a body to find where its optional
/// parameters start. It decodes nothing (libsmpp34 does); it only makes sure
/// that what libsmpp34 will be given is well formed, because its unpacker
/// reads C strings with strlen and logs every optional parameter into a
/// fixed global buffer without a bound.
class Walker {
 public:
  explicit Walker(ByteView pdu) : b_(pdu), at_(kHeaderSize) {}
  bool cstr(std::size_t max_with_nul) {
    for (std::size_t i = at_; i < b_.size() && i - at_ < max_with_nul; ++i)
      if (b_[i] == 0) {
        at_ = i + 1;
        return true;
      }
    return false;
  }
  bool skip(std::size_t n) {
    if (b_.size() - at_ < n) return false;
    at_ += n;
    return true;
  }
  bool octet_then_bytes() {
    if (at_ >= b_.size()) return false;
    const std::size_t n = b_[at_];
    return skip(1) && skip(n);
  }
  std::size_t at() const { return at_; }

 private:
  ByteView b_;
  std::size_t at_;
};

/// An optional parameter we hand to libsmpp34, with the value length its
/// table reads for that tag (min..max).
struct AllowedTlv {
  std::uint16_t tag;
  std::uint16_t min_len;
  std::uint16_t max_len;
};

/// receipted_message_id (§5.3.2.12), network_error_code (§5.3.2.31), message_state (§5.3.2.35),
/// message_payload (§5.3.2.32; libsmpp34 holds 1024 octets of it).
constexpr std::array<AllowedTlv, 4> kDeliverTlvs{
    {{0x001E, 1, 65}, {0x0423, 3, 3}, {0x0427, 1, 1}, {0x0424, 1, 1024}}};
/// sc_interface_version (§5.3.2.25).
constexpr std::array<AllowedTlv, 1> kBindRespTlvs{{{0x0210, 1, 1}}};

/// The PDU again with only the allowed optional parameters (each at most
/// once), the others dropped: SMPP 3.4 lets a receiver ignore optional
/// parameters it does not support (the clause was not confirmed here). A
/// malformed optional-parameter section is an error. The result ends with one
/// extra NUL octet that is not part of the PDU, so that no strlen inside
/// libsmpp34 can run past the buffer.
expected<Bytes, PduError> keep_tlvs(ByteView pdu, std::size_t mandatory_end, std::span<const AllowedTlv> allowed) {
  Bytes out(pdu.begin(), pdu.begin() + static_cast<std::ptrdiff_t>(mandatory_end));
  std::vector<bool> seen(allowed.size());
  std::size_t at = mandatory_end;
  while (at < pdu.size()) {
    if (pdu.size() - at < 4) return fail(PduError::Kind::Malformed, "truncated optional parameter");
    const std::uint16_t tag = static_cast<std::uint16_t>((pdu[at] << 8) | pdu[at + 1]);
    const std::size_t len = static_cast<std::size_t>((pdu[at + 2] << 8) | pdu[at + 3]);
    if (pdu.size() - at - 4 < len) return fail(PduError::Kind::Malformed, "optional parameter longer than the PDU");
    for (std::size_t i = 0; i < allowed.size(); ++i)
      if (allowed[i].tag == tag && !seen[i]) {
        seen[i] = true;
        if (len < allowed[i].min_len || len > allowed[i].max_len)
          return fail(PduError::Kind::Malformed, "optional parameter of a wrong length");
        out.insert(out.end(), pdu.begin() + static_cast<std::ptrdiff_t>(at),
                   pdu.begin() + static_cast<std::ptrdiff_t>(at + 4 + len));
      }
    at += 4 + len;
  }
  put32(out, 0, static_cast<std::uint32_t>(out.size()));
  out.push_back(0);
  return out;
}

/// The PDU plus the guard NUL, for bodies without optional parameters.
Bytes guarded(ByteView pdu) {
  Bytes out(pdu.begin(), pdu.end());
  out.push_back(0);
  return out;
}

/// Runs smpp34_unpack on `buf` (its last octet is the guard) into `t`, and
/// frees the optional-parameter list libsmpp34 allocates.
template <class T>
bool unpack(std::uint32_t command_id, T& t, const Bytes& buf) {
  std::lock_guard lock(library_mutex());
  const int rc = smpp34_unpack(command_id, &t, buf.data(), static_cast<int>(buf.size() - 1));
  if constexpr (requires { t.tlv; }) {
    destroy_tlv(t.tlv);
    t.tlv = nullptr;
  }
  return rc == 0;
}

template <class T>
expected<Bytes, PduError> pack(std::uint32_t command_id, T& t) {
  // Nothing we send comes near 4 KiB (a short message is at most 253 octets).
  std::array<std::uint8_t, 4096> buf{};
  int len = 0;
  std::lock_guard lock(library_mutex());
  if (smpp34_pack(command_id, buf.data(), static_cast<int>(buf.size()), &len, &t) != 0 || len < 16)
    return fail(PduError::Kind::Encode, "libsmpp34 could not pack the PDU");
  return Bytes(buf.begin(), buf.begin() + len);
}

expected<Pdu, PduError> decode_sm(ByteView pdu, Pdu out) {
  const bool deliver = out.command_id == static_cast<std::uint32_t>(Command::DeliverSm);
  // submit_sm §4.4.1 / deliver_sm §4.6.1; in deliver_sm the two times are empty.
  const std::size_t time_len = deliver ? 1 : 17;
  Walker w(pdu);
  if (!(w.cstr(6) && w.skip(2) && w.cstr(21) && w.skip(2) && w.cstr(21) && w.skip(3) && w.cstr(time_len) &&
        w.cstr(time_len) && w.skip(4) && w.octet_then_bytes()))
    return fail(PduError::Kind::Malformed, "mandatory fields do not fit");
  RSP_TRY(const Bytes buf, keep_tlvs(pdu, w.at(), deliver ? std::span<const AllowedTlv>(kDeliverTlvs)
                                                            : std::span<const AllowedTlv>()));
  SmBody body;
  auto fill = [&](const auto& t) {
    body.service_type = read_string(t.service_type);
    body.message.source = {read_string(t.source_addr), t.source_addr_ton, t.source_addr_npi};
    body.message.destination = {read_string(t.destination_addr), t.dest_addr_ton, t.dest_addr_npi};
    body.esm_class = t.esm_class;
    body.message.udhi = (t.esm_class & kEsmUdhi) != 0;
    body.message.protocol_id = t.protocol_id;
    body.priority = t.priority_flag;
    body.message.registered_delivery = t.registered_delivery;
    body.message.data_coding = t.data_coding;
    body.message.user_data.assign(t.short_message, t.short_message + t.sm_length);
  };
  if (deliver) {
    deliver_sm_t t{};
    std::optional<Bytes> payload;
    // The list is read before it is freed inside unpack(): copy it out there.
    std::lock_guard lock(library_mutex());
    const int rc = smpp34_unpack(DELIVER_SM, &t, buf.data(), static_cast<int>(buf.size() - 1));
    if (rc == 0) {
      fill(t);
      tlv_t* p = nullptr;
      smpp34_tlv_for_each(p, t.tlv) {
        if (p->tag == 0x001E) {
          const auto* s = reinterpret_cast<const char*>(p->value.octet);
          body.receipted_message_id = std::string(s, strnlen(s, p->length));
        } else if (p->tag == 0x0427) {
          body.message_state = p->value.val08;
        } else if (p->tag == 0x0424) {
          payload = Bytes(p->value.octet, p->value.octet + std::min<std::size_t>(p->length, sizeof p->value.octet));
        }
      }
    }
    destroy_tlv(t.tlv);
    if (rc != 0) return fail(PduError::Kind::Malformed, "deliver_sm does not decode");
    if (payload) {
      // §5.3.2.32: message_payload and short_message are not used together.
      if (t.sm_length != 0) return fail(PduError::Kind::Malformed, "both short_message and message_payload");
      body.message.user_data = std::move(*payload);
    }
  } else {
    submit_sm_t t{};
    if (!unpack(SUBMIT_SM, t, buf)) return fail(PduError::Kind::Malformed, "submit_sm does not decode");
    fill(t);
  }
  out.body = std::move(body);
  return out;
}

template <class T>
expected<Pdu, PduError> decode_bind(ByteView pdu, Pdu out) {
  Walker w(pdu);
  if (!(w.cstr(16) && w.cstr(9) && w.cstr(13) && w.skip(3) && w.cstr(41) && w.at() == pdu.size()))
    return fail(PduError::Kind::Malformed, "bind fields do not fit");
  T t{};
  if (!unpack(out.command_id, t, guarded(pdu))) return fail(PduError::Kind::Malformed, "bind does not decode");
  Bind b;
  b.system_id = read_string(t.system_id);
  b.password = read_string(t.password);
  b.system_type = read_string(t.system_type);
  b.addr_ton = t.addr_ton;
  b.addr_npi = t.addr_npi;
  b.address_range = read_string(t.address_range);
  out.body = std::move(b);
  return out;
}

template <class T>
expected<Pdu, PduError> decode_bind_resp(ByteView pdu, Pdu out) {
  Walker w(pdu);
  if (!w.cstr(16)) return fail(PduError::Kind::Malformed, "system_id does not fit");
  RSP_TRY(auto buf, keep_tlvs(pdu, w.at(), kBindRespTlvs));
  T t{};
  if (!unpack(out.command_id, t, buf)) return fail(PduError::Kind::Malformed, "bind response does not decode");
  out.body = BindResp{read_string(t.system_id)};
  return out;
}

template <class T>
expected<Pdu, PduError> decode_message_id(ByteView pdu, Pdu out, std::size_t max_with_nul) {
  Walker w(pdu);
  if (!(w.cstr(max_with_nul) && w.at() == pdu.size())) return fail(PduError::Kind::Malformed, "message_id does not fit");
  T t{};
  if (!unpack(out.command_id, t, guarded(pdu))) return fail(PduError::Kind::Malformed, "response does not decode");
  out.body = MessageIdResp{read_string(t.message_id)};
  return out;
}

template <class T>
void set_header(T& t, const Pdu& pdu) {
  t.command_id = pdu.command_id;
  t.command_status = pdu.status;
  t.sequence_number = pdu.sequence;
}

template <class T>
expected<Bytes, PduError> encode_bind(const Pdu& pdu, const Bind& b) {
  T t{};
  set_header(t, pdu);
  if (!write_string(t.system_id, b.system_id) || !write_string(t.password, b.password) ||
      !write_string(t.system_type, b.system_type) || !write_string(t.address_range, b.address_range))
    return fail(PduError::Kind::Encode, "a bind field is too long");
  t.interface_version = SMPP_VERSION;
  t.addr_ton = b.addr_ton;
  t.addr_npi = b.addr_npi;
  return pack(pdu.command_id, t);
}

template <class T>
expected<Bytes, PduError> encode_bind_resp(const Pdu& pdu, const BindResp& b) {
  T t{};
  set_header(t, pdu);
  if (!write_string(t.system_id, b.system_id)) return fail(PduError::Kind::Encode, "system_id is too long");
  return pack(pdu.command_id, t);
}

template <class T>
expected<Bytes, PduError> encode_sm(const Pdu& pdu, const SmBody& b) {
  T t{};
  set_header(t, pdu);
  const auto& m = b.message;
  if (!write_string(t.service_type, b.service_type) || !write_string(t.source_addr, m.source.digits) ||
      !write_string(t.destination_addr, m.destination.digits))
    return fail(PduError::Kind::Encode, "an address or the service type is too long");
  // libsmpp34 packs at most 253 octets of short_message.
  if (m.user_data.size() > 253) return fail(PduError::Kind::Encode, "short message too long");
  t.source_addr_ton = m.source.ton;
  t.source_addr_npi = m.source.npi;
  t.dest_addr_ton = m.destination.ton;
  t.dest_addr_npi = m.destination.npi;
  t.esm_class = static_cast<std::uint8_t>(m.udhi ? (b.esm_class | kEsmUdhi) : (b.esm_class & ~kEsmUdhi));
  t.protocol_id = m.protocol_id;
  t.priority_flag = b.priority;
  t.registered_delivery = m.registered_delivery;
  t.data_coding = m.data_coding;
  t.sm_length = static_cast<std::uint8_t>(m.user_data.size());
  if (!m.user_data.empty()) std::memcpy(t.short_message, m.user_data.data(), m.user_data.size());
  // Receipts carry receipted_message_id and message_state (deliver_sm only).
  tlv_t id{};
  tlv_t state{};
  if constexpr (std::is_same_v<T, deliver_sm_t>) {
    if (b.message_state) {
      state.tag = TLVID_message_state;
      state.length = 1;
      state.value.val08 = *b.message_state;
      t.tlv = &state;
    }
    if (b.receipted_message_id) {
      if (b.receipted_message_id->size() + 1 > 65) return fail(PduError::Kind::Encode, "receipted_message_id too long");
      id.tag = TLVID_receipted_message_id;
      id.length = static_cast<std::uint16_t>(b.receipted_message_id->size() + 1);
      std::memcpy(id.value.octet, b.receipted_message_id->c_str(), id.length);
      id.next = t.tlv;
      t.tlv = &id;
    }
  } else if (b.message_state || b.receipted_message_id) {
    return fail(PduError::Kind::Encode, "receipt parameters belong in deliver_sm");
  }
  return pack(pdu.command_id, t);
}

template <class T>
expected<Bytes, PduError> encode_message_id(const Pdu& pdu, const MessageIdResp& b) {
  T t{};
  set_header(t, pdu);
  if (!write_string(t.message_id, b.message_id)) return fail(PduError::Kind::Encode, "message_id is too long");
  return pack(pdu.command_id, t);
}

}  // namespace

expected<std::size_t, PduError> frame_length(ByteView buffer) {
  if (buffer.size() < kHeaderSize) return std::size_t{0};
  const std::uint32_t len = be32(buffer.data());
  if (len < kHeaderSize || len > kMaxPduSize)
    return fail(PduError::Kind::Framing, "command_length " + std::to_string(len) + " out of range");
  return static_cast<std::size_t>(len);
}

Pdu read_header(ByteView pdu) {
  Pdu p;
  if (pdu.size() < kHeaderSize) return p;
  p.command_id = be32(pdu.data() + 4);
  p.status = be32(pdu.data() + 8);
  p.sequence = be32(pdu.data() + 12);
  return p;
}

expected<Pdu, PduError> decode(ByteView pdu) {
  RSP_TRY(const auto len, frame_length(pdu));
  if (len == 0 || len != pdu.size()) return fail(PduError::Kind::Framing, "command_length differs from the PDU's size");
  Pdu out = read_header(pdu);
  // SMPP 3.4 §3.2: sequence numbers run from 1 to 0x7FFFFFFF.
  if (out.sequence == 0 || out.sequence > 0x7FFFFFFF) return fail(PduError::Kind::Malformed, "sequence number out of range");
  if (!is_response(out.command_id) && out.status != status::kOk)
    return fail(PduError::Kind::Malformed, "a request with a non-zero command_status");
  const auto cmd = static_cast<Command>(out.command_id);
  switch (cmd) {
    case Command::GenericNack:
    case Command::EnquireLink:
    case Command::EnquireLinkResp:
    case Command::Unbind:
    case Command::UnbindResp:
      if (pdu.size() != kHeaderSize) return fail(PduError::Kind::Malformed, "header-only PDU with a body");
      return out;
    default:
      break;
  }
  // A response with an error status may omit its body (§4.1.2, §4.4.2): the header says it all.
  if (is_response(out.command_id) && out.status != status::kOk) {
    switch (cmd) {
      case Command::BindReceiverResp:
      case Command::BindTransmitterResp:
      case Command::BindTransceiverResp:
      case Command::SubmitSmResp:
      case Command::DeliverSmResp:
        return out;
      default:
        return fail(PduError::Kind::UnknownCommand, "unknown command_id");
    }
  }
  switch (cmd) {
    case Command::BindTransmitter: return decode_bind<bind_transmitter_t>(pdu, std::move(out));
    case Command::BindReceiver: return decode_bind<bind_receiver_t>(pdu, std::move(out));
    case Command::BindTransceiver: return decode_bind<bind_transceiver_t>(pdu, std::move(out));
    case Command::BindTransmitterResp: return decode_bind_resp<bind_transmitter_resp_t>(pdu, std::move(out));
    case Command::BindReceiverResp: return decode_bind_resp<bind_receiver_resp_t>(pdu, std::move(out));
    case Command::BindTransceiverResp: return decode_bind_resp<bind_transceiver_resp_t>(pdu, std::move(out));
    case Command::SubmitSm:
    case Command::DeliverSm: return decode_sm(pdu, std::move(out));
    case Command::SubmitSmResp: return decode_message_id<submit_sm_resp_t>(pdu, std::move(out), 65);
    case Command::DeliverSmResp: return decode_message_id<deliver_sm_resp_t>(pdu, std::move(out), 1);
    default: return fail(PduError::Kind::UnknownCommand, "unknown command_id");
  }
}

expected<Bytes, PduError> encode(const Pdu& pdu) {
  if (pdu.sequence == 0 || pdu.sequence > 0x7FFFFFFF) return fail(PduError::Kind::Encode, "sequence number out of range");
  const auto cmd = static_cast<Command>(pdu.command_id);
  if (std::holds_alternative<std::monostate>(pdu.body)) {
    // Header-only PDUs, and responses that carry an error status: 16 octets.
    Bytes out(kHeaderSize);
    put32(out, 0, kHeaderSize);
    put32(out, 4, pdu.command_id);
    put32(out, 8, pdu.status);
    put32(out, 12, pdu.sequence);
    return out;
  }
  if (const auto* b = std::get_if<Bind>(&pdu.body)) {
    if (cmd == Command::BindTransmitter) return encode_bind<bind_transmitter_t>(pdu, *b);
    if (cmd == Command::BindReceiver) return encode_bind<bind_receiver_t>(pdu, *b);
    if (cmd == Command::BindTransceiver) return encode_bind<bind_transceiver_t>(pdu, *b);
  } else if (const auto* r = std::get_if<BindResp>(&pdu.body)) {
    if (cmd == Command::BindTransmitterResp) return encode_bind_resp<bind_transmitter_resp_t>(pdu, *r);
    if (cmd == Command::BindReceiverResp) return encode_bind_resp<bind_receiver_resp_t>(pdu, *r);
    if (cmd == Command::BindTransceiverResp) return encode_bind_resp<bind_transceiver_resp_t>(pdu, *r);
  } else if (const auto* s = std::get_if<SmBody>(&pdu.body)) {
    if (cmd == Command::SubmitSm) return encode_sm<submit_sm_t>(pdu, *s);
    if (cmd == Command::DeliverSm) return encode_sm<deliver_sm_t>(pdu, *s);
  } else if (const auto* m = std::get_if<MessageIdResp>(&pdu.body)) {
    if (cmd == Command::SubmitSmResp) return encode_message_id<submit_sm_resp_t>(pdu, *m);
    if (cmd == Command::DeliverSmResp) return encode_message_id<deliver_sm_resp_t>(pdu, *m);
  }
  return fail(PduError::Kind::Encode, "body does not match command_id");
}

}  // namespace rsp::smpp
