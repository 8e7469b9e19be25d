/// brainpoolP256r1 arithmetic: projective coordinates with the complete
/// addition formulas of Renes, Costello and Batina ("Complete addition
/// formulas for prime order elliptic curves", 2016, Algorithm 1, any a). The
/// curve has prime order (cofactor 1), so one formula serves every sum,
/// doubling and the point at infinity included: no branch on secret data.

#include "brainpool_p256r1.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <memory>

#include "mont256.hpp"

namespace rsp::crypto::brainpool {

using detail::Limbs;
using detail::Modulus;

namespace {

// RFC 5639 §3.4, limbs least significant first.
constexpr Modulus kP = detail::make_modulus(
    {0x2013481D1F6E5377, 0x6E3BF623D5262028, 0x3E660A909D838D72, 0xA9FB57DBA1EEA9BC});
constexpr Modulus kN = detail::make_modulus(
    {0x901E0E82974856A7, 0x8C397AA3B561A6F7, 0x3E660A909D838D71, 0xA9FB57DBA1EEA9BC});
constexpr Limbs kA = {0xE94A4B44F330B5D9, 0xFB8055C126DC5C6C, 0xEEF67530417AFFE7, 0x7D5A0975FC2C3057};
constexpr Limbs kB = {0x6BCCDC18FF8C07B6, 0x958416295CF7E1CE, 0xF330B5D9BBD77CBF, 0x26DC5C6CE94A4B44};
constexpr Limbs kGx = {0x3A4453BD9ACE3262, 0xB9DE27E1E3BD23C2, 0x2C4B482FFC81B7AF, 0x8BD2AEB9CB7E57CB};
constexpr Limbs kGy = {0x5C1D54C72F046997, 0xC27745132DED8E54, 0x97F8461A14611DC9, 0x547EF835C3DAC4FD};

// Field elements below are in Montgomery form modulo p.
constexpr Limbs kAm = detail::to_mont(kA, kP);
constexpr Limbs kBm = detail::to_mont(kB, kP);
constexpr Limbs kB3m = detail::add(detail::add(kBm, kBm, kP.m), kBm, kP.m);

constexpr Limbs fadd(const Limbs& a, const Limbs& b) { return detail::add(a, b, kP.m); }
constexpr Limbs fsub(const Limbs& a, const Limbs& b) { return detail::sub(a, b, kP.m); }
constexpr Limbs fmul(const Limbs& a, const Limbs& b) { return detail::mul(a, b, kP); }

/// (X : Y : Z) with x = X/Z, y = Y/Z; infinity is (0 : 1 : 0).
struct Pt {
  Limbs x, y, z;
};

constexpr Pt kInfinity = {{0, 0, 0, 0}, kP.one, {0, 0, 0, 0}};

/// P + Q for any P, Q (RCB Algorithm 1, with b3 = 3b).
Pt add(const Pt& p, const Pt& q) {
  Limbs t0 = fmul(p.x, q.x);
  Limbs t1 = fmul(p.y, q.y);
  Limbs t2 = fmul(p.z, q.z);
  Limbs t3 = fmul(fadd(p.x, p.y), fadd(q.x, q.y));
  Limbs t4 = fadd(t0, t1);
  t3 = fsub(t3, t4);
  t4 = fmul(fadd(p.x, p.z), fadd(q.x, q.z));
  Limbs t5 = fadd(t0, t2);
  t4 = fsub(t4, t5);
  t5 = fmul(fadd(p.y, p.z), fadd(q.y, q.z));
  Limbs x3 = fadd(t1, t2);
  t5 = fsub(t5, x3);
  Limbs z3 = fmul(kAm, t4);
  x3 = fmul(kB3m, t2);
  z3 = fadd(x3, z3);
  x3 = fsub(t1, z3);
  z3 = fadd(t1, z3);
  Limbs y3 = fmul(x3, z3);
  t1 = fadd(fadd(t0, t0), t0);
  t2 = fmul(kAm, t2);
  t4 = fmul(kB3m, t4);
  t1 = fadd(t1, t2);
  t2 = fmul(kAm, fsub(t0, t2));
  t4 = fadd(t4, t2);
  t0 = fmul(t1, t4);
  y3 = fadd(y3, t0);
  t0 = fmul(t5, t4);
  x3 = fsub(fmul(t3, x3), t0);
  t0 = fmul(t3, t1);
  z3 = fadd(fmul(t5, z3), t0);
  return {x3, y3, z3};
}

/// 2P, cheaper than add(P, P) (doubling "dbl-2007-bl" of the Explicit-Formulas
/// Database, any a). Its one exceptional input is infinity, which it would
/// map to (0 : 0 : 0); a masked select keeps infinity instead, without a branch.
/// (No point of order 2 exists: the group order is an odd prime.)
Pt dbl(const Pt& p) {
  const Limbs xx = fmul(p.x, p.x);
  const Limbs zz = fmul(p.z, p.z);
  const Limbs w = fadd(fmul(kAm, zz), fadd(fadd(xx, xx), xx));
  const Limbs yz = fmul(p.y, p.z);
  const Limbs s = fadd(yz, yz);
  const Limbs ss = fmul(s, s);
  const Limbs r = fmul(p.y, s);
  const Limbs rr = fmul(r, r);
  const Limbs xr = fadd(p.x, r);
  const Limbs b = fsub(fsub(fmul(xr, xr), xx), rr);
  const Limbs h = fsub(fmul(w, w), fadd(b, b));
  const Pt out{fmul(h, s), fsub(fmul(w, fsub(b, h)), fadd(rr, rr)), fmul(s, ss)};
  const std::uint64_t inf = detail::is_zero_mask(p.z);
  return {detail::select(inf, kInfinity.x, out.x), detail::select(inf, kInfinity.y, out.y),
          detail::select(inf, kInfinity.z, out.z)};
}

/// tab[idx] read without a secret-dependent address: every entry is loaded.
Pt lookup(const Pt (&tab)[16], std::uint64_t idx) {
  Pt r{};
  for (std::uint64_t j = 0; j < 16; ++j) {
    const std::uint64_t m = detail::mask_if_zero(j ^ idx);
    for (std::size_t k = 0; k < 4; ++k) {
      r.x[k] |= tab[j].x[k] & m;
      r.y[k] |= tab[j].y[k] & m;
      r.z[k] |= tab[j].z[k] & m;
    }
  }
  return r;
}

/// The 4-bit window i (0 = least significant) of a scalar.
std::uint64_t window(const Limbs& k, int i) {
  return (k[static_cast<std::size_t>(i) / 16] >> (4 * (i % 16))) & 0xF;
}

/// tab[i][j] = j · 16^i · G: k·G is then 64 additions and no doubling.
struct BaseTable {
  Pt tab[64][16];
};

const BaseTable& base_table() {
  static const std::unique_ptr<const BaseTable> table = [] {
    auto t = std::make_unique<BaseTable>();
    Pt base{detail::to_mont(kGx, kP), detail::to_mont(kGy, kP), kP.one};
    for (auto& row : t->tab) {
      row[0] = kInfinity;
      for (int j = 1; j < 16; ++j) row[j] = add(row[j - 1], base);
      base = add(row[15], base);
    }
    return std::unique_ptr<const BaseTable>(std::move(t));
  }();
  return *table;
}

Pt mul_base(const Limbs& k) {
  const BaseTable& t = base_table();
  Pt acc = kInfinity;
  for (int i = 0; i < 64; ++i) acc = add(acc, lookup(t.tab[i], window(k, i)));
  return acc;
}

/// k·P with a fixed 4-bit window: the same additions for every k.
Pt mul_point(const Limbs& k, const Pt& p) {
  Pt tab[16];
  tab[0] = kInfinity;
  for (int j = 1; j < 16; ++j) tab[j] = add(tab[j - 1], p);
  Pt acc = kInfinity;
  for (int i = 63; i >= 0; --i) {
    for (int d = 0; d < 4; ++d) acc = dbl(acc);
    acc = add(acc, lookup(tab, window(k, i)));
  }
  return acc;
}

/// Affine (x, y), plain integers; nullopt for infinity.
std::optional<std::pair<Limbs, Limbs>> to_affine(const Pt& p) {
  if (detail::is_zero(p.z)) return std::nullopt;
  const Limbs zi = detail::inverse(p.z, kP);
  return std::pair{detail::from_mont(fmul(p.x, zi), kP), detail::from_mont(fmul(p.y, zi), kP)};
}

Point encode(const Limbs& x, const Limbs& y) {
  Point out{};
  out[0] = 0x04;
  detail::to_be(x, out.data() + 1);
  detail::to_be(y, out.data() + 33);
  return out;
}

/// A validated public point in projective Montgomery form.
std::optional<Pt> decode(const Point& q) {
  if (q[0] != 0x04) return std::nullopt;
  const Limbs x = detail::from_be(q.data() + 1), y = detail::from_be(q.data() + 33);
  if (!detail::less(x, kP.m) || !detail::less(y, kP.m)) return std::nullopt;
  const Limbs xm = detail::to_mont(x, kP), ym = detail::to_mont(y, kP);
  // y^2 = x^3 + a·x + b
  const Limbs rhs = fadd(fmul(fadd(fmul(xm, xm), kAm), xm), kBm);
  if (!detail::equal(fmul(ym, ym), rhs)) return std::nullopt;
  return Pt{xm, ym, kP.one};
}

Limbs scalar_of(const Scalar& d) { return detail::from_be(d.data()); }

bool valid(const Limbs& k) { return !detail::is_zero(k) && detail::less(k, kN.m); }

/// An integer below 2^256 reduced modulo n (2^256 < 2n, so one subtraction).
Limbs mod_n(const Limbs& v) { return detail::reduce_once(v, 0, kN.m); }

/// Wipes secrets on scope exit.
template <class T>
struct Wiped {
  T value{};
  ~Wiped() { OPENSSL_cleanse(&value, sizeof value); }
};

}  // namespace

bool valid_scalar(const Scalar& d) { return valid(scalar_of(d)); }

bool valid_point(const Point& q) { return decode(q).has_value(); }

std::optional<Point> public_point(const Scalar& d) {
  Wiped<Limbs> k;
  k.value = scalar_of(d);
  if (!valid(k.value)) return std::nullopt;
  auto a = to_affine(mul_base(k.value));
  if (!a) return std::nullopt;
  return encode(a->first, a->second);
}

std::optional<Signature> sign(const Scalar& d, const std::array<std::uint8_t, 32>& digest) {
  Wiped<Limbs> dv, dm, k, km, kinv;
  dv.value = scalar_of(d);
  if (!valid(dv.value)) return std::nullopt;
  dm.value = detail::to_mont(dv.value, kN);
  const Limbs em = detail::to_mont(mod_n(detail::from_be(digest.data())), kN);
  for (int attempt = 0; attempt < 64; ++attempt) {
    Wiped<Scalar> raw;
    if (RAND_priv_bytes(raw.value.data(), static_cast<int>(raw.value.size())) != 1) return std::nullopt;
    k.value = scalar_of(raw.value);
    if (!valid(k.value)) continue;  // n is close to 2^256: rare
    auto x = to_affine(mul_base(k.value));
    if (!x) continue;
    const Limbs r = mod_n(x->first);
    if (detail::is_zero(r)) continue;
    // s = k^-1 (e + r·d) mod n
    km.value = detail::to_mont(k.value, kN);
    kinv.value = detail::inverse(km.value, kN);
    const Limbs rm = detail::to_mont(r, kN);
    const Limbs s =
        detail::from_mont(detail::mul(kinv.value, detail::add(em, detail::mul(rm, dm.value, kN), kN.m), kN), kN);
    if (detail::is_zero(s)) continue;
    Signature out{};
    detail::to_be(r, out.data());
    detail::to_be(s, out.data() + 32);
    return out;
  }
  return std::nullopt;
}

bool verify(const Point& q, const std::array<std::uint8_t, 32>& digest, const Signature& rs) {
  const Limbs r = detail::from_be(rs.data()), s = detail::from_be(rs.data() + 32);
  if (!valid(r) || !valid(s)) return false;
  auto qp = decode(q);
  if (!qp) return false;
  const Limbs w = detail::inverse(detail::to_mont(s, kN), kN);
  const Limbs em = detail::to_mont(mod_n(detail::from_be(digest.data())), kN);
  const Limbs u1 = detail::from_mont(detail::mul(em, w, kN), kN);
  const Limbs u2 = detail::from_mont(detail::mul(detail::to_mont(r, kN), w, kN), kN);
  const Pt sum = add(mul_base(u1), mul_point(u2, *qp));
  if (detail::is_zero(sum.z)) return false;
  // x(sum) mod n == r without an inversion: X == r·Z, or X == (r + n)·Z when
  // r + n < p (x lies in [0, p) and p < 2n).
  const Limbs rm = detail::to_mont(r, kP);
  if (detail::equal(fmul(rm, sum.z), sum.x)) return true;
  Limbs r_plus_n{};
  if (detail::add_limbs(r, kN.m, r_plus_n) != 0 || !detail::less(r_plus_n, kP.m)) return false;  // >= p
  return detail::equal(fmul(detail::to_mont(r_plus_n, kP), sum.z), sum.x);
}

std::optional<Scalar> shared_secret(const Scalar& d, const Point& q) {
  Wiped<Limbs> k;
  k.value = scalar_of(d);
  if (!valid(k.value)) return std::nullopt;
  auto qp = decode(q);
  if (!qp) return std::nullopt;
  auto a = to_affine(mul_point(k.value, *qp));
  if (!a) return std::nullopt;
  Scalar out{};
  detail::to_be(a->first, out.data());
  return out;
}

}  // namespace rsp::crypto::brainpool
