// The ES8 key-establishment messages (m2m/es8.hpp): encode / decode round
// trips, strict refusals, STORE DATA blocking, and the derivation both ends
// share (same inputs, same keys; any input changed, other keys / receipt).

#include <gtest/gtest.h>

#include <algorithm>

#include "rsp/crypto/ecdsa.hpp"
#include "rsp/crypto/ecka.hpp"
#include "rsp/m2m/es8.hpp"

namespace rsp::m2m::es8 {
namespace {

const Bytes kPoint = [] {
  Bytes p(65, 0x11);
  p[0] = 0x04;
  return p;
}();

const Bytes kHostId = from_hex("A0A1A2A3A4A5A6A7A8A9AAABACADAEAF").value();

Bytes body_for(std::uint8_t version, std::uint8_t usage = kKeyUsageScp03,
               crypto::Curve curve = crypto::Curve::NistP256) {
  return encode_key_agreement_body(encode_crt(usage, version, kHostId), kPoint, curve);
}

TEST(Es8Messages, KeyAgreementRoundTrip) {
  auto body = body_for(0x31, kKeyUsageScp03, crypto::Curve::BrainpoolP256r1);
  auto message = encode_key_agreement_message(body, Bytes(64, 0x22));
  auto k = decode_key_agreement_message(message);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->key_version, 0x31);
  EXPECT_EQ(k->key_usage, kKeyUsageScp03);
  EXPECT_EQ(k->key_parameter_reference, 0x03);
  EXPECT_EQ(k->host_id, kHostId);
  EXPECT_EQ(k->ephemeral_point, kPoint);
  EXPECT_EQ(k->signature, Bytes(64, 0x22));
  EXPECT_EQ(k->signed_part, body);
  EXPECT_EQ(k->crt, encode_crt(kKeyUsageScp03, 0x31, kHostId));
  // DGI '3A02' { 'A6' scenario, usage, type, length, key id, version, counter, host ID },
  // then '7F49' { 'B0' point, 'F0' reference } (es8.hpp).
  EXPECT_EQ(to_hex(body),
            "3A0229A6279002030E95015C800188810110820101830131910084" "10A0A1A2A3A4A5A6A7A8A9AAABACADAEAF"
            "7F4946B041" + to_hex(kPoint) + "F00103");
  auto isdr = decode_key_agreement_message(encode_key_agreement_message(body_for(2, kKeyUsageIsdR), Bytes(64, 1)));
  ASSERT_TRUE(isdr);
  EXPECT_EQ(isdr->key_usage, kKeyUsageIsdR);
  EXPECT_EQ(isdr->key_parameter_reference, 0x00);
}

TEST(Es8Messages, KeyAgreementRefusals) {
  auto body = body_for(0x30);
  EXPECT_EQ(decode_key_agreement_message(body).error(), Es8Error::Malformed);  // no signature
  auto good = encode_key_agreement_message(body, Bytes(64, 1));
  ASSERT_TRUE(decode_key_agreement_message(good));
  Bytes trailing = good;
  trailing.push_back(0x00);
  EXPECT_EQ(decode_key_agreement_message(trailing).error(), Es8Error::Malformed);
  auto changed = [&](std::size_t at, std::uint8_t v) {
    Bytes m = good;
    m[at] = v;
    return decode_key_agreement_message(m);
  };
  EXPECT_EQ(changed(14, 0x80).error(), Es8Error::Unsupported);  // key type: DES instead of AES
  EXPECT_EQ(changed(8, 0x0A).error(), Es8Error::Unsupported);   // scenario without b3
  EXPECT_EQ(changed(11, 0x3C).error(), Es8Error::Unsupported);  // another key usage
  EXPECT_EQ(changed(20, 0x02).error(), Es8Error::Unsupported);  // key identifier
  EXPECT_EQ(changed(1, 0x01).error(), Es8Error::Malformed);     // DGI '3A01' is not message 2
  // The CRT bare, without its DGI (as this project sent it before).
  EXPECT_EQ(decode_key_agreement_message(Bytes(good.begin() + 3, good.end())).error(), Es8Error::Malformed);
  // '45' SDIN before the host ID: read; an empty one is refused.
  auto sdin_msg = encode_key_agreement_message(
      encode_key_agreement_body(encode_crt(kKeyUsageScp03, 0x30, kHostId, Bytes{1, 2}), kPoint, crypto::Curve::NistP256),
      Bytes(64, 1));
  auto with_sdin = decode_key_agreement_message(sdin_msg);
  ASSERT_TRUE(with_sdin);
  EXPECT_EQ(with_sdin->sdin, (Bytes{1, 2}));
  EXPECT_EQ(with_sdin->host_id, kHostId);
  Bytes crt = encode_crt(kKeyUsageScp03, 0x30, kHostId);
  Bytes empty_sdin(crt.begin(), crt.end() - 18);
  for (std::uint8_t b : {0x45, 0x00}) empty_sdin.push_back(b);
  empty_sdin.insert(empty_sdin.end(), crt.end() - 18, crt.end());
  empty_sdin[1] = static_cast<std::uint8_t>(empty_sdin.size() - 2);
  EXPECT_EQ(decode_key_agreement_message(encode_key_agreement_message(
                                             encode_key_agreement_body(empty_sdin, kPoint, crypto::Curve::NistP256),
                                             Bytes(64, 1)))
                .error(),
            Es8Error::Malformed);
  // A host ID that is not 16 bytes.
  auto short_host = encode_key_agreement_message(
      encode_key_agreement_body(encode_crt(kKeyUsageScp03, 0x30, Bytes(8, 1)), kPoint, crypto::Curve::NistP256),
      Bytes(64, 1));
  EXPECT_EQ(decode_key_agreement_message(short_host).error(), Es8Error::Malformed);
  EXPECT_EQ(decode_key_agreement_message(encode_key_agreement_message(body, {})).error(), Es8Error::Malformed);
  EXPECT_FALSE(decode_key_agreement_message({}));
}

TEST(Es8Messages, CertificateAndReceipt) {
  auto m = encode_certificate_message(Bytes(300, 0x30));
  // DGI '3A01' in the long length form (305 bytes: '7F21' 82 01 2C || 300).
  EXPECT_EQ(to_hex(Bytes(m.begin(), m.begin() + 10)), "3A01FF01317F2182012C");
  auto der = decode_certificate_message(m);
  ASSERT_TRUE(der);
  EXPECT_EQ(der->size(), 300U);
  EXPECT_FALSE(decode_certificate_message(from_hex("3A01037F2100").value()));
  EXPECT_FALSE(decode_certificate_message(from_hex("3A02047F210101").value()));
  EXPECT_FALSE(decode_certificate_message(from_hex("7F210101").value()));  // bare, without the DGI
  Bytes trailing = m;
  trailing.push_back(0);
  EXPECT_FALSE(decode_certificate_message(trailing));

  Receipt r{Bytes(16, 1), Bytes(16, 2)};
  auto back = decode_receipt(encode_receipt(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->dr, r.dr);
  EXPECT_EQ(back->receipt, r.receipt);
  EXPECT_FALSE(decode_receipt(encode_receipt({Bytes(15, 1), Bytes(16, 2)})));
  EXPECT_FALSE(decode_receipt(encode_receipt({Bytes(16, 1), Bytes(8, 2)})));
}

TEST(Es8Messages, SplitSequence) {
  auto cert = encode_certificate_message(Bytes(40, 0x30));
  auto ka = encode_key_agreement_message(body_for(0x30), Bytes(64, 1));
  Bytes both = cert;
  both.insert(both.end(), ka.begin(), ka.end());
  auto parts = split_key_establishment(both);
  ASSERT_TRUE(parts);
  ASSERT_TRUE(parts->certificate_message);
  EXPECT_TRUE(std::ranges::equal(*parts->certificate_message, cert));
  EXPECT_TRUE(std::ranges::equal(parts->rest, ka));
  auto alone = split_key_establishment(ka);
  ASSERT_TRUE(alone);
  EXPECT_FALSE(alone->certificate_message);
  EXPECT_EQ(alone->rest.size(), ka.size());
  auto only_cert = split_key_establishment(cert);
  ASSERT_TRUE(only_cert);
  EXPECT_TRUE(only_cert->rest.empty());
  EXPECT_FALSE(split_key_establishment(from_hex("3A0705A0030102").value()));  // another DGI
  EXPECT_FALSE(split_key_establishment(Bytes(cert.begin(), cert.end() - 1)));  // cut short
  EXPECT_FALSE(split_key_establishment({}));
}

TEST(Es8Messages, KeyEstablishmentBlocks) {
  auto cert = encode_certificate_message(Bytes(300, 0x30));
  auto ka = encode_key_agreement_message(body_for(0x30), Bytes(64, 1));
  auto blocks = key_establishment_blocks(cert, ka);
  ASSERT_EQ(blocks.size(), 3U);  // 309 bytes in two blocks, message 2 in its own
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    EXPECT_EQ(blocks[i].cla, 0x80);
    EXPECT_EQ(blocks[i].ins, 0xE2);
    EXPECT_EQ(blocks[i].p2, i);
    EXPECT_EQ(blocks[i].p1, i + 1 == blocks.size() ? 0x89 : 0x09);
  }
  EXPECT_EQ(blocks[2].data, ka);
}

TEST(Es8Messages, TwoRoundTrips) {
  auto cert = encode_certificate_message(Bytes(300, 0x30));
  auto ka = encode_key_agreement_message(body_for(0x30), Bytes(64, 1));
  auto first = certificate_blocks(cert);
  ASSERT_EQ(first.size(), 2U);
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].p1, 0x09);  // never the last block: message 2 follows
    EXPECT_EQ(first[i].p2, i);
  }
  auto second = key_agreement_blocks(ka, static_cast<std::uint8_t>(first.size()));
  ASSERT_EQ(second.size(), 1U);
  EXPECT_EQ(second[0].p1, 0x89);
  EXPECT_EQ(second[0].p2, 2);
  // The same blocks as the one sequence.
  auto both = key_establishment_blocks(cert, ka);
  EXPECT_EQ(both[0].data, first[0].data);
  EXPECT_EQ(both[2].data, second[0].data);
  EXPECT_EQ(both[2].p2, second[0].p2);
  EXPECT_TRUE(is_certificate_message(cert));
  EXPECT_FALSE(is_certificate_message(Bytes(cert.begin(), cert.end() - 1)));
  EXPECT_FALSE(is_certificate_message(ka));
}

TEST(Es8Messages, RandomChallenge) {
  const Bytes rc = from_hex("202122232425262728292A2B2C2D2E2F").value();
  auto answer = encode_certificate_answer(rc);
  EXPECT_EQ(to_hex(answer), "8510202122232425262728292A2B2C2D2E2F");
  auto back = decode_certificate_answer(answer);
  ASSERT_TRUE(back && *back);
  EXPECT_EQ(**back, rc);
  // No answer data: a card that issues no challenge.
  auto none = decode_certificate_answer({});
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  EXPECT_EQ(decode_certificate_answer(encode_certificate_answer(Bytes(8, 1))).error(), Es8Error::Malformed);
  EXPECT_EQ(decode_certificate_answer(from_hex("8610" + to_hex(rc)).value()).error(), Es8Error::Malformed);
  Bytes trailing = answer;
  trailing.push_back(0);
  EXPECT_EQ(decode_certificate_answer(trailing).error(), Es8Error::Malformed);
  // What '5F37' covers: the body, then '00' '85' L RC (as bagyenda/njiwa
  // signs it); without a challenge, the body alone.
  auto body = body_for(0x30);
  EXPECT_EQ(to_hex(signed_data(body, rc)), to_hex(body) + "008510202122232425262728292A2B2C2D2E2F");
  EXPECT_EQ(signed_data(body, std::nullopt), body);
}

TEST(Es8Messages, StoreDataBlocks) {
  auto blocks = store_data_blocks(Bytes(600, 0xAB));
  ASSERT_EQ(blocks.size(), 3U);
  EXPECT_EQ(blocks[0].p1, 0x10);
  EXPECT_EQ(blocks[1].p2, 1);
  EXPECT_EQ(blocks[2].p1, 0x90);
  EXPECT_EQ(blocks[0].data.size() + blocks[1].data.size() + blocks[2].data.size(), 600U);
  EXPECT_EQ(blocks[0].ins, 0xE2);
  auto one = store_data_blocks(Bytes(255, 1));
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one[0].p1, 0x90);
}

TEST(Es8Derivation, SameInputsSameKeysElseDifferent) {
  const Bytes shs(32, 0x5A), dr(16, 0x01);
  auto a = derive_keys(shs, dr, kHostId);
  auto b = derive_keys(shs, dr, kHostId);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->enc, b->enc);
  EXPECT_EQ(a->receipt_key.size(), 16U);
  // One key ('5C'): the ISD-P's key set is that key three times.
  EXPECT_EQ(a->enc, a->mac);
  EXPECT_EQ(a->mac, a->dek);
  EXPECT_NE(a->enc, a->receipt_key);
  auto three = derive_keys(shs, dr, kHostId, kKeyUsageIsdR);
  ASSERT_TRUE(three);
  EXPECT_NE(three->enc, three->mac);
  EXPECT_NE(three->mac, three->dek);
  auto c = derive_keys(shs, Bytes(16, 0x02), kHostId);
  EXPECT_NE(a->enc, c->enc);
  auto d = derive_keys(shs, dr, Bytes(16, 0x00));
  EXPECT_NE(a->enc, d->enc);  // the host ID is in SharedInfo
  EXPECT_EQ(derive_keys(shs, Bytes(15, 0), kHostId).error(), Es8Error::Malformed);
  EXPECT_EQ(derive_keys(shs, dr, Bytes(15, 0)).error(), Es8Error::Malformed);
  EXPECT_EQ(derive_keys(shs, dr, kHostId, 0x3C).error(), Es8Error::Unsupported);
  // SIN and SDIN enter SharedInfo only as a pair.
  const CardIdentifiers ids{Bytes{0x89}, Bytes{0x01, 0x02}};
  auto e = derive_keys(shs, dr, kHostId, kKeyUsageScp03, ids);
  ASSERT_TRUE(e);
  EXPECT_NE(a->enc, e->enc);
  auto f = derive_keys(shs, dr, kHostId, kKeyUsageScp03, CardIdentifiers{{}, Bytes{0x01, 0x02}});
  ASSERT_TRUE(f);
  EXPECT_EQ(a->enc, f->enc);
  auto g = derive_keys(shs, dr, kHostId, kKeyUsageScp03, CardIdentifiers{Bytes{0x89}, Bytes{0x01, 0x03}});
  ASSERT_TRUE(g);
  EXPECT_NE(e->enc, g->enc);
  EXPECT_EQ(derive_keys(shs, dr, kHostId, kKeyUsageScp03, CardIdentifiers{Bytes(128, 1), Bytes{1}}).error(),
            Es8Error::Malformed);

  auto crt = encode_crt(kKeyUsageScp03, 0x30, kHostId);
  auto r1 = compute_receipt(a->receipt_key, crt, dr);
  auto r2 = compute_receipt(a->receipt_key, crt, Bytes(16, 0x02));
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->size(), kReceiptSize);
  EXPECT_NE(*r1, *r2);
}

// Known answers, computed apart from this code (Python: hashlib SHA-256 for
// the X9.63 KDF, the cryptography package's AES-CMAC) from the formulas in
// es8.hpp; no public vector for this derivation was found.
TEST(Es8Derivation, KnownAnswers) {
  const Bytes shs(32, 0x5A);
  const Bytes dr = from_hex("0102030405060708090A0B0C0D0E0F10").value();
  EXPECT_EQ(to_hex(shared_info(kKeyUsageScp03, dr, kHostId)),
            "5C88100102030405060708090A0B0C0D0E0F1010A0A1A2A3A4A5A6A7A8A9AAABACADAEAF");
  auto one = derive_keys(shs, dr, kHostId, kKeyUsageScp03);
  ASSERT_TRUE(one);
  EXPECT_EQ(to_hex(one->receipt_key) + to_hex(one->enc),
            "A1539BB5B8592CFF8EE97AF95BB658052715785718099D9F0895EB972A0B6F94");
  auto crt = encode_crt(kKeyUsageScp03, 0x30, kHostId);
  EXPECT_EQ(to_hex(crt), "A6279002030E95015C80018881011082010183013091008410A0A1A2A3A4A5A6A7A8A9AAABACADAEAF");
  auto receipt = compute_receipt(one->receipt_key, crt, dr);
  ASSERT_TRUE(receipt);
  EXPECT_EQ(to_hex(*receipt), "C5F3A4DB0C2E3170EC8B5F24E9618FCB");

  auto three = derive_keys(shs, dr, kHostId, kKeyUsageIsdR);
  ASSERT_TRUE(three);
  EXPECT_EQ(to_hex(three->receipt_key) + to_hex(three->enc) + to_hex(three->mac) + to_hex(three->dek),
            "80D954DF00D4FCE376222B8F17C9B530AE464196615F77ADAEDE3F2FAE8B1D8C"
            "55D61802250C377A2F6C4978651E263FDCDFF0B7D1DAC59C84AD2CBDA9409B35");
  auto receipt3 = compute_receipt(three->receipt_key, encode_crt(kKeyUsageIsdR, 0x30, kHostId), dr);
  ASSERT_TRUE(receipt3);
  EXPECT_EQ(to_hex(*receipt3), "D518BAA3797B566BBA80BF64D29FAF5C");
}

// The variant with the card's identifiers ('45' SDIN in the CRT, SIN and
// SDIN length-prefixed after the host ID in SharedInfo, es8.hpp), computed
// apart in the same way.
TEST(Es8Derivation, KnownAnswersWithSinAndSdin) {
  const Bytes shs(32, 0x5A);
  const Bytes dr = from_hex("0102030405060708090A0B0C0D0E0F10").value();
  const CardIdentifiers ids{from_hex("8904903200").value(), from_hex("89049032001122334455667788990011").value()};
  EXPECT_EQ(to_hex(shared_info(kKeyUsageScp03, dr, kHostId, ids)),
            "5C88100102030405060708090A0B0C0D0E0F1010A0A1A2A3A4A5A6A7A8A9AAABACADAEAF"
            "0589049032001089049032001122334455667788990011");
  auto one = derive_keys(shs, dr, kHostId, kKeyUsageScp03, ids);
  ASSERT_TRUE(one);
  EXPECT_EQ(to_hex(one->receipt_key) + to_hex(one->enc),
            "B69898786D7CA1C0B4F5CF02289DAF6B053898A7E28A31AE717C2A192097ABAA");
  auto crt = encode_crt(kKeyUsageScp03, 0x30, kHostId, ids.sdin);
  EXPECT_EQ(to_hex(crt), "A6399002030E95015C800188810110820101830130910045108904903200112233445566778899001184"
                         "10A0A1A2A3A4A5A6A7A8A9AAABACADAEAF");
  auto receipt = compute_receipt(one->receipt_key, crt, dr);
  ASSERT_TRUE(receipt);
  EXPECT_EQ(to_hex(*receipt), "0C51FD3D48CB11AA083D50A05D0969EF");

  auto three = derive_keys(shs, dr, kHostId, kKeyUsageIsdR, ids);
  ASSERT_TRUE(three);
  EXPECT_EQ(to_hex(three->receipt_key) + to_hex(three->enc) + to_hex(three->mac) + to_hex(three->dek),
            "0F1FCF793371E3247CBD54E0E72D055493F44CE4261A1B7B208D2EE3CED32023"
            "82B7477D7B5AF0051ACA97750640A797A923D5A60142AFC05827CE40D6A1BA99");
  auto receipt3 = compute_receipt(three->receipt_key, encode_crt(kKeyUsageIsdR, 0x30, kHostId, ids.sdin), dr);
  ASSERT_TRUE(receipt3);
  EXPECT_EQ(to_hex(*receipt3), "666179C344D89A46615B902763DEF89B");
}

// The host end to end against a card computed here with the same codec:
// the signature covers the RC when given, '45' and SharedInfo follow the
// identifiers only when both are known.
TEST(Es8Host, SignsOverTheChallengeAndUsesIdentifiers) {
  auto signer = crypto::EcKey::generate(crypto::Curve::NistP256);
  auto ecasd = crypto::EcKey::generate(crypto::Curve::NistP256);
  ASSERT_TRUE(signer && ecasd);
  auto ecasd_public = crypto::EcKey::from_public_point(crypto::Curve::NistP256, ecasd->public_point());
  ASSERT_TRUE(ecasd_public);
  const Bytes rc(16, 0x77);
  const CardIdentifiers ids{Bytes{0x89, 0x04}, Bytes{0x01, 0x02, 0x03}};
  auto host = HostAgreement::start(*signer, *ecasd_public, 0x30, kKeyUsageScp03, rc, ids);
  ASSERT_TRUE(host);
  auto ka = decode_key_agreement_message(host->message());
  ASSERT_TRUE(ka);
  EXPECT_EQ(ka->sdin, ids.sdin);
  EXPECT_TRUE(crypto::verify_plain(*signer, signed_data(ka->signed_part, rc), ka->signature));
  EXPECT_FALSE(crypto::verify_plain(*signer, ka->signed_part, ka->signature));
  EXPECT_FALSE(crypto::verify_plain(*signer, signed_data(ka->signed_part, Bytes(16, 0x78)), ka->signature));
  // The card's side: ShS, DR, keys with the identifiers, receipt.
  auto epk = crypto::EcKey::from_public_point(crypto::Curve::NistP256, ka->ephemeral_point);
  auto shs = crypto::ecka_shared_secret(*ecasd, *epk);
  ASSERT_TRUE(shs);
  const Bytes dr(16, 0x33);
  auto card_keys = derive_keys(*shs, dr, ka->host_id, kKeyUsageScp03, ids);
  auto receipt = compute_receipt(card_keys->receipt_key, ka->crt, dr);
  auto keys = host->finish(encode_receipt({dr, *receipt}));
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->enc, card_keys->enc);
  // A card that derived without the identifiers: the receipt does not verify.
  auto host2 = HostAgreement::start(*signer, *ecasd_public, 0x30, kKeyUsageScp03, std::nullopt, ids);
  ASSERT_TRUE(host2);
  auto ka2 = decode_key_agreement_message(host2->message());
  ASSERT_TRUE(ka2);
  EXPECT_TRUE(crypto::verify_plain(*signer, ka2->signed_part, ka2->signature));  // no RC: the body alone
  auto epk2 = crypto::EcKey::from_public_point(crypto::Curve::NistP256, ka2->ephemeral_point);
  auto shs2 = crypto::ecka_shared_secret(*ecasd, *epk2);
  auto plain_keys = derive_keys(*shs2, dr, ka2->host_id, kKeyUsageScp03);
  auto receipt2 = compute_receipt(plain_keys->receipt_key, ka2->crt, dr);
  EXPECT_EQ(host2->finish(encode_receipt({dr, *receipt2})).error(), Es8Error::Receipt);
  // Only one identifier known: no '45'.
  auto host3 = HostAgreement::start(*signer, *ecasd_public, 0x30, kKeyUsageScp03, rc, CardIdentifiers{{}, Bytes{1}});
  ASSERT_TRUE(host3);
  EXPECT_TRUE(decode_key_agreement_message(host3->message())->sdin.empty());
  // An RC of another length is refused.
  EXPECT_EQ(HostAgreement::start(*signer, *ecasd_public, 0x30, kKeyUsageScp03, Bytes(8, 1)).error(),
            Es8Error::Malformed);
}

}  // namespace
}  // namespace rsp::m2m::es8
