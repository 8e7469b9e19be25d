// AuditEIS's answer: parsed strictly (missing, refused or malformed answers
// give nothing), and applied to the EIS: states and attributes taken from
// the card, vanished ISD-Ps dropped, the free memory recorded.
#include <gtest/gtest.h>

#include "rsp/smsr/eis_audit.hpp"

namespace rsp::smsr {
namespace {

const Bytes kAidA = Bytes{0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0x01};
const Bytes kAidB = Bytes{0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0x02};
const Bytes kAidC = Bytes{0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0x03};

std::vector<apdu::Response> answer() {
  std::vector<m2m::IsdpStatus> list = {{kAidA, m2m::IsdpState::kEnabled, Bytes(10, 0x98), true, false, 0},
                                       {kAidB, m2m::IsdpState::kDisabled, Bytes(10, 0x89), false, true, 0}};
  m2m::CardResources r{4, 123456, 2048};
  return {{m2m::encode_isdp_status(list), 0x9000}, {m2m::encode_card_resources(r), 0x9000}};
}

m2m::ProfileInfo profile(const std::string& iccid, const Bytes& aid, m2m::ProfileState state) {
  m2m::ProfileInfo p;
  p.iccid = iccid;
  p.isdp_aid = aid;
  p.mno_id = "mno";
  p.state = state;
  return p;
}

TEST(EisAudit, AWholeAnswerParses) {
  auto audit = parse_eis_audit(answer());
  ASSERT_TRUE(audit);
  ASSERT_EQ(audit->isdps.size(), 2u);
  EXPECT_EQ(audit->isdps[1].state, m2m::IsdpState::kDisabled);
  ASSERT_TRUE(audit->resources);
  EXPECT_EQ(audit->resources->free_non_volatile, 123456u);
  // Without the memory answer: the ISD-Ps alone.
  auto first = answer();
  first.pop_back();
  auto only = parse_eis_audit(first);
  ASSERT_TRUE(only);
  EXPECT_FALSE(only->resources);
}

TEST(EisAudit, MissingRefusedOrMalformedAnswersGiveNothing) {
  EXPECT_FALSE(parse_eis_audit({}));
  auto refused = answer();
  refused[0].sw = 0x6A88;
  EXPECT_FALSE(parse_eis_audit(refused));
  auto bad_memory = answer();
  bad_memory[1].sw = 0x6A80;
  EXPECT_FALSE(parse_eis_audit(bad_memory));
  auto truncated = answer();
  truncated[0].data.pop_back();
  EXPECT_FALSE(parse_eis_audit(truncated));
  auto garbage = answer();
  garbage[1].data = Bytes{0xFF, 0x21, 0x05, 0x81};
  EXPECT_FALSE(parse_eis_audit(garbage));
  // No prefix of a good answer crashes or yields more than its whole entries.
  const auto whole = answer();
  std::size_t parsed = 0;
  for (std::size_t n = 0; n < whole[0].data.size(); ++n) {
    std::vector<apdu::Response> cut = {{Bytes(whole[0].data.begin(), whole[0].data.begin() + static_cast<long>(n)), 0x9000}};
    if (auto r = parse_eis_audit(cut)) {
      EXPECT_LT(r->isdps.size(), 2u) << n;
      ++parsed;
    }
  }
  EXPECT_LE(parsed, 1u);  // the first entry whole, no more
  // An empty list is no answer (it would empty the EIS).
  EXPECT_FALSE(parse_eis_audit({{Bytes{}, 0x9000}}));
}

TEST(EisAudit, TheEisTakesWhatTheCardSays) {
  m2m::Eis eis;
  eis.remaining_memory = 1;
  eis.profiles = {profile("8900000000000000001", kAidA, m2m::ProfileState::Disabled),
                  profile("8900000000000000002", kAidB, m2m::ProfileState::Disabled),
                  profile("8900000000000000003", kAidC, m2m::ProfileState::Created)};
  Change change;
  const std::string summary = apply_eis_audit(*parse_eis_audit(answer()), eis, change);
  // A: enabled with the fallback attribute; B: only its emergency attribute; C: gone.
  ASSERT_EQ(change.put.size(), 2u);
  EXPECT_EQ(change.put[0].iccid, "8900000000000000001");
  EXPECT_EQ(change.put[0].state, m2m::ProfileState::Enabled);
  EXPECT_TRUE(change.put[0].fallback_attribute);
  EXPECT_TRUE(change.put[1].emergency_profile_attribute);
  EXPECT_EQ(change.deleted, std::vector<std::string>{"8900000000000000003"});
  ASSERT_TRUE(change.remaining_memory);
  EXPECT_EQ(*change.remaining_memory, 123456);
  EXPECT_EQ(eis.remaining_memory, 123456);
  EXPECT_EQ(summary, "2 ISD-Ps, 2 changed, 1 removed, memory 123456");
  // Audited again with nothing changed: nothing to write.
  Change again;
  eis.profiles.pop_back();
  apply_eis_audit(*parse_eis_audit(answer()), eis, again);
  EXPECT_TRUE(again.put.empty());
  EXPECT_TRUE(again.deleted.empty());
}

}  // namespace
}  // namespace rsp::smsr
