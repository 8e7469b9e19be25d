// The ISD-R running an expanded remote command script.

#include "rsp/euicc_m2m/ram_script.hpp"

#include "rsp/apdu/status_words.hpp"

namespace rsp::euicc_m2m {

namespace {

bool is_error(std::uint16_t sw) {
  const auto sw1 = static_cast<std::uint8_t>(sw >> 8);
  return sw1 != 0x90 && sw1 != 0x61 && sw1 != 0x62 && sw1 != 0x63;
}

}  // namespace

ota::ResponseScript run_script(M2mIsdR& isd_r, const ota::CommandScript& script) {
  ota::ResponseScript out;
  // The script's changes in one durable write, before its answer.
  const bool saved =
      isd_r.in_one_save([&] { out = run_script([&](ByteView c_apdu) { return isd_r.execute(c_apdu); }, script); });
  if (!saved) {
    // None of it was kept: the first command answers the memory failure.
    out.r_apdus = {apdu::Response{{}, apdu::sw::kMemoryFailure}};
    out.executed = 1;
  }
  return out;
}

ota::ResponseScript run_script(const std::function<Bytes(ByteView)>& execute, const ota::CommandScript& script) {
  ota::ResponseScript out;
  std::uint8_t executed = 0;
  for (const auto& item : script.items) {
    if (item.tag != ota::ram_tag::kCApdu) continue;
    auto r_apdu = apdu::parse_response(execute(item.value));
    // execute() always answers at least SW1 SW2; a parse failure would be a bug.
    apdu::Response r = r_apdu ? std::move(*r_apdu) : apdu::Response{{}, 0x6F00};
    const bool stop = is_error(r.sw);
    out.r_apdus.push_back(std::move(r));
    if (executed < 0xFF) ++executed;
    if (stop) break;
  }
  out.executed = executed;
  return out;
}

}  // namespace rsp::euicc_m2m
