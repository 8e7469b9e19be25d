// The SQL catalog's kept one-time keys: the SM-DP+'s one-time private key
// of a download sealed with its order, and opened again for a retry by the
// same eUICC with the same otPK.EUICC.ECKA.

#include "rsp/common/secret_text.hpp"
#include "rsp/smdpp/es2_codes.hpp"
#include "sql_catalog_detail.hpp"

namespace rsp::smdpp {

using store::value;
using namespace sql_catalog_detail;

namespace {

/// The one-time private key as sealed with its order: a curve tag and the
/// raw scalar (33 bytes), cheap to make on every download; rows sealed before
/// hold the key's PKCS#8 PEM, which still reads.
constexpr std::uint8_t kKeptNist = 0x01;
constexpr std::uint8_t kKeptBrainpool = 0x02;
constexpr std::size_t kKeptScalarBytes = 32;

Bytes kept_key_plain(crypto::Curve curve, ByteView scalar) {
  Bytes out;
  out.reserve(1 + scalar.size());
  out.push_back(curve == crypto::Curve::BrainpoolP256r1 ? kKeptBrainpool : kKeptNist);
  out.insert(out.end(), scalar.begin(), scalar.end());
  return out;
}

crypto::CryptoResult<crypto::EcKey> kept_key_from_plain(ByteView plain) {
  if (plain.size() == 1 + kKeptScalarBytes && (plain[0] == kKeptNist || plain[0] == kKeptBrainpool))
    return crypto::EcKey::from_private_scalar(
        plain[0] == kKeptBrainpool ? crypto::Curve::BrainpoolP256r1 : crypto::Curve::NistP256, plain.subspan(1));
  return crypto::EcKey::from_pem(std::string_view(reinterpret_cast<const char*>(plain.data()), plain.size()));
}

/// The additional data a kept one-time key is sealed under: its order and
/// profile, so that a blob copied to another row does not open.
std::string one_time_key_label(std::int64_t order_id, const std::string& iccid) {
  return "smdpp-otsk/" + std::to_string(order_id) + "/" + iccid;
}

}  // namespace

std::optional<Bytes> SqlProfileCatalog::seal_one_time_key(std::int64_t order_id, const std::string& iccid,
                                                         const IssuedDownload& d) {
  if (!d.smdp_ot_key || d.euicc_otpk.empty()) return std::nullopt;
  auto scalar = d.smdp_ot_key->private_scalar();
  if (!scalar) return std::nullopt;
  Bytes plain = kept_key_plain(d.smdp_ot_key->curve(), *scalar);
  wipe(*scalar);
  auto sealed = inv_->seal_secret(one_time_key_label(order_id, iccid), plain);
  wipe(plain);
  // Without a key-encryption key nothing is kept: a retry gets a fresh key pair.
  if (!sealed) return std::nullopt;
  return std::move(*sealed);
}

SmdppResult<std::optional<crypto::EcKey>> SqlProfileCatalog::kept_one_time_key(const std::string& matching_id,
                                                                               const std::string& eid,
                                                                               ByteView euicc_otpk) {
  const auto id = order_id_of(matching_id);
  if (!id) return std::optional<crypto::EcKey>();
  RSP_DB_TRY(auto row, inv_->db().query_one(
                           "SELECT r.iccid, r.download_eid, r.download_curve, r.bpp_euicc_otpk, r.bpp_smdp_otsk"
                           " FROM orders r JOIN profiles p ON p.iccid = r.iccid"
                           " WHERE r.id = $1 AND r.active = 1 AND p.state = 'downloaded'",
                           {value(*id)}));
  if (!row) return std::optional<crypto::EcKey>();
  const auto kept_otpk = row->opt_blob(3);
  const auto sealed = row->opt_blob(4);
  // Only the eUICC the BPP went to, with the very otPK.EUICC.ECKA it was bound with.
  if (row->opt_text(1) != std::optional<std::string>(eid) || !kept_otpk || !sealed ||
      !equal_ct(*kept_otpk, euicc_otpk))
    return std::optional<crypto::EcKey>();
  RSP_TRY(Bytes plain, inv_->open_secret(one_time_key_label(*id, row->text(0)), *sealed));
  auto key = kept_key_from_plain(plain);
  wipe(plain);
  if (!key) return smdpp_error(es2codes::kExecutionError, "the kept one-time key does not read");
  return std::optional<crypto::EcKey>(std::move(*key));
}

}  // namespace rsp::smdpp
