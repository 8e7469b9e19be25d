// The SM-SR's SMS wake-up: SCP80 command packet, SMS segments, SMSC.

#include "rsp/es5/wake_up.hpp"

#include "rsp/ota/command_sms.hpp"
#include "rsp/ota/ram.hpp"

namespace rsp::es5 {

namespace scp80 = crypto::scp80;

WakeUpSender::WakeUpSender(smpp::SmsTransport& transport, CounterSource counters, WakeUpOptions options)
    : transport_(transport), counters_(std::move(counters)), options_(std::move(options)) {}

Es5Result<std::vector<std::string>> WakeUpSender::send_trigger(const WakeUpTarget& target,
                                                               const ota::AdminSessionTrigger& trigger) {
  auto data = ota::encode(trigger);
  if (!data) return es5_fail(Es5ErrorCode::InvalidArgument, "trigger: " + data.error().to_string());
  return send(target, *data);
}

Es5Result<std::vector<std::string>> WakeUpSender::send_script(const WakeUpTarget& target,
                                                              const std::vector<Bytes>& c_apdus) {
  auto data = ota::encode(ota::command_script(c_apdus));
  if (!data) return es5_fail(Es5ErrorCode::InvalidArgument, "script: " + data.error().to_string());
  return send(target, *data);
}

Es5Result<std::vector<std::string>> WakeUpSender::send(const WakeUpTarget& target, ByteView secured_data) {
  if (target.msisdn.digits.empty()) return es5_fail(Es5ErrorCode::InvalidArgument, "no MSISDN for " + target.eid);
  if (target.key_version == 0 || target.key_version > 15)
    return es5_fail(Es5ErrorCode::InvalidArgument, "SCP80 key version outside 1..15");
  scp80::CommandHeader header;
  header.spi = target.spi;
  if (target.triple_des) {
    // TS 102 225 §5.1.2 / §5.1.3: 3DES with two keys (16 bytes) or three (24).
    const auto mode = [](const Bytes& key) {
      return key.size() == 24 ? scp80::DesMode::TripleDes3Key : scp80::DesMode::TripleDes2Key;
    };
    header.kic = scp80::des_key_identifier(mode(target.keys.kic), target.key_version);
    header.kid = scp80::des_key_identifier(mode(target.keys.kid), target.key_version);
  } else {
    header.kic = scp80::aes_key_identifier(target.key_version);
    header.kid = scp80::aes_key_identifier(target.key_version);
  }
  header.tar = target.tar;
  if (target.spi.counter != scp80::CounterMode::None) {
    if (!target.counter && !counters_) return es5_fail(Es5ErrorCode::Counter, "no counter source");
    auto counter = target.counter ? expected<std::uint64_t, std::string>(*target.counter)
                                  : counters_(target.eid, target.key_version);
    if (!counter) return es5_fail(Es5ErrorCode::Counter, "counter for " + target.eid + ": " + counter.error());
    if (*counter > scp80::kMaxCounter) return es5_fail(Es5ErrorCode::Counter, "counter exhausted for " + target.eid);
    header.counter = *counter;
  }
  auto segments = ota::build_command_user_data(header, target.keys, secured_data, concat_reference_++);
  if (!segments) return es5_fail(Es5ErrorCode::Secure, "command packet: " + segments.error().to_string());
  std::vector<std::string> ids;
  for (auto& ud : *segments) {
    smpp::ShortMessage msg;
    msg.source = options_.source;
    msg.destination = target.msisdn;
    msg.protocol_id = smpp::kPidSimDataDownload;
    msg.data_coding = smpp::kDcs8BitClass2;
    msg.udhi = true;
    msg.registered_delivery = options_.delivery_receipt ? 1 : 0;
    msg.user_data = std::move(ud);
    auto id = transport_.submit(msg);
    if (!id) {
      return es5_fail(Es5ErrorCode::Transport, std::string("SMSC (") + smpp::kind_name(id.error().kind) +
                                                   "): " + id.error().message);
    }
    ids.push_back(std::move(*id));
  }
  return ids;
}

}  // namespace rsp::es5
