#include "rsp/card/gp_security_domain.hpp"

#include <type_traits>

#include "rsp/apdu/status_words.hpp"

namespace rsp::card {

namespace {

apdu::Response status(std::uint16_t sw) { return apdu::Response{{}, sw}; }
apdu::Response not_supported() { return status(apdu::sw::kFunctionNotSupported); }

}  // namespace

GpSecurityDomain::GpSecurityDomain(Bytes aid, Scp03KeySet key_set)
    : aid_(std::move(aid)), key_set_(std::move(key_set)) {}

const Scp03KeySet* GpSecurityDomain::scp03_key_set(std::uint8_t key_version) const {
  return key_version == 0 || key_version == key_set_.key_version ? &key_set_ : nullptr;
}

apdu::Response GpSecurityDomain::process(const ApduCommand& command) {
  if (!command.proprietary) return status(apdu::sw::kClaNotSupported);
  auto decoded = gp::decode(command.apdu);
  if (!decoded) return status(gp::status_word(decoded.error()));
  const bool secured = (command.security_level & required_level_) == required_level_;
  return std::visit(
      [&](const auto& c) -> apdu::Response {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, gp::Envelope>) {
          return on_envelope(c, command);
        } else if constexpr (std::is_same_v<T, gp::GetData>) {
          return on_get_data(c, command);
        } else {
          if (!secured) return status(apdu::sw::kSecurityStatusNotSatisfied);
          if constexpr (std::is_same_v<T, gp::Install>) return on_install(c, command);
          if constexpr (std::is_same_v<T, gp::Delete>) return on_delete(c, command);
          if constexpr (std::is_same_v<T, gp::PutKey>) return on_put_key(c, command);
          if constexpr (std::is_same_v<T, gp::StoreData>) return on_store_data(c, command);
          if constexpr (std::is_same_v<T, gp::GetStatus>) return on_get_status(c, command);
          if constexpr (std::is_same_v<T, gp::SetStatus>) return on_set_status(c, command);
        }
      },
      *decoded);
}

apdu::Response GpSecurityDomain::on_install(const gp::Install&, const ApduCommand&) { return not_supported(); }
apdu::Response GpSecurityDomain::on_delete(const gp::Delete&, const ApduCommand&) { return not_supported(); }
apdu::Response GpSecurityDomain::on_put_key(const gp::PutKey&, const ApduCommand&) { return not_supported(); }
apdu::Response GpSecurityDomain::on_store_data(const gp::StoreData&, const ApduCommand&) { return not_supported(); }
apdu::Response GpSecurityDomain::on_get_status(const gp::GetStatus&, const ApduCommand&) { return not_supported(); }
apdu::Response GpSecurityDomain::on_get_data(const gp::GetData&, const ApduCommand&) { return not_supported(); }
apdu::Response GpSecurityDomain::on_set_status(const gp::SetStatus&, const ApduCommand&) { return not_supported(); }
apdu::Response GpSecurityDomain::on_envelope(const gp::Envelope&, const ApduCommand&) { return not_supported(); }

}  // namespace rsp::card
