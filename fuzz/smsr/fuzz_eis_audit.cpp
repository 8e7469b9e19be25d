// The SM-SR reading an eUICC's AuditEIS answer (smsr/eis_audit.hpp): the
// first byte splits the input into the GET STATUS and the GET DATA answers
// (status words 9000), the rest is untrusted card data. Whatever parses is
// applied to a fixed EIS: no crash, no profile invented, the summary counts
// what the change holds.

#include <cstdint>
#include <cstdlib>

#include "rsp/smsr/eis_audit.hpp"

using namespace rsp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t split = std::min<std::size_t>(data[0], size - 1);
  const Bytes rest(data + 1, data + size);
  std::vector<apdu::Response> answers = {{Bytes(rest.begin(), rest.begin() + static_cast<long>(split)), 0x9000},
                                         {Bytes(rest.begin() + static_cast<long>(split), rest.end()), 0x9000}};
  auto audit = smsr::parse_eis_audit(answers);
  if (!audit) return 0;
  if (audit->isdps.empty()) std::abort();  // an empty list is no answer
  m2m::Eis eis;
  for (std::uint8_t i = 0; i < 3; ++i) {
    m2m::ProfileInfo p;
    p.iccid = "890000000000000000" + std::to_string(i);
    p.isdp_aid = Bytes{0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, static_cast<std::uint8_t>(i)};
    eis.profiles.push_back(p);
  }
  smsr::Change change;
  (void)smsr::apply_eis_audit(*audit, eis, change);
  if (eis.profiles.size() != 3 || change.put.size() + change.deleted.size() > 3) std::abort();
  return 0;
}
