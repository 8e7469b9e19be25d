#pragma once
// A test ES10 application standing in for the ISD-R: echoes each ES10 command,
// answers "BB hi lo" with hi*256+lo bytes of pattern, and "EE s1 s2" with
// status word s1s2; it records what it saw.

#include <vector>

#include "rsp/card/card.hpp"

namespace rsp::card::test {

class EchoApp : public Es10Application {
 public:
  explicit EchoApp(ByteView aid = kIsdRAid, Es10Limits limits = {})
      : Es10Application(limits), aid_(aid.begin(), aid.end()) {}
  ByteView aid() const override { return aid_; }
  Bytes select_response() override { return make_fci(aid_); }

  std::vector<Bytes> commands;
  std::vector<std::uint8_t> channels;
  std::vector<std::uint8_t> deselected;

 protected:
  expected<Bytes, std::uint16_t> process_es10(ByteView command, std::uint8_t channel) override {
    commands.emplace_back(command.begin(), command.end());
    channels.push_back(channel);
    if (command.size() == 3 && command[0] == 0xEE) {
      return unexpected(static_cast<std::uint16_t>((command[1] << 8) | command[2]));
    }
    if (command.size() == 3 && command[0] == 0xBB) {
      Bytes out(static_cast<std::size_t>((command[1] << 8) | command[2]));
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(i * 7 + 1);
      return out;
    }
    return Bytes(command.begin(), command.end());
  }
  void on_es10_deselect(std::uint8_t channel) override { deselected.push_back(channel); }

 private:
  Bytes aid_;
};

}  // namespace rsp::card::test
