#pragma once
// The simulated eUICC of a card folder as a reader sees it: its ISD-R and
// ECASD on a card, reached by the LPA over ES10 APDUs. Select the ISD-R
// (es10.select_isd_r()) before the first ES10 command.

#include <memory>

#include "rsp/card/card.hpp"
#include "rsp/euicc/isd_r.hpp"
#include "rsp/euicc/store.hpp"
#include "rsp/lpa/es10_channel.hpp"

namespace rsp::e2e {

struct SimulatedCard {
  explicit SimulatedCard(const euicc::EuiccStore& store) {
    card.add_application(std::make_shared<euicc::IsdR>(store));
    card.add_application(std::make_shared<card::MinimalEcasd>());
  }
  SimulatedCard(const SimulatedCard&) = delete;  // es10 talks to this card
  SimulatedCard& operator=(const SimulatedCard&) = delete;

  card::Card card;
  lpa::ApduEs10Channel es10 = lpa::card_channel(card);
};

}  // namespace rsp::e2e
