// The eUICC behind `rsp lpa --euicc`: the simulated card in a folder or a
// card in a PC/SC reader (lpa_euicc.hpp).

#include <memory>

#include "lpa_euicc.hpp"
#include "rsp/card/card.hpp"
#include "rsp/euicc/isd_r.hpp"
#include "rsp/euicc/store.hpp"
#ifdef RSP_HAVE_PCSC
#include "rsp/card/transport/pcsc.hpp"
#endif

namespace rsp::cli {
namespace {

std::string es10_words(const lpa::Es10Error& e) {
  if (e.kind == lpa::Es10Error::Kind::Status && e.sw == 0x6A82) {
    return "the card has no ISD-R with that AID (status 6A82): is it an eUICC? (a custom ISD-R AID: --isdr-aid)";
  }
  return e.message;
}

class SimEuicc final : public LpaEuicc {
 public:
  SimEuicc(euicc::EuiccStore store, std::string dir) : store_(std::move(store)), dir_(std::move(dir)) {
    card_.add_application(std::make_shared<euicc::IsdR>(store_));
    card_.add_application(std::make_shared<card::MinimalEcasd>());
  }
  lpa::Es10Channel& es10() override { return channel_; }
  lpa::ApduEs10Channel& apdu_channel() { return channel_; }
  std::vector<Bytes> ci_certificates() const override {
    std::vector<Bytes> out;
    if (auto id = store_.identity()) {
      for (const auto& c : id->curves) out.push_back(c.ci_cert);
    }
    return out;
  }
  std::string describe() const override { return "simulated eUICC in " + dir_; }

 private:
  euicc::EuiccStore store_;
  std::string dir_;
  card::Card card_;
  lpa::ApduEs10Channel channel_ = lpa::card_channel(card_);
};

#ifdef RSP_HAVE_PCSC
class PcscEuicc final : public LpaEuicc {
 public:
  PcscEuicc(std::unique_ptr<card::transport::PcscCard> card, std::uint8_t channel)
      : card_(std::move(card)), transmit_(card_->transmit()), channel_(transmit_, channel), number_(channel) {}
  ~PcscEuicc() override { lpa::close_logical_channel(transmit_, number_); }
  lpa::Es10Channel& es10() override { return channel_; }
  lpa::ApduEs10Channel& apdu_channel() { return channel_; }
  std::string describe() const override { return "PC/SC reader '" + card_->reader_name() + "'"; }

 private:
  std::unique_ptr<card::transport::PcscCard> card_;
  apdu::Transmit transmit_;
  lpa::ApduEs10Channel channel_;
  std::uint8_t number_;
};
#endif

}  // namespace

expected<std::unique_ptr<LpaEuicc>, std::string> open_lpa_euicc(const EuiccSpec& spec) {
  Bytes aid(std::begin(card::kIsdRAid), std::end(card::kIsdRAid));
  if (!spec.isdr_aid.empty()) {
    auto parsed = from_hex(spec.isdr_aid);
    if (!parsed || parsed->size() < 5 || parsed->size() > 16) {
      return unexpected(std::string("--isdr-aid wants 5 to 16 bytes in hex"));
    }
    aid = std::move(*parsed);
  }
  const std::string& t = spec.target;
  if (t.empty()) return unexpected(std::string("say which eUICC: --euicc sim:DIR or --euicc pcsc[:READER]"));
  if (t == "pcsc" || t.starts_with("pcsc:")) {
#ifdef RSP_HAVE_PCSC
    auto card = card::transport::PcscCard::connect(t == "pcsc" ? std::string() : t.substr(5));
    if (!card) return unexpected(card.error());
    const auto transmit = (*card)->transmit();
    // A channel of our own, so that the modem's or another LPA's selection
    // on the basic channel is left alone (SGP.22 §5.7.2: ES10 on any channel).
    auto channel = lpa::open_logical_channel(transmit);
    if (!channel) {
      return unexpected("PC/SC reader '" + (*card)->reader_name() + "': no logical channel: " +
                        ((*card)->last_error().empty() ? channel.error().message : (*card)->last_error()));
    }
    auto e = std::make_unique<PcscEuicc>(std::move(*card), *channel);
    if (auto s = e->apdu_channel().select_isd_r(aid); !s) {
      return unexpected(e->describe() + ": " + es10_words(s.error()));
    }
    return std::unique_ptr<LpaEuicc>(std::move(e));
#else
    return unexpected(std::string("this rsp was built without PC/SC (install libpcsclite-dev and rebuild)"));
#endif
  }
  const std::string dir = t.starts_with("sim:") ? t.substr(4) : t;
  auto store = euicc::EuiccStore::open(dir);
  if (!store) return unexpected("eUICC folder " + dir + ": " + store.error().message);
  auto e = std::make_unique<SimEuicc>(std::move(*store), dir);
  if (auto s = e->apdu_channel().select_isd_r(aid); !s) return unexpected(e->describe() + ": " + es10_words(s.error()));
  return std::unique_ptr<LpaEuicc>(std::move(e));
}

}  // namespace rsp::cli
