#pragma once
/// A generic GlobalPlatform security domain (GP Card Spec v2.3 §7, §11) on
/// the card's APDU layer: it decodes the GP commands (gp_commands.hpp),
/// requires the secure channel where GlobalPlatform does, and hands each
/// typed command to a hook. An M2M ISD-R (SGP.02) is a thin layer on it:
/// create an ISD-P = INSTALL, enable / disable = STORE DATA, delete an ISD-P
/// = DELETE, key establishment = PUT KEY / STORE DATA, SMS wake-up = ENVELOPE.
///
/// Every hook answers an apdu::Response; the defaults refuse with 6A81
/// (function not supported), so a subclass overrides what it implements.

#include <cstdint>

#include "rsp/card/application.hpp"
#include "rsp/card/gp_commands.hpp"
#include "rsp/card/secure_channel.hpp"

namespace rsp::card {

class GpSecurityDomain : public Application {
 public:
  /// `aid` the domain's AID; `key_set` its SCP03 keys.
  GpSecurityDomain(Bytes aid, Scp03KeySet key_set);

  ByteView aid() const override { return aid_; }
  const Scp03KeySet* scp03_key_set(std::uint8_t key_version) const override;
  apdu::Response process(const ApduCommand& command) final;

  /// The least secure-channel level the content-management commands
  /// (INSTALL, DELETE, PUT KEY, STORE DATA, SET STATUS, GET STATUS) need:
  /// C-MAC by default. 6982 below it.
  void set_required_level(std::uint8_t level) { required_level_ = level; }

 protected:
  virtual apdu::Response on_install(const gp::Install& command, const ApduCommand& apdu);
  virtual apdu::Response on_delete(const gp::Delete& command, const ApduCommand& apdu);
  virtual apdu::Response on_put_key(const gp::PutKey& command, const ApduCommand& apdu);
  virtual apdu::Response on_store_data(const gp::StoreData& command, const ApduCommand& apdu);
  virtual apdu::Response on_get_status(const gp::GetStatus& command, const ApduCommand& apdu);
  virtual apdu::Response on_get_data(const gp::GetData& command, const ApduCommand& apdu);
  virtual apdu::Response on_set_status(const gp::SetStatus& command, const ApduCommand& apdu);
  /// ENVELOPE (SMS-PP data download): the secured packet in the TPDU
  /// carries its own protection (SCP80), so no secure channel is required.
  virtual apdu::Response on_envelope(const gp::Envelope& command, const ApduCommand& apdu);

 private:
  Bytes aid_;
  Scp03KeySet key_set_;
  std::uint8_t required_level_ = crypto::scp03_level::kCMac;
};

}  // namespace rsp::card
