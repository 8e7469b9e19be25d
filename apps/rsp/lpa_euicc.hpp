#pragma once
/// `rsp lpa --euicc ...`: the eUICC the LPA commands talk to, either the
/// simulated card in a folder (`sim:DIR`, or a bare DIR as `rsp lpa download`
/// always took it) in this process, or a card in a PC/SC reader
/// (`pcsc` = the first reader with a card, `pcsc:NAME` = a reader whose name
/// contains NAME) reached on a logical channel of its own. Either way the
/// commands see one ES10 channel with the ISD-R selected.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/common/expected.hpp"
#include "rsp/lpa/es10_channel.hpp"

namespace rsp::cli {

struct EuiccSpec {
  std::string target;    ///< sim:DIR, DIR, pcsc or pcsc:READER
  std::string isdr_aid;  ///< hex; empty = SGP.22's default ISD-R AID
};

class LpaEuicc {
 public:
  virtual ~LpaEuicc() = default;
  virtual lpa::Es10Channel& es10() = 0;
  /// The CI certificates (DER) the simulated card holds (empty for a real
  /// card: its CI certificates are not readable; the user names them).
  virtual std::vector<Bytes> ci_certificates() const { return {}; }
  /// "simulated eUICC in DIR" / "PC/SC reader 'NAME'".
  virtual std::string describe() const = 0;
};

/// Opens the eUICC and selects its ISD-R, or says in words why it could not.
expected<std::unique_ptr<LpaEuicc>, std::string> open_lpa_euicc(const EuiccSpec& spec);

}  // namespace rsp::cli
