// The ISD-R's part of the SM-SR change (SGP.02 §3.8) on its own: the new
// SM-SR's key establishment (ECKA scenario #3 with the ECASD) gives both
// ends the same new SCP80 key set and SCP81 PSK, saved durably; the old
// SM-SR's key set is deleted and the new PSK takes its place; and every
// refusal: no certificate, a certificate not under the CI, a bad signature,
// an ISD-P key usage, a key version in use, blocks out of order, a deletion
// that would leave the card unreachable.
#include "m2m_fixture.hpp"
#include "rsp/apdu/status_words.hpp"
#include "rsp/m2m/es7.hpp"
#include "rsp/m2m/es8.hpp"
#include "rsp/pki/certificate.hpp"

namespace rsp::euicc_m2m::test {
namespace {

namespace sw = apdu::sw;
namespace es8 = m2m::es8;

class SmsrChangeCardTest : public M2mTest {
 protected:
  void SetUp() override {
    M2mTest::SetUp();
    auto store = M2mStore::open(dir_);
    ASSERT_TRUE(store);
    auto identity = store->euicc().identity();
    ASSERT_TRUE(identity);
    const auto& curve = identity->curves.front();
    auto ecasd = pki::Certificate::from_der(curve.euicc_cert);
    ASSERT_TRUE(ecasd);
    auto pk = ecasd->public_key();
    ASSERT_TRUE(pk);
    ecasd_.emplace(std::move(*pk));
    sr_ = smsr_signing_identity(curve.curve);
    ASSERT_TRUE(sr_) << "no signing certificate for the card's curve";
    eum_cert_ = curve.eum_cert;
  }

  /// Every STORE DATA block of `message` (DGI format, es8.hpp); the last one's response.
  apdu::Response store(ByteView message) {
    apdu::Response last;
    for (auto c : es8::store_data_blocks(message)) {
      c.p1 = static_cast<std::uint8_t>(es8::kStoreDataP1Dgi | (c.p1 & es8::kStoreDataP1Last));
      last = card_->isd_r().execute(c);
      if (last.sw != sw::kOk) return last;
    }
    return last;
  }
  apdu::Response certificate(ByteView der) { return store(es8::encode_certificate_message(der)); }
  /// CERT.SR.ECDSA sent; the ISD-R's random challenge (m2m/es8.hpp).
  std::optional<Bytes> challenge() {
    auto r = certificate(sr_->certificate);
    EXPECT_EQ(r.sw, sw::kOk);
    auto rc = es8::decode_certificate_answer(r.data);
    EXPECT_TRUE(rc && *rc);
    return rc ? *rc : std::nullopt;
  }

  /// The whole key establishment for key version `v`; the keys the host derived.
  std::optional<es8::DerivedKeys> establish(std::uint8_t v) {
    auto rc = challenge();
    auto host = es8::HostAgreement::start(sr_->key, *ecasd_, v, es8::kKeyUsageIsdR, rc);
    EXPECT_TRUE(host);
    if (!host) return std::nullopt;
    auto answer = store(host->message());
    EXPECT_EQ(answer.sw, sw::kOk);
    auto keys = host->finish(answer.data);
    EXPECT_TRUE(keys);
    return keys ? std::optional<es8::DerivedKeys>(std::move(*keys)) : std::nullopt;
  }

  std::uint16_t delete_keys(std::uint8_t v) { return card_->isd_r().execute(m2m::build_delete_key_set(v)).sw; }
  std::string eid() { return to_hex(card_->isd_r().eid()); }

  std::optional<crypto::EcKey> ecasd_;
  std::optional<SigningIdentity> sr_;
  Bytes eum_cert_;
};

TEST_F(SmsrChangeCardTest, NewKeySetThenOldOneDeleted) {
  const auto before = card_->isd_r().state();
  ASSERT_EQ(before.scp80.size(), 1u);
  const std::uint8_t old_version = before.scp80[0].version;
  const std::uint8_t v = old_version + 1;
  auto keys = establish(v);
  ASSERT_TRUE(keys);

  auto s = card_->isd_r().state();
  ASSERT_EQ(s.scp80.size(), 2u);
  EXPECT_EQ(s.scp80[1].version, v);
  EXPECT_EQ(s.scp80[1].kic, keys->enc);
  EXPECT_EQ(s.scp80[1].kid, keys->mac);
  EXPECT_EQ(s.scp80[1].counter, 0u);
  // The old SM-SR's PSK still opens the sessions until its key set goes.
  EXPECT_EQ(s.scp81.identity, before.scp81.identity);
  ASSERT_TRUE(s.scp81_additional);
  EXPECT_EQ(s.scp81_additional->version, v);
  EXPECT_EQ(s.scp81_additional->psk.identity, m2m::es7::additional_psk_identity(eid(), v));
  EXPECT_EQ(s.scp81_additional->psk.key, keys->dek);
  // A second key establishment while one waits is refused.
  auto again = es8::HostAgreement::start(sr_->key, *ecasd_, v + 1, es8::kKeyUsageIsdR, challenge());
  ASSERT_TRUE(again);
  EXPECT_EQ(store(again->message()).sw, sw::kConditionsNotSatisfied);

  // Durable: a restarted card has it.
  reopen();
  ASSERT_TRUE(card_->isd_r().state().scp81_additional);

  // The old SM-SR's key set is deleted: the new PSK is the ISD-R's.
  EXPECT_EQ(delete_keys(old_version), sw::kOk);
  s = card_->isd_r().state();
  ASSERT_EQ(s.scp80.size(), 1u);
  EXPECT_EQ(s.scp80[0].version, v);
  EXPECT_EQ(s.scp81.identity, m2m::es7::additional_psk_identity(eid(), v));
  EXPECT_EQ(s.scp81.key, keys->dek);
  EXPECT_EQ(s.scp81_version, v);
  EXPECT_FALSE(s.scp81_additional);
  reopen();
  EXPECT_EQ(card_->isd_r().state().scp81_version, v);
  // Gone, and the last key set stays.
  EXPECT_EQ(delete_keys(old_version), sw::kReferencedDataNotFound);
  EXPECT_EQ(delete_keys(v), sw::kConditionsNotSatisfied);
  EXPECT_EQ(card_->isd_r().state().scp80.size(), 1u);
}

// The card's own SIN and SDIN: '45' and SharedInfo on both ends give the
// same keys; a message 1 sent in blocks that do not end the sequence is
// answered with the RC at the block completing it, P2 counting on.
TEST_F(SmsrChangeCardTest, IdentifiersAndTwoRoundTrips) {
  const auto st = card_->isd_r().state();
  ASSERT_FALSE(st.sin.empty());
  auto blocks = es8::certificate_blocks(es8::encode_certificate_message(sr_->certificate));
  apdu::Response last;
  for (const auto& c : blocks) last = card_->isd_r().execute(c);
  ASSERT_EQ(last.sw, sw::kOk);
  auto rc = es8::decode_certificate_answer(last.data);
  ASSERT_TRUE(rc && *rc);
  auto host = es8::HostAgreement::start(sr_->key, *ecasd_, 2, es8::kKeyUsageIsdR, *rc,
                                        es8::CardIdentifiers{st.sin, st.sdin});
  ASSERT_TRUE(host);
  for (const auto& c : es8::key_agreement_blocks(host->message(), static_cast<std::uint8_t>(blocks.size())))
    last = card_->isd_r().execute(c);
  ASSERT_EQ(last.sw, sw::kOk);
  auto keys = host->finish(last.data);
  ASSERT_TRUE(keys);
  EXPECT_EQ(card_->isd_r().state().scp80.back().kic, keys->enc);
}

TEST_F(SmsrChangeCardTest, DeletingTheOnlyKeySetIsRefused) {
  const std::uint8_t v = card_->isd_r().state().scp80[0].version;
  EXPECT_EQ(delete_keys(v), sw::kConditionsNotSatisfied);
  EXPECT_EQ(delete_keys(9), sw::kReferencedDataNotFound);
  EXPECT_EQ(card_->isd_r().state().scp80.size(), 1u);
}

TEST_F(SmsrChangeCardTest, KeyAgreementRefusals) {
  const std::uint8_t v = 2;
  auto host = es8::HostAgreement::start(sr_->key, *ecasd_, v, es8::kKeyUsageIsdR);
  ASSERT_TRUE(host);
  // No certificate first.
  EXPECT_EQ(store(host->message()).sw, sw::kConditionsNotSatisfied);
  // A certificate that is not under the CI as an SM-SR's: the EUM's.
  EXPECT_EQ(certificate(eum_cert_).sw, sw::kSecurityStatusNotSatisfied);
  EXPECT_EQ(store(host->message()).sw, sw::kConditionsNotSatisfied);
  // Signed by another key than the certificate's.
  auto other = crypto::EcKey::generate(sr_->key.curve());
  ASSERT_TRUE(other);
  auto forged = es8::HostAgreement::start(*other, *ecasd_, v, es8::kKeyUsageIsdR, challenge());
  ASSERT_TRUE(forged);
  EXPECT_EQ(store(forged->message()).sw, sw::kSecurityStatusNotSatisfied);
  // SGP.02 v3: signed over no random challenge, another one, or one from an
  // earlier establishment (a replayed message 2): refused.
  for (int k = 0; k < 3; ++k) {
    auto rc = challenge();
    ASSERT_TRUE(rc);
    std::optional<Bytes> signed_rc;
    if (k == 1) {
      signed_rc = *rc;
      signed_rc->front() ^= 0x01;
    }
    auto h = es8::HostAgreement::start(sr_->key, *ecasd_, v, es8::kKeyUsageIsdR, signed_rc);
    ASSERT_TRUE(h);
    if (k == 2) {
      // Signed over the right RC, but sent after the next certificate (a new RC).
      auto earlier = es8::HostAgreement::start(sr_->key, *ecasd_, v, es8::kKeyUsageIsdR, rc);
      ASSERT_TRUE(challenge());
      EXPECT_EQ(store(earlier->message()).sw, sw::kSecurityStatusNotSatisfied);
      continue;
    }
    EXPECT_EQ(store(h->message()).sw, sw::kSecurityStatusNotSatisfied);
  }
  // '45' that is not the card's SDIN.
  {
    const auto st = card_->isd_r().state();
    ASSERT_FALSE(st.sdin.empty());
    Bytes other_sdin = st.sdin;
    other_sdin.back() ^= 0x01;
    auto h = es8::HostAgreement::start(sr_->key, *ecasd_, v, es8::kKeyUsageIsdR, challenge(),
                                       es8::CardIdentifiers{st.sin, other_sdin});
    ASSERT_TRUE(h);
    EXPECT_EQ(store(h->message()).sw, sw::kWrongData);
  }
  // An ISD-P's key usage is not the ISD-R's.
  auto scp03 = es8::HostAgreement::start(sr_->key, *ecasd_, v, es8::kKeyUsageScp03, challenge());
  ASSERT_TRUE(scp03);
  EXPECT_EQ(store(scp03->message()).sw, sw::kWrongData);
  // The key version of the key set in use, and one outside 1..15.
  const std::uint8_t used = card_->isd_r().state().scp80[0].version;
  for (std::uint8_t bad : {used, std::uint8_t{0x30}}) {
    auto h = es8::HostAgreement::start(sr_->key, *ecasd_, bad, es8::kKeyUsageIsdR, challenge());
    ASSERT_TRUE(h);
    EXPECT_NE(store(h->message()).sw, sw::kOk);
  }
  // Blocks out of sequence.
  auto blocks = es8::key_establishment_blocks(es8::encode_certificate_message(sr_->certificate), Bytes(8, 0x3A));
  ASSERT_GE(blocks.size(), 2u);
  EXPECT_EQ(card_->isd_r().execute(blocks[1]).sw, sw::kIncorrectP1P2);
  // Nothing changed on the card.
  auto s = card_->isd_r().state();
  EXPECT_EQ(s.scp80.size(), 1u);
  EXPECT_FALSE(s.scp81_additional);
  // And a key establishment after all that still works.
  EXPECT_TRUE(establish(v));
}

TEST_F(SmsrChangeCardTest, ReceiptBindsTheKeys) {
  auto host = es8::HostAgreement::start(sr_->key, *ecasd_, 2, es8::kKeyUsageIsdR, challenge());
  ASSERT_TRUE(host);
  auto answer = store(host->message());
  ASSERT_EQ(answer.sw, sw::kOk);
  Bytes tampered = answer.data;
  tampered.back() ^= 0x01;
  auto keys = host->finish(tampered);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error(), es8::Es8Error::Receipt);
  // Once only.
  EXPECT_FALSE(host->finish(answer.data));
}

}  // namespace
}  // namespace rsp::euicc_m2m::test
