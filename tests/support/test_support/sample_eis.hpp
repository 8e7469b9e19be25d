#pragma once
// A well-formed EIS in its JSON binding (rsp/m2m/eis_json.hpp) for the EIS,
// SM-SR registry and ES1/ES4 tests: a bootstrap profile of mno1 (enabled,
// fallback, POL2 "disable not allowed"), a second profile of mno1 (disabled)
// and one of mno2 (disabled, auto-delete). The key values are test values;
// the SCP81 PSK identity is "01" and the EID's last eight digits, so samples
// of different EIDs register side by side (an identity is one eUICC's).

#include <string>

#include <nlohmann/json.hpp>

namespace rsp::test_support {

inline nlohmann::json sample_eis(const std::string& eid = "89049032123451234512345678901235",
                                 const std::string& ecasd_certificate_hex = "3082") {
  nlohmann::json j = nlohmann::json::parse(R"({
    "eumId": "EUM-TEST",
    "productionDate": "2026-01-15",
    "platformType": "rsp-sim",
    "platformVersion": "1.0",
    "remainingMemory": 200000,
    "availableMemoryForProfiles": 150000,
    "smsrId": "SMSR-TEST",
    "isdR": {
      "aid": "A0000005591010FFFFFFFF8900000100",
      "scp80KeySets": [{"version": 1, "algorithm": "AES", "kic": "11111111111111111111111111111111",
                        "kid": "22222222222222222222222222222222", "counter": 5}],
      "scp81Psk": {"identity": "0102030405", "key": "33333333333333333333333333333333"}
    },
    "ecasd": {"aid": "A0000005591010FFFFFFFF8900000200"},
    "profiles": [
      {"iccid": "8944000000000000011", "isdpAid": "A0000005591010FFFFFFFF8900001000", "mnoId": "mno1",
       "smdpId": "SMDP-TEST", "state": "Enabled", "fallbackAttribute": true,
       "subscriptionAddress": {"msisdn": "447700900001"},
       "pol2": [{"subject": "PROFILE", "action": "DISABLE", "qualification": "Not allowed"}],
       "connectivityParameters": "A0038001FF", "allocatedMemory": 30000},
      {"iccid": "8944000000000000029", "isdpAid": "A0000005591010FFFFFFFF8900001100", "mnoId": "mno1",
       "state": "Disabled", "subscriptionAddress": {"msisdn": "447700900002"}, "allocatedMemory": 30000},
      {"iccid": "8933000000000000037", "isdpAid": "A0000005591010FFFFFFFF8900001200", "mnoId": "mno2",
       "state": "Disabled", "subscriptionAddress": {"imsi": "208011234567890"},
       "pol2": [{"subject": "PROFILE", "action": "DELETE", "qualification": "Auto-delete"}],
       "allocatedMemory": 30000}
    ]
  })");
  j["eid"] = eid;
  if (eid.size() >= 8) j["isdR"]["scp81Psk"]["identity"] = "01" + eid.substr(eid.size() - 8);
  j["ecasd"] = {{"aid", "A0000005591010FFFFFFFF8900000200"}, {"certificate", ecasd_certificate_hex}};
  return j;
}

/// sample_eis() as an SM-DP or an MNO is shown it (no ISD-R key), managed by
/// the SM-SR `smsr_id` (an SM-SR change notification's EIS).
inline nlohmann::json keyless_sample_eis(const std::string& eid = "89049032123451234512345678901235",
                                         const std::string& smsr_id = "smsr-2") {
  nlohmann::json j = sample_eis(eid);
  j["isdR"].erase("scp80KeySets");
  j["isdR"].erase("scp81Psk");
  j["smsrId"] = smsr_id;
  return j;
}

}  // namespace rsp::test_support
