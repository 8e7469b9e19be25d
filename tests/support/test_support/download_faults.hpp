#pragma once
// Faults of a download for the retry tests (SGP.22 v2.2.2 §5.6.2, §5.7.5): a
// link to the eUICC that drops in the middle of LoadBoundProfilePackage, and
// an ES9+ transport that notes the one-time keys every session used. Header
// only: the tests that include it link rsp_lpa and rsp_messages.

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "rsp/lpa/es10_channel.hpp"
#include "rsp/lpa/es9_transport.hpp"
#include "rsp/messages/es9_json.hpp"

namespace rsp::test_support {

/// The eUICC's link drops once during a LoadBoundProfilePackage, at the
/// `fail_at`-th command of the load (1: the segment with BF36/BF23); with
/// `stays_down` every later command fails too, until reconnect().
class DroppingChannel final : public lpa::Es10Channel {
 public:
  DroppingChannel(lpa::Es10Channel& inner, int fail_at, bool stays_down)
      : inner_(inner), fail_at_(fail_at), stays_down_(stays_down) {}
  expected<Bytes, lpa::Es10Error> send(ByteView c) override {
    const bool es10_command = c.size() > 1 && c[0] == 0xBF;
    if (es10_command) load_count_ = c[1] == 0x36 ? std::optional<int>(0) : std::nullopt;
    if (load_count_ && ++*load_count_ == fail_at_ && !dropped_) {
      dropped_ = true;
      down_ = true;
    }
    if (down_) {
      down_ = stays_down_;
      return unexpected(lpa::Es10Error{lpa::Es10Error::Kind::Transport, 0, "link to the card lost"});
    }
    return inner_.send(c);
  }
  void reconnect() { down_ = false; }
  bool dropped() const { return dropped_; }

 private:
  lpa::Es10Channel& inner_;
  int fail_at_;
  bool stays_down_;
  std::optional<int> load_count_;
  bool dropped_ = false, down_ = false;
};

/// ES9+ to the SM-DP+, noting the one-time keys each session used: the
/// bppEuiccOtpk of AuthenticateClient, the eUICC's otPK and the SM-DP+'s.
class KeyWatchingEs9 final : public lpa::Es9Transport {
 public:
  explicit KeyWatchingEs9(lpa::Es9Transport& inner) : inner_(inner) {}
  expected<lpa::HttpReply, lpa::TransportError> post(std::string_view address, std::string_view path,
                                           std::string_view body) override {
    auto reply = inner_.post(address, path, body);
    if (!reply || reply->status != 200) return reply;
    if (path.ends_with("/authenticateClient")) {
      if (auto ok = messages::es9::decode_authenticate_client_response(reply->body))
        bpp_euicc_otpk.push_back(ok->prepareDownloadRequest.smdpSigned2.bppEuiccOtpk);
    } else if (path.ends_with("/getBoundProfilePackage")) {
      auto req = messages::es9::decode_get_bound_profile_package_request(body);
      auto ok = messages::es9::decode_get_bound_profile_package_response(reply->body);
      if (req && ok && req->prepareDownloadResponse.downloadResponseOk()) {
        euicc_otpk.push_back(req->prepareDownloadResponse.downloadResponseOk()->euiccSigned2.euiccOtpk);
        smdp_otpk.push_back(ok->boundProfilePackage.initialiseSecureChannelRequest.smdpOtpk);
        if (after_bpp) after_bpp();
      }
    }
    return reply;
  }
  std::vector<std::optional<Bytes>> bpp_euicc_otpk;
  std::vector<Bytes> euicc_otpk, smdp_otpk;
  std::function<void()> after_bpp;

 private:
  lpa::Es9Transport& inner_;
};

}  // namespace rsp::test_support
