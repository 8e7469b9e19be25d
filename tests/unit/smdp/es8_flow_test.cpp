// ES8 in process: the SM-DP library against the simulated M2M eUICC, the
// APDUs as they would travel in ES3 SendData scripts. CreateISDP (ISD-R),
// key establishment (ECKA scenario #3 through the ECASD), the SCP03t profile
// download into the ISD-P, EnableProfile (ISD-R); and the refusals, each with
// the card state it must leave.

#include <gtest/gtest.h>

#include <algorithm>

#include "rsp/apdu/status_words.hpp"
#include "rsp/common/file.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/euicc_m2m/create.hpp"
#include "rsp/euicc_m2m/es8_card.hpp"
#include "rsp/euicc_m2m/euicc.hpp"
#include "rsp/m2m/isdr_commands.hpp"
#include "rsp/pki/test_pki.hpp"
#include "rsp/smdp/es8.hpp"
#include "rsp/smdpp/sample_profile.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::smdp {
namespace {

namespace sw = apdu::sw;
using euicc_m2m::IsdpRecord;

/// One test PKI (P-256 only, for speed) and what the tests take from it.
struct Pki {
  test_support::TempDir dir;
  pki::TestPki made;
  const pki::TestPkiItem& item(pki::Role role) const {
    auto it = std::find_if(made.items.begin(), made.items.end(), [&](const auto& i) { return i.role == role; });
    EXPECT_NE(it, made.items.end());
    return *it;
  }
  pki::Certificate cert(pki::Role role) const { return pki::Certificate::load_file(item(role).cert_file)->front(); }
  /// CERT.DP.ECDSA and its key: the test PKI's M2M_SM_DP_ECDSA files.
  DpIdentity dp() const {
    auto it = std::find_if(made.items.begin(), made.items.end(), [](const auto& i) {
      return i.cert_file.filename().string().rfind("CERT_M2M_SM_DP_ECDSA_", 0) == 0;
    });
    EXPECT_NE(it, made.items.end());
    auto pem = read_file(it->key_file);
    return DpIdentity{pki::Certificate::load_file(it->cert_file)->front().der(),
                      crypto::EcKey::from_pem(std::string(pem->begin(), pem->end())).value()};
  }
  EcasdTrust trust() const { return EcasdTrust{{cert(pki::Role::Eum)}, {cert(pki::Role::Ci)}}; }
};

std::unique_ptr<Pki> make_pki() {
  auto p = std::make_unique<Pki>();
  pki::TestPkiOptions o;
  o.out_dir = p->dir.path();
  o.curves = {crypto::Curve::NistP256};
  auto made = pki::make_test_pki(o);
  EXPECT_TRUE(made) << (made ? "" : made.error().message);
  if (made) p->made = std::move(*made);
  return p;
}

/// The card's PKI and another one (another CI, EUM and DP), made once.
const Pki& card_pki() {
  static auto p = make_pki();
  return *p;
}
const Pki& other_pki() {
  static auto p = make_pki();
  return *p;
}

const Bytes kIccid = from_hex("98001032547698103299").value();

class Es8FlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path() / "card";
    auto sources = euicc::find_identity_sources(card_pki().dir.path());
    ASSERT_TRUE(sources);
    euicc_m2m::M2mCreateOptions o;
    o.dir = dir_;
    o.sources = *sources;
    o.smsr_id = "smsr.test";
    o.profiles = {{euicc_m2m::isdp_aid(0), from_hex("98001032547698103214").value(), "mno-boot", 0, true, true}};
    ASSERT_TRUE(euicc_m2m::create_m2m_euicc(o));
    reopen();
  }

  void reopen() {
    es8_.reset();
    card_.reset();
    auto card = euicc_m2m::M2mEuicc::open(dir_);
    ASSERT_TRUE(card) << card.error().message;
    card_ = std::move(*card);
    auto store = euicc_m2m::M2mStore::open(dir_);
    ASSERT_TRUE(store);
    auto es8 = euicc_m2m::Es8Card::open(card_->isd_r_shared(), *store);
    ASSERT_TRUE(es8) << es8.error().message;
    es8_ = std::move(*es8);
    auto identity = store->euicc().identity();
    ASSERT_TRUE(identity);
    eid_ = identity->eid;
    ecasd_cert_ = identity->curves.front().euicc_cert;
  }

  std::uint16_t isdr(const m2m::IsdrCommand& c) {
    auto bytes = m2m::build_apdu(c);
    EXPECT_TRUE(bytes);
    auto r = apdu::parse_response(card_->isd_r().execute(*bytes));
    EXPECT_TRUE(r);
    return r ? r->sw : 0;
  }

  void create_isdp(std::uint32_t quota = 64 * 1024) {
    ASSERT_EQ(isdr(m2m::CreateIsdp{aid_, quota}), sw::kOk);
  }

  /// Sends commands to the ISD-P; stops at the first refusal. The last answer.
  apdu::Response send(const std::vector<apdu::Command>& commands) {
    apdu::Response last;
    for (const auto& c : commands) {
      auto bytes = apdu::encode_command(c);
      EXPECT_TRUE(bytes);
      auto r = apdu::parse_response(es8_->execute(aid_, *bytes));
      EXPECT_TRUE(r);
      last = *r;
      if (last.sw != sw::kOk) break;
    }
    return last;
  }

  std::optional<IsdpRecord> isdp() {
    auto s = card_->isd_r().state();
    auto* p = s.find(aid_);
    return p ? std::optional<IsdpRecord>(*p) : std::nullopt;
  }

  /// Message 1, the card's RC, message 2 signed over it: the card's answer
  /// to message 2 (its DR and receipt), `ke` ready to finish.
  apdu::Response agree(KeyEstablishment& ke) {
    auto challenge = send(ke.commands());
    EXPECT_EQ(challenge.sw, sw::kOk);
    EXPECT_EQ(challenge.data.size(), 2 + m2m::es8::kRandomChallengeSize);  // '85' 10 RC
    auto agreed = ke.agree(challenge.data);
    EXPECT_TRUE(agreed) << (agreed ? "" : agreed.error().message);
    return send(ke.key_agreement_commands());
  }

  /// The whole key establishment; the SM-DP's keys.
  m2m::es8::DerivedKeys establish(m2m::es8::CardIdentifiers ids = {}) {
    auto ke = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_,
                                      m2m::es8::kDefaultKeyVersion, std::move(ids));
    EXPECT_TRUE(ke) << (ke ? "" : ke.error().message);
    auto r = agree(*ke);
    EXPECT_EQ(r.sw, sw::kOk);
    auto keys = ke->finish(r.data);
    EXPECT_TRUE(keys) << (keys ? "" : keys.error().message);
    return keys ? *keys : m2m::es8::DerivedKeys{};
  }

  Bytes upp(std::size_t filler = 3000) {
    smdpp::SampleProfileOptions o;
    o.filler = filler;
    return smdpp::make_sample_upp(kIccid, crypto::system_random(), o);
  }

  test_support::TempDir tmp_;
  std::filesystem::path dir_;
  std::unique_ptr<euicc_m2m::M2mEuicc> card_;
  std::unique_ptr<euicc_m2m::Es8Card> es8_;
  std::string eid_;
  Bytes ecasd_cert_;
  Bytes aid_ = euicc_m2m::isdp_aid(7);
};

TEST_F(Es8FlowTest, CreateKeysDownloadEnable) {
  create_isdp();
  auto keys = establish();
  // Both ends hold the same SCP03 key set, saved with the ISD-P.
  auto p = isdp();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->scp03_version, m2m::es8::kDefaultKeyVersion);
  EXPECT_EQ(p->scp03_enc, keys.enc);
  EXPECT_EQ(p->scp03_mac, keys.mac);
  EXPECT_EQ(p->scp03_dek, keys.dek);
  EXPECT_EQ(p->state, m2m::IsdpState::kSelectable);

  const Bytes package = upp();
  auto commands = protect_profile(keys, package);
  ASSERT_TRUE(commands);
  EXPECT_GT(commands->size(), 4U);  // several segments, several blocks each
  EXPECT_EQ(send(*commands).sw, sw::kOk);
  p = isdp();
  EXPECT_EQ(p->state, m2m::IsdpState::kDisabled);
  EXPECT_EQ(p->iccid, kIccid);
  EXPECT_EQ(p->profile_size, package.size());

  EXPECT_EQ(isdr(m2m::EnableProfile{aid_}), sw::kOk);
  EXPECT_EQ(isdp()->state, m2m::IsdpState::kEnabled);

  // The keys and the profile survive a restart.
  reopen();
  EXPECT_EQ(isdp()->scp03_enc, keys.enc);
  EXPECT_EQ(isdp()->state, m2m::IsdpState::kEnabled);
}

TEST_F(Es8FlowTest, EachRunHasAFreshEphemeralKeyAndDr) {
  auto a = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_);
  auto b = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_);
  ASSERT_TRUE(a && b);
  const Bytes rc_answer = m2m::es8::encode_certificate_answer(Bytes(16, 0x01));
  ASSERT_TRUE(a->agree(rc_answer) && b->agree(rc_answer));
  EXPECT_NE(a->key_agreement_commands().back().data, b->key_agreement_commands().back().data);
  EXPECT_FALSE(a->agree(rc_answer));  // once only
}

TEST_F(Es8FlowTest, EcasdCertificateOfAnotherEumIsRefused) {
  auto ke = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, other_pki().trust(), eid_);
  ASSERT_FALSE(ke);
  EXPECT_EQ(ke.error().code, Es8Failure::Code::EcasdCertificate);
  // The other PKI's eUICC certificate under the card's trust: refused as well.
  auto other = other_pki().cert(pki::Role::Euicc).der();
  auto ke2 = KeyEstablishment::start(card_pki().dp(), other, card_pki().trust(), eid_);
  ASSERT_FALSE(ke2);
  EXPECT_EQ(ke2.error().code, Es8Failure::Code::EcasdCertificate);
}

TEST_F(Es8FlowTest, EcasdCertificateWithBadSignatureIsRefused) {
  Bytes bad = ecasd_cert_;
  bad[bad.size() - 3] ^= 0x01;  // inside the signature value
  auto ke = KeyEstablishment::start(card_pki().dp(), bad, card_pki().trust(), eid_);
  ASSERT_FALSE(ke);
  EXPECT_EQ(ke.error().code, Es8Failure::Code::EcasdCertificate);
}

TEST_F(Es8FlowTest, EcasdCertificateOfAnotherEidIsRefused) {
  auto ke = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(),
                                    "89049032000000000000000000000000");
  ASSERT_FALSE(ke);
  EXPECT_EQ(ke.error().code, Es8Failure::Code::EcasdCertificate);
}

TEST_F(Es8FlowTest, WrongReceiptIsRefusedAndTheIsdpRolledBack) {
  create_isdp();
  auto ke = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_);
  ASSERT_TRUE(ke);
  auto r = agree(*ke);
  ASSERT_EQ(r.sw, sw::kOk);
  Bytes tampered = r.data;
  tampered.back() ^= 0x80;
  auto keys = ke->finish(tampered);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().code, Es8Failure::Code::ReceiptMismatch);
  // Once only: the genuine answer no longer yields keys.
  EXPECT_FALSE(ke->finish(r.data));
  // A DR changed in transit changes the keys: refused as well.
  auto ke2 = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_);
  ASSERT_TRUE(ke2->agree({}));
  Bytes wrong_dr = r.data;
  wrong_dr[2] ^= 0x01;
  EXPECT_EQ(ke2->finish(wrong_dr).error().code, Es8Failure::Code::ReceiptMismatch);
  EXPECT_EQ(ke2->finish(r.data).error().code, Es8Failure::Code::Crypto);  // used
  // SGP.02 §3.1: the SM-DP has the ISD-P deleted; nothing of it remains.
  EXPECT_EQ(isdr(m2m::DeleteProfile{aid_}), sw::kOk);
  EXPECT_FALSE(isdp());
}

TEST_F(Es8FlowTest, MalformedReceiptIsRefused) {
  create_isdp();
  auto ke = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_);
  ASSERT_TRUE(ke);
  EXPECT_EQ(ke->finish(from_hex("8501").value()).error().code, Es8Failure::Code::Crypto);  // no agreement yet
  EXPECT_EQ(ke->agree(from_hex("8501").value()).error().code, Es8Failure::Code::Malformed);  // not an RC
  ASSERT_TRUE(ke->agree({}));
  EXPECT_EQ(ke->finish(from_hex("8501").value()).error().code, Es8Failure::Code::Malformed);
}

TEST_F(Es8FlowTest, CardRefusesADpCertificateOfAnotherCi) {
  create_isdp();
  // The SM-DP of another PKI: the card does not trust its CI.
  auto ke = KeyEstablishment::start(other_pki().dp(), ecasd_cert_, card_pki().trust(), eid_);
  ASSERT_TRUE(ke);
  EXPECT_EQ(send(ke->commands()).sw, sw::kSecurityStatusNotSatisfied);
  EXPECT_EQ(isdp()->scp03_version, 0);
  EXPECT_TRUE(isdp()->scp03_enc.empty());
}

TEST_F(Es8FlowTest, CardRefusesAKeyAgreementSignedByAnotherKey) {
  create_isdp();
  auto dp = card_pki().dp();
  dp.key = crypto::EcKey::generate(crypto::Curve::NistP256).value();  // not the certificate's key
  auto ke = KeyEstablishment::start(dp, ecasd_cert_, card_pki().trust(), eid_);
  ASSERT_TRUE(ke);
  EXPECT_EQ(agree(*ke).sw, sw::kSecurityStatusNotSatisfied);
  EXPECT_EQ(isdp()->scp03_version, 0);
}

TEST_F(Es8FlowTest, CardRefusesKeyAgreementWithoutCertificate) {
  create_isdp();
  auto ke = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_);
  ASSERT_TRUE(ke);
  ASSERT_TRUE(ke->agree({}));
  auto key_agreement = ke->key_agreement_commands().back();  // message 2 alone, as a sequence of its own
  key_agreement.p2 = 0;
  EXPECT_EQ(send({key_agreement}).sw, sw::kConditionsNotSatisfied);
  EXPECT_EQ(isdp()->scp03_version, 0);
}

TEST_F(Es8FlowTest, SecondKeyEstablishmentOnTheSameIsdpIsRefused) {
  create_isdp();
  auto keys = establish();
  auto ke = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_);
  EXPECT_EQ(agree(*ke).sw, sw::kConditionsNotSatisfied);
  EXPECT_EQ(isdp()->scp03_enc, keys.enc);  // unchanged
}

// SGP.02 v3: message 2's signature must cover this establishment's random
// challenge. Signed over none (the one-sequence way of a host that ignores
// it), over another RC, or a message 2 replayed from an earlier
// establishment: 6982, no keys.
TEST_F(Es8FlowTest, CardRefusesAKeyAgreementNotSignedOverItsChallenge) {
  create_isdp();
  // No RC: message 1 and 2 in one sequence, signed over the body alone.
  {
    auto ke = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_);
    ASSERT_TRUE(ke->agree({}));
    auto all = ke->commands();
    for (const auto& c : ke->key_agreement_commands()) all.push_back(c);
    EXPECT_EQ(send(all).sw, sw::kSecurityStatusNotSatisfied);
    EXPECT_EQ(isdp()->scp03_version, 0);
  }
  // Another RC than the card's.
  {
    auto ke = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_);
    auto challenge = send(ke->commands());
    ASSERT_EQ(challenge.sw, sw::kOk);
    Bytes wrong = challenge.data;
    wrong.back() ^= 0x01;
    ASSERT_TRUE(ke->agree(wrong));
    EXPECT_EQ(send(ke->key_agreement_commands()).sw, sw::kSecurityStatusNotSatisfied);
    EXPECT_EQ(isdp()->scp03_version, 0);
  }
  // A message 2 from an earlier establishment (the card refused it, or the
  // answer was lost): the next certificate brings a new RC, the old
  // message 2 does not cover it.
  {
    auto first = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_);
    auto c1 = send(first->commands());
    ASSERT_EQ(c1.sw, sw::kOk);
    ASSERT_TRUE(first->agree(c1.data));
    auto second = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_);
    auto c2 = send(second->commands());
    ASSERT_EQ(c2.sw, sw::kOk);
    EXPECT_NE(c1.data, c2.data);  // a fresh RC
    EXPECT_EQ(send(first->key_agreement_commands()).sw, sw::kSecurityStatusNotSatisfied);
    EXPECT_EQ(isdp()->scp03_version, 0);
  }
  // Then a proper one goes through; its message 2 replayed afterwards (after a
  // new certificate) is refused too.
  auto ke = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_);
  auto r = agree(*ke);
  ASSERT_EQ(r.sw, sw::kOk);
  ASSERT_TRUE(ke->finish(r.data));
}

// The EIS's SIN and SDIN ('45' and SharedInfo, m2m/es8.hpp): the card's own
// identifiers give the same keys on both ends; another SDIN is refused.
TEST_F(Es8FlowTest, CardIdentifiersInTheKeyEstablishment) {
  const auto state = card_->isd_r().state();
  ASSERT_FALSE(state.sin.empty());
  ASSERT_FALSE(state.sdin.empty());
  create_isdp();
  auto keys = establish({state.sin, state.sdin});
  EXPECT_EQ(isdp()->scp03_enc, keys.enc);
  ASSERT_EQ(isdr(m2m::DeleteProfile{aid_}), sw::kOk);
  create_isdp();
  Bytes other = state.sdin;
  other.back() ^= 0x01;
  auto ke = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_,
                                    m2m::es8::kDefaultKeyVersion, {state.sin, other});
  ASSERT_TRUE(ke);
  EXPECT_EQ(agree(*ke).sw, sw::kWrongData);  // '45' is not this card's SDIN
  EXPECT_EQ(isdp()->scp03_version, 0);
  // SIN unknown to the SM-DP: no '45', SharedInfo without them, as before.
  auto without = establish({{}, state.sdin});
  EXPECT_EQ(isdp()->scp03_enc, without.enc);
}

TEST_F(Es8FlowTest, UnknownIsdpIsRefused) {
  auto ke = KeyEstablishment::start(card_pki().dp(), ecasd_cert_, card_pki().trust(), eid_);
  EXPECT_EQ(send(ke->commands()).sw, sw::kReferencedDataNotFound);
}

TEST_F(Es8FlowTest, TamperedScp03tBlockIsRefusedAndNothingInstalled) {
  create_isdp();
  auto keys = establish();
  auto commands = protect_profile(keys, upp());
  ASSERT_TRUE(commands);
  auto bad = *commands;
  bad[1].data[10] ^= 0x01;  // inside the first segment's ciphertext
  EXPECT_EQ(send(bad).sw, sw::kSecurityStatusNotSatisfied);
  auto p = isdp();
  EXPECT_EQ(p->state, m2m::IsdpState::kSelectable);
  EXPECT_TRUE(p->iccid.empty());
  // The ISD-P's keys are kept: the SM-DP may delete the ISD-P, or retry from the start.
  EXPECT_EQ(send(*commands).sw, sw::kOk);
  EXPECT_EQ(isdp()->state, m2m::IsdpState::kDisabled);
}

TEST_F(Es8FlowTest, ProfileUnderOtherKeysIsRefused) {
  create_isdp();
  auto keys = establish();
  keys.mac[0] ^= 0x01;
  auto commands = protect_profile(keys, upp());
  EXPECT_EQ(send(*commands).sw, sw::kSecurityStatusNotSatisfied);
  EXPECT_EQ(isdp()->state, m2m::IsdpState::kSelectable);
}

TEST_F(Es8FlowTest, ProfileLargerThanTheIsdpQuotaIsOutOfMemory) {
  create_isdp(2048);
  auto keys = establish();
  auto commands = protect_profile(keys, upp(6000));
  EXPECT_EQ(send(*commands).sw, sw::kNotEnoughMemory);
  auto p = isdp();
  EXPECT_EQ(p->state, m2m::IsdpState::kSelectable);
  EXPECT_TRUE(p->iccid.empty());
  // SGP.02 §3.1: rolled back by deleting the ISD-P.
  EXPECT_EQ(isdr(m2m::DeleteProfile{aid_}), sw::kOk);
  EXPECT_FALSE(isdp());
}

TEST_F(Es8FlowTest, ProfileBeforeKeysIsRefused) {
  create_isdp();
  m2m::es8::DerivedKeys keys;
  keys.enc = Bytes(16, 1);
  keys.mac = Bytes(16, 2);
  auto commands = protect_profile(keys, upp());
  EXPECT_EQ(send(*commands).sw, sw::kConditionsNotSatisfied);
}

TEST_F(Es8FlowTest, TruncatedDownloadIsRefusedAtTheEnd) {
  create_isdp();
  auto keys = establish();
  auto commands = protect_profile(keys, upp());
  // Leave out the blocks of the first segment: the counter and MAC chain break.
  std::vector<apdu::Command> cut(commands->begin() + 4, commands->end());
  EXPECT_NE(send(cut).sw, sw::kOk);
  EXPECT_EQ(isdp()->state, m2m::IsdpState::kSelectable);
}

TEST_F(Es8FlowTest, SecondProfileWithTheSameIccidIsRefused) {
  create_isdp();
  auto keys = establish();
  const Bytes package = upp();
  ASSERT_EQ(send(*protect_profile(keys, package)).sw, sw::kOk);
  aid_ = euicc_m2m::isdp_aid(8);
  create_isdp();
  auto keys2 = establish();
  EXPECT_EQ(send(*protect_profile(keys2, package)).sw, sw::kConditionsNotSatisfied);
  EXPECT_EQ(isdp()->state, m2m::IsdpState::kSelectable);
}

TEST_F(Es8FlowTest, GarbageIsRefusedWithoutChange) {
  create_isdp();
  apdu::Command c{0x80, 0xE2, 0x89, 0x00, from_hex("3A0205A603900103").value(), 256};
  EXPECT_EQ(send({c}).sw, sw::kConditionsNotSatisfied);  // no certificate first
  c.data = from_hex("3A01067F2103010203").value();
  EXPECT_EQ(send({c}).sw, sw::kSecurityStatusNotSatisfied);  // not a certificate
  c.data = from_hex("A603900103").value();  // the CRT without its DGI
  EXPECT_EQ(send({c}).sw, sw::kWrongData);
  c.data = from_hex("3A0703A00100").value();  // another DGI
  EXPECT_EQ(send({c}).sw, sw::kWrongData);
  c.data = from_hex("FF").value();
  EXPECT_EQ(send({c}).sw, sw::kWrongData);
  c.p2 = 5;  // out of sequence
  EXPECT_EQ(send({c}).sw, sw::kIncorrectP1P2);
  c.p2 = 0;
  c.p1 = 0x80;  // no BER-TLV or DGI structure
  EXPECT_EQ(send({c}).sw, sw::kIncorrectP1P2);
  EXPECT_EQ(isdp()->scp03_version, 0);
}

}  // namespace
}  // namespace rsp::smdp
