/// ECDSA-SHA256 over EVP_DigestSign/EVP_DigestVerify, plus strict conversion
/// between DER (X.690) and plain r||s (BSI TR-03111 §5.2.2).

#include "rsp/crypto/ecdsa.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <optional>

#include "brainpool_p256r1.hpp"
#include "ossl.hpp"
#include "rsp/crypto/sha256.hpp"

namespace rsp::crypto {

using detail::fail;
using detail::MdCtxPtr;
using Code = CryptoError::Code;

namespace {

constexpr std::size_t kScalar = 32;

/// Parses one DER INTEGER at `pos`; appends its 32-byte big-endian value to `out`.
std::optional<std::size_t> parse_integer(ByteView der, std::size_t pos, Bytes& out) {
  if (pos + 2 > der.size() || der[pos] != 0x02) return std::nullopt;
  std::size_t len = der[pos + 1];
  if (len == 0 || len > kScalar + 1 || pos + 2 + len > der.size()) return std::nullopt;
  ByteView v = der.subspan(pos + 2, len);
  if (v[0] & 0x80) return std::nullopt;                          // negative
  if (len > 1 && v[0] == 0 && !(v[1] & 0x80)) return std::nullopt;  // not minimal
  if (v[0] == 0) v = v.subspan(1);
  if (v.empty() || v.size() > kScalar) return std::nullopt;  // zero or too long
  out.insert(out.end(), kScalar - v.size(), 0);
  out.insert(out.end(), v.begin(), v.end());
  return pos + 2 + len;
}

void append_integer(Bytes& out, ByteView be) {
  std::size_t skip = 0;
  while (skip < be.size() && be[skip] == 0) ++skip;
  ByteView v = be.subspan(skip);
  bool pad = (v[0] & 0x80) != 0;
  out.push_back(0x02);
  out.push_back(static_cast<std::uint8_t>(v.size() + (pad ? 1 : 0)));
  if (pad) out.push_back(0x00);
  out.insert(out.end(), v.begin(), v.end());
}

/// brainpoolP256r1 signing on our arithmetic (brainpool_p256r1.hpp); r || s.
CryptoResult<Bytes> sign_brainpool(const EcKey& key, ByteView message) {
  Sha256Digest digest{};
  if (!sha256(message, digest)) return fail(Code::Internal, "SHA-256 failed");
  brainpool::Scalar d{};
  if (!detail::private_scalar(key, d)) return fail(Code::Internal, "private key unavailable");
  auto sig = brainpool::sign(d, digest);
  OPENSSL_cleanse(d.data(), d.size());
  if (!sig) return fail(Code::Internal, "ECDSA signing failed");
  return Bytes(sig->begin(), sig->end());
}

/// brainpoolP256r1 verification of r || s (range-checked there).
CryptoResult<void> verify_brainpool(const EcKey& key, ByteView message, ByteView plain) {
  brainpool::Point q{};
  brainpool::Signature rs{};
  if (!detail::public_point(key, q) || plain.size() != rs.size())
    return fail(Code::InvalidKey, "bad key or signature size");
  std::copy(plain.begin(), plain.end(), rs.begin());
  Sha256Digest digest{};
  if (!sha256(message, digest)) return fail(Code::Internal, "SHA-256 failed");
  if (!brainpool::verify(q, digest, rs)) return fail(Code::VerifyFailed, "ECDSA signature does not verify");
  return {};
}

bool all_zero(ByteView v) {
  return std::all_of(v.begin(), v.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace

CryptoResult<Bytes> der_to_plain(ByteView der) {
  // The largest valid encoding is 72 bytes, so the SEQUENCE length is short form.
  if (der.size() < 8 || der.size() > kMaxDerSignatureSize || der[0] != 0x30 ||
      der[1] != der.size() - 2)
    return fail(Code::InvalidSignature, "signature is not a DER SEQUENCE of the right length");
  Bytes out;
  out.reserve(kPlainSignatureSize);
  auto after_r = parse_integer(der, 2, out);
  if (!after_r) return fail(Code::InvalidSignature, "malformed r in DER signature");
  auto after_s = parse_integer(der, *after_r, out);
  if (!after_s) return fail(Code::InvalidSignature, "malformed s in DER signature");
  if (*after_s != der.size()) return fail(Code::InvalidSignature, "trailing bytes in DER signature");
  return out;
}

CryptoResult<Bytes> plain_to_der(ByteView plain) {
  if (plain.size() != kPlainSignatureSize)
    return fail(Code::InvalidSignature, "plain signature must be 64 bytes");
  ByteView r = plain.first(kScalar), s = plain.last(kScalar);
  if (all_zero(r) || all_zero(s)) return fail(Code::InvalidSignature, "r or s is zero");
  Bytes body;
  append_integer(body, r);
  append_integer(body, s);
  Bytes out{0x30, static_cast<std::uint8_t>(body.size())};
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

CryptoResult<Bytes> sign_der(const EcKey& key, ByteView message) {
  if (!key.has_private()) return fail(Code::InvalidKey, "signing needs a private key");
  if (key.curve() == Curve::BrainpoolP256r1) {
    RSP_TRY(Bytes plain, sign_brainpool(key, message));
    return plain_to_der(plain);
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.evp()) != 1)
    return fail(Code::Internal, "EVP_DigestSignInit failed");
  Bytes sig(kMaxDerSignatureSize);
  std::size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1)
    return fail(Code::Internal, "ECDSA signing failed");
  sig.resize(len);
  return sig;
}

CryptoResult<Bytes> sign_plain(const EcKey& key, ByteView message) {
  if (!key.has_private()) return fail(Code::InvalidKey, "signing needs a private key");
  if (key.curve() == Curve::BrainpoolP256r1) return sign_brainpool(key, message);
  RSP_TRY(Bytes der, sign_der(key, message));
  return der_to_plain(der);
}

CryptoResult<void> verify_der(const EcKey& key, ByteView message, ByteView signature) {
  RSP_TRY(Bytes plain, der_to_plain(signature));  // strict DER before OpenSSL sees it
  if (key.curve() == Curve::BrainpoolP256r1) return verify_brainpool(key, message, plain);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.evp()) != 1)
    return fail(Code::Internal, "EVP_DigestVerifyInit failed");
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                       message.size()) != 1)
    return fail(Code::VerifyFailed, "ECDSA signature does not verify");
  return {};
}

CryptoResult<void> verify_plain(const EcKey& key, ByteView message, ByteView signature) {
  RSP_TRY(Bytes der, plain_to_der(signature));  // r, s non-zero, 64 bytes
  if (key.curve() == Curve::BrainpoolP256r1) return verify_brainpool(key, message, signature);
  return verify_der(key, message, der);
}

}  // namespace rsp::crypto
